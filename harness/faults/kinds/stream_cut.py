"""``stream_cut``: a streamed model answer ends part-way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fakes.base import Operation, Reply
from harness.faults.kinds._model import ModelAnswerKind
from harness.faults.registry import register
from harness.models.damage import cut_stream

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec


@register
class StreamCut(ModelAnswerKind):
    """The event stream of a streamed model call (``stream: true``) stops at
    an event boundary halfway through the first tool call's argument deltas
    (else halfway through the text): no finish reason, no ``[DONE]``,
    ``message_stop`` or ``response.completed``. The connection closes cleanly,
    as when a proxy ends a long stream; the SDK sees a stream that just ends.
    Calls without ``stream: true`` do not match."""

    name = "stream_cut"
    summary = "a streamed model answer ends part-way (mid tool-call arguments)"
    order = 190
    doc_sees = (
        "streamed model calls only: the stream ends part-way, in the middle of a"
        " tool call's arguments"
    )

    def applies(
        self, fault: FaultSpec, op: Operation, params: Mapping[str, Any]
    ) -> bool:
        return super().applies(fault, op, params) and bool(params.get("stream"))

    def resend(
        self, fault: FaultSpec, reply: Reply, request: Mapping[str, Any]
    ) -> Reply:
        if reply.raw is None:
            return reply
        return Reply(
            status=reply.status,
            body=reply.body,
            headers=reply.headers,
            raw=cut_stream(reply.raw),
        )
