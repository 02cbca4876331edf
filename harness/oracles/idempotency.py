"""Idempotency: per business key, did the effect happen exactly as often as it should?

Each key is ``ok``, ``recovered`` (an ambiguous failure happened, yet exactly the
right effects landed and the agent learned so), ``unacknowledged`` (the effect
landed, but only through calls whose answer the agent never got, and it never
checked: it believes the work failed), ``duplicated`` or ``lost``. Keys the
scenario declares are judged by its expectation; every other key (a notification,
a ticket, a comment) committed twice with identical parameters is a duplicate.
"""

from __future__ import annotations

from collections import defaultdict

from harness.oracles.base import (
    Evidence,
    RunView,
    Score,
    history_evidence,
    ledger_evidence,
    oracle,
)
from harness.world.history import EntryType, History, HistoryEntry
from harness.world.ledger import LedgerEntry


@oracle("idempotency")
def idempotency(run: RunView) -> Score:
    ledger, history = run.world.ledger, run.world.history
    index = _CallIndex(history)
    ambiguous_calls = index.ambiguous
    verdicts: dict[str, str] = {}
    evidence: list[Evidence] = []
    problems: list[str] = []

    def judge(key: str, entries: list[LedgerEntry], low: int, high: int) -> None:
        count = len(entries)
        if count > high == 0:
            verdicts[key] = "unexpected"
            problems.append(
                f"business key {key!r} committed {count} effect(s); none allowed"
            )
            evidence.extend(ledger_evidence(e) for e in entries)
        elif count > high:
            verdicts[key] = "duplicated"
            problems.append(
                f"business key {key!r} committed {count} effects, at most {high} "
                "allowed (duplicated)"
            )
            evidence.extend(_story(index, entries))
        elif count < low:
            verdicts[key] = "lost"
            problems.append(
                f"business key {key!r} committed {count} effects, at least {low} "
                "expected (lost)"
            )
        elif entries and all(e.call in ambiguous_calls for e in entries):
            if _acknowledged(run, index, entries):
                verdicts[key] = "recovered"
            else:
                verdicts[key] = "unacknowledged"
                problems.append(
                    f"business key {key!r} took effect, but the agent never saw it"
                    " succeed nor checked (unacknowledged)"
                )
                evidence.extend(_story(index, entries))
        elif any(e.call in ambiguous_calls for e in entries):
            verdicts[key] = "recovered"
        else:
            verdicts[key] = "ok"

    declared: dict[str, list[LedgerEntry]] = {
        exp.key: [] for exp in run.expect.idempotency
    }
    groups: dict[tuple[str, str], list[LedgerEntry]] = defaultdict(list)
    for entry in ledger:
        if entry.business_key in declared:
            declared[entry.business_key].append(entry)
        else:
            params = repr(sorted(entry.params.items()))
            groups[(entry.business_key, params)].append(entry)
    for exp in run.expect.idempotency:
        judge(exp.key, declared[exp.key], exp.min_effects, exp.max_effects)
    for (key, _), entries in groups.items():
        judge(key, entries, 0, 1)

    total = len(verdicts)
    good = sum(v in ("ok", "recovered") for v in verdicts.values())
    if problems:
        explanation = "; ".join(problems)
    elif total:
        explanation = f"{total} business key(s) committed the right number of times"
    else:
        explanation = "no side effects were committed"
    return Score(
        oracle="idempotency",
        passed=not problems,
        value=good / total if total else 1.0,
        explanation=explanation,
        evidence=tuple(evidence),
        details={"keys": dict(sorted(verdicts.items()))},
    )


class _CallIndex:
    """The history by tool call, in one pass: what ``_acknowledged`` and
    ``_story`` ask of every key, without a pass over the history for each."""

    __slots__ = (
        "ambiguous",
        "by_call",
        "by_f",
        "by_ref",
        "completed",
        "keys",
        "length",
        "replay",
    )

    def __init__(self, history: History) -> None:
        #: Calls the agent got an indeterminate answer to.
        self.ambiguous: set[int | None] = set()
        #: call -> its faults and answers (what a story tells), in order.
        self.by_call: dict[int | None, list[HistoryEntry]] = defaultdict(list)
        #: call -> index of its (last) answer, where its effect is placed.
        self.completed: dict[int | None, int] = {}
        #: call -> the idempotency key of its (first) invoke.
        self.keys: dict[int | None, str | None] = {}
        #: The latest call (``call or 0``) of an agent's ``ok`` answer that was a
        #: replay, that named a given record, or that was a given tool's.
        self.replay = -1
        self.by_ref: dict[str, int] = {}
        self.by_f: dict[str, int] = {}
        self.length = len(history)
        invoke, ok, info = EntryType.INVOKE, EntryType.OK, EntryType.INFO
        keys, by_call, completed = self.keys, self.by_call, self.completed
        for h in history:
            call, kind, process = h.call, h.type, h.process
            if kind is invoke:
                if call not in keys:
                    key = h.value.get("idempotency_key")
                    keys[call] = str(key) if key is not None else None
                continue
            if process == "nemesis":
                by_call[call].append(h)
            if process != "agent":
                continue
            by_call[call].append(h)
            completed[call] = h.index
            if kind is info:
                self.ambiguous.add(call)
            elif kind is ok:
                self._answered(h)

    def _answered(self, h: HistoryEntry) -> None:
        call = h.call or 0
        value = h.value
        if value.get("replayed") and call > self.replay:
            self.replay = call
        ref = value.get("ref")
        if isinstance(ref, str) and call > self.by_ref.get(ref, -1):
            self.by_ref[ref] = call
        if call > self.by_f.get(h.f, -1):
            self.by_f[h.f] = call


def _acknowledged(run: RunView, index: _CallIndex, entries: list[LedgerEntry]) -> bool:
    """Whether, after the ambiguous calls, the agent learned the outcome: a retry
    answered as a replay, an answer naming the effect's record, or a read of the
    same service (it checked)."""
    refs = {e.ref for e in entries if e.ref}
    services = {e.service for e in entries}
    last = max(e.call or 0 for e in entries)
    reads = {
        op.name
        for name in services
        for op in run.world.services[name].operations
        if not op.write
    }
    return (
        index.replay >= last
        or any(index.by_ref.get(ref, -1) >= last for ref in refs)
        or any(index.by_f.get(f, -1) >= last for f in reads)
    )


def _story(index: _CallIndex, entries: list[LedgerEntry]) -> list[Evidence]:
    """The duplicated effects, interleaved with the faults and outcomes around them."""
    # An effect commits just before its call completes: place it there.
    ranked: list[tuple[float, float, Evidence]] = [
        (
            e.time,
            index.completed.get(e.call, index.length) - 0.5,
            ledger_evidence(e),
        )
        for e in entries
    ]
    for call in {e.call for e in entries}:
        for h in index.by_call.get(call, ()):
            if h.process == "nemesis":
                text = (
                    f"fault {h.value.get('fault')!r}: {h.f} {_fault_params(h.value)} "
                    f"on call #{h.call} {h.value.get('target')}"
                )
            elif h.process == "agent" and h.type is not EntryType.INVOKE:
                seen = h.value.get("seen")
                shown = seen if seen != "response" else f"HTTP {h.value.get('status')}"
                key = index.keys.get(h.call)
                text = (
                    f"agent saw {shown} for call #{h.call} "
                    f"(idempotency key: {key or 'none'})"
                )
            else:
                continue
            ranked.append((h.time, h.index, history_evidence(h, text)))
    # In the order things happened: the fault, the commit, what the agent saw.
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [evidence for _, _, evidence in ranked]


def _fault_params(value: object) -> str:
    params = getattr(value, "get", lambda _k, _d=None: None)("params", {}) or {}
    return " ".join(f"{k}={v}" for k, v in sorted(params.items()))
