"""Faults that change what the agent reads, not what happened.

Each fired fault whose kind changes answers (``changes_answer``: schema drift, a
stale read, missing data, injected instructions, a misreported partial failure)
acts in turn on a copy of the answer, after the fake ran and its contract was
checked: the world's records stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fakes.table import Table, json_copy
from harness.faults.kind import Answer
from harness.faults.registry import kind_of
from harness.faults.spec import FaultSpec


def transform(
    body: Mapping[str, Any], faults: Sequence[FaultSpec], tables: Mapping[str, Table]
) -> dict[str, Any]:
    """``body`` as the faults make the agent see it."""
    out: dict[str, Any] = json_copy(dict(body))
    records = out["data"] if isinstance(out.get("data"), list) else [out]
    answer = Answer(body=out, records=records, tables=tables)
    for fault in faults:
        kind_of(fault.kind).respond(fault, answer)
    return answer.body
