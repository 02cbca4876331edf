"""``stale_read``: records answered as they were before the run changed them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fakes.table import Table, json_copy
from harness.faults.kind import Answer, Kind
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec


@register
class StaleRead(Kind):
    name = "stale_read"
    summary = "records answered as they were before the run changed them"
    order = 80
    doc_params = "none"
    doc_sees = "records as they were before the run changed them (a lagging replica)"
    choices = ({},)
    changes_answer = True

    def respond(self, fault: FaultSpec, answer: Answer) -> None:
        """Each record as a lagging replica still has it."""
        answer.records = [_stale(r, answer.tables) for r in answer.records]
        if isinstance(answer.body.get("data"), list):
            answer.body["data"] = answer.records
        elif answer.records:
            answer.body = answer.records[0]


def _stale(record: Any, tables: Mapping[str, Table]) -> Any:
    """The record as it was before this run changed it."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return record
    for table in tables.values():
        original = table.original(record["id"])
        if original is not None:
            return json_copy(original)
    return record
