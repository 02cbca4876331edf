"""``partial_failure``: a batch call commits some items and fails others."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fakes.base import Operation, Reply
from harness.faults.kind import Answer, Call, Firing, Issue, Kind
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec

_UNPROCESSED = {
    "code": "internal_error",
    "message": "This item could not be processed.",
}


@register
class PartialFailure(Kind):
    name = "partial_failure"
    summary = (
        "a batch call commits some items and fails others; its answer may"
        " misreport which"
    )
    order = 70
    doc_params = (
        "`fail: [n…]` or `ratio`, `report: accurate\\|none_failed\\|all_failed`"
    )
    doc_sees = (
        "a batch call (`send_messages`) commits some items and fails others; the"
        " answer may misreport which"
    )
    params = ("fail", "ratio", "report")
    schemas = MappingProxyType(
        {
            "fail": {
                "type": "array",
                "items": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "an item's position in the batch, counted from 1",
                },
                "minItems": 1,
                "uniqueItems": True,
                "description": "partial_failure: the items that fail, counted from 1"
                " (default: drawn with ratio)",
            },
            "ratio": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "partial_failure: the chance each item fails, drawn from"
                " the run's seed (default 0.5)",
            },
            "report": {
                "type": "string",
                "enum": ["accurate", "none_failed", "all_failed"],
                "description": "partial_failure: what the answer says: accurate"
                " (default), none_failed (failed items reported as succeeded),"
                " all_failed (committed items reported as failed)",
            },
        }
    )
    rules = (
        {
            "if": {
                "required": ["kind", "fail"],
                "properties": {"kind": {"const": "partial_failure"}},
            },
            "then": {"properties": {"ratio": False}},
        },
    )
    choices = (
        {"report": "accurate"},
        {"report": "none_failed"},
        {"report": "all_failed"},
    )
    changes_answer = True

    def load(self, params: dict[str, Any]) -> None:
        params.setdefault("report", "accurate")
        if "fail" not in params:
            params.setdefault("ratio", 0.5)

    def check(self, fault: Mapping[str, Any]) -> Iterator[Issue]:
        if "fail" in fault and "ratio" in fault:
            yield Issue(
                key="ratio",
                message="'fail' and 'ratio' cannot be combined",
                fix="name the failing items with fail: [1, 3], or let ratio: 0.5"
                " draw them",
            )

    def can_hit(self, op: Operation) -> bool:
        return op.batch is not None

    def applies(
        self, fault: FaultSpec, op: Operation, params: Mapping[str, Any]
    ) -> bool:
        return bool(op.batch and isinstance(params.get(op.batch), list))

    def draw(self, fault: FaultSpec, firing: Firing) -> dict[str, Any] | None:
        """``failed_items``: the items named, or drawn with ``ratio``."""
        count = len(firing.params[firing.op.batch or ""])
        chosen = fault.params.get("fail")
        if chosen is None:
            rng = firing.rng(fault, "items")
            ratio = float(fault.params["ratio"])
            chosen = [n for n in range(1, count + 1) if rng.random() < ratio]
        failed = sorted(n for n in chosen if n <= count)
        return {"failed_items": failed} if failed else None

    def before_call(self, fault: FaultSpec, call: Call) -> Reply | None:
        call.failing = frozenset(n - 1 for n in fault.params["failed_items"])
        return None

    def respond(self, fault: FaultSpec, answer: Answer) -> None:
        """A batch answer that says the wrong items failed, if ``report`` says so."""
        report = str(fault.params.get("report", "accurate"))
        batch = answer.body
        results = batch.get("results")
        if report == "accurate" or not isinstance(results, list):
            return
        for i, item in enumerate(results):
            if report == "none_failed" and item.get("status") == "failed":
                results[i] = {"index": item["index"], "status": "succeeded"}
            elif report == "all_failed" and item.get("status") == "succeeded":
                results[i] = {
                    "index": item["index"],
                    "status": "failed",
                    "error": dict(_UNPROCESSED),
                }
        failed = sum(r.get("status") == "failed" for r in results)
        batch["succeeded"], batch["failed"] = len(results) - failed, failed
