"""``malformed_arguments``: the model's tool-call arguments are not valid JSON."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fakes.base import Reply
from harness.faults.kinds._model import ModelAnswerKind
from harness.faults.registry import register
from harness.models.damage import Breakage, malformed

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec


@register
class MalformedArguments(ModelAnswerKind):
    """The answer's first tool call carries an argument string that does not
    parse. ``how: cut`` (default): cut in the middle where the model's output
    ended, so the answer ends there too (OpenAI ``finish_reason: "length"``,
    Responses ``status: "incomplete"``, Anthropic ``stop_reason:
    "max_tokens"``); ``how: invalid``: whole but with a trailing comma.

    Anthropic sends ``tool_use.input`` as an object, so a broken string exists
    only in a stream's ``input_json_delta`` pieces: streamed, they carry it (the
    SDK's accumulator reads what it can of a cut one, and raises on an invalid
    one); whole, the API parses the input itself, and the closest real failure is
    the cut one: ``input`` holds the keys written before the cut, with
    ``stop_reason: "max_tokens"``, for both ``how``. An answer with no tool call
    is sent as it is."""

    name = "malformed_arguments"
    summary = "the model's tool-call arguments are not valid JSON (cut, or invalid)"
    order = 180
    doc_params = "`how: cut\\|invalid`"
    doc_sees = (
        "model calls only: a tool call whose arguments do not parse; cut: the"
        " answer ends there (`length` / `max_tokens`)"
    )
    params = ("how",)
    schemas = MappingProxyType(
        {
            "how": {
                "type": "string",
                "enum": ["cut", "invalid"],
                "description": "malformed_arguments only: cut where the model's"
                " output ended (default), or whole but invalid (a trailing comma)",
            },
        }
    )
    choices = ({"how": "cut"}, {"how": "invalid"})

    def load(self, params: dict[str, Any]) -> None:
        params.setdefault("how", "cut")

    def resend(
        self, fault: FaultSpec, reply: Reply, request: Mapping[str, Any]
    ) -> Reply:
        how: Breakage = "invalid" if fault.params["how"] == "invalid" else "cut"
        sent = malformed(request, reply.body, reply.raw, how=how)
        return Reply(
            status=reply.status, body=sent.body, headers=reply.headers, raw=sent.raw
        )
