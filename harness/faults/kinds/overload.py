"""``overload``: the service is overloaded, in its own words (a model provider's
overload is its own status: Anthropic 529 ``overloaded_error``, OpenAI 503)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from fakes.base import Reply
from harness.faults.kind import Call, Kind
from harness.faults.kinds._refusal import refusal
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec


@register
class Overload(Kind):
    """A kind of its own, not an ``error`` preset: the status is the service's
    (``overloaded_status``), so one fault reads the same for every provider
    (Anthropic 529 ``overloaded_error``, OpenAI 503 ``server_error``, a fake 503)."""

    name = "overload"
    on_models = True
    summary = (
        "the service is overloaded: its own overload status (Anthropic 529"
        " overloaded_error, OpenAI and the fakes 503)"
    )
    order = 55
    doc_params = "`retry_after`"
    doc_sees = (
        "the service's overload error: Anthropic 529 `overloaded_error`, OpenAI"
        " 503 `server_error`, a fake's 503"
    )
    params = ("retry_after",)
    choices = ({}, {"retry_after": "10s"})

    def before_call(self, fault: FaultSpec, call: Call) -> Reply | None:
        status = call.service.overloaded_status
        fault = dataclasses.replace(fault, params={**fault.params, "status": status})
        return refusal(fault, call)
