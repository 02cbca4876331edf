"""``refusal``: the model declines to answer, as each provider says it."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fakes.base import Reply
from harness.faults.kinds._model import ModelAnswerKind
from harness.faults.registry import register
from harness.models.damage import refused

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec

#: What the model says by default.
REFUSAL = "I'm sorry, but I can't help with that."


@register
class Refusal(ModelAnswerKind):
    """The model answers with a refusal instead of its scripted turn: OpenAI
    Chat ``message.refusal`` (``content`` null, no tool calls), a Responses
    ``refusal`` content part, Anthropic ``stop_reason: "refusal"`` (text written
    before it kept, tool calls dropped); streamed as each provider streams it."""

    name = "refusal"
    summary = "the model refuses: its provider's refusal instead of its answer"
    order = 170
    doc_params = "`refusal`"
    doc_sees = (
        "model calls only: chat `message.refusal`, a Responses `refusal` part,"
        " Anthropic `stop_reason: refusal`"
    )
    params = ("refusal",)
    schemas = MappingProxyType(
        {
            "refusal": {
                "type": "string",
                "minLength": 1,
                "description": "refusal only: what the model says (default: I'm"
                " sorry, but I can't help with that.)",
            },
        }
    )
    choices = ({},)

    def load(self, params: dict[str, Any]) -> None:
        params.setdefault("refusal", REFUSAL)

    def resend(
        self, fault: FaultSpec, reply: Reply, request: Mapping[str, Any]
    ) -> Reply:
        sent = refused(
            request, reply.body, reply.raw, refusal=str(fault.params["refusal"])
        )
        return Reply(
            status=reply.status, body=sent.body, headers=reply.headers, raw=sent.raw
        )
