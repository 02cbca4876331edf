"""Idempotency: per business key, did the effect happen exactly as often as it should?

Each key is ``ok``, ``recovered`` (an ambiguous failure happened, yet exactly the
right effects landed and the agent learned so), ``unacknowledged`` (the effect
landed, but only through calls whose answer the agent never got, and it never
checked: it believes the work failed), ``duplicated`` or ``lost``. Keys the
scenario declares are judged by its expectation; every other key (a notification,
a ticket, a comment) committed twice with identical parameters is a duplicate.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from operator import attrgetter, methodcaller
from typing import Any

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
    info = EntryType.INFO
    ambiguous_calls = {
        h.call for h in history if h.type is info and h.process == "agent"
    }
    index = _CallIndex(run, ambiguous_calls)
    verdicts: dict[str, str] = {}
    #: Evidence, and in its place the effects of each key whose story is told:
    #: the stories are told together, from one pass over the history.
    evidence: list[Evidence | list[LedgerEntry]] = []
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
            evidence.append(entries)
        elif count < low:
            verdicts[key] = "lost"
            problems.append(
                f"business key {key!r} committed {count} effects, at least {low} "
                "expected (lost)"
            )
        elif entries and all(e.call in ambiguous_calls for e in entries):
            if index.acknowledged(entries):
                verdicts[key] = "recovered"
            else:
                verdicts[key] = "unacknowledged"
                problems.append(
                    f"business key {key!r} took effect, but the agent never saw it"
                    " succeed nor checked (unacknowledged)"
                )
                evidence.append(entries)
        elif any(e.call in ambiguous_calls for e in entries):
            verdicts[key] = "recovered"
        else:
            verdicts[key] = "ok"

    declared: dict[str, list[LedgerEntry]] = {
        exp.key: [] for exp in run.expect.idempotency
    }
    effects = list(ledger)
    if declared:
        for entry in effects:
            if entry.business_key in declared:
                declared[entry.business_key].append(entry)
        effects = [e for e in effects if e.business_key not in declared]
    counts = Counter([e.business_key for e in effects])
    # A key committed once, by a call the agent got its answer to, is ok: every
    # other key's effects are grouped by (key, parameters), in the order each
    # group first appears (parameters are compared among one key's effects).
    plain = {
        e.business_key: "ok"
        for e in effects
        if counts[e.business_key] == 1 and e.call not in ambiguous_calls
    }
    rest = [e for e in effects if e.business_key not in plain]
    # A key's parameters compare as their repr when any of its effects' could
    # print like another type's; else as sets of items (equal exactly then).
    printed = {e.business_key for e in rest if not _plain(e.params)}
    groups: list[list[LedgerEntry]] = []
    split: dict[tuple[str, object], list[LedgerEntry]] = {}
    for entry in rest:
        key = entry.business_key
        if counts[key] == 1:
            groups.append([entry])
            continue
        params: object = (
            repr(sorted(entry.params.items()))
            if key in printed
            else frozenset(entry.params.items())
        )
        group = split.get((key, params))
        if group is None:
            group = split[key, params] = []
            groups.append(group)
        group.append(entry)
    for exp in run.expect.idempotency:
        judge(exp.key, declared[exp.key], exp.min_effects, exp.max_effects)
    verdicts.update(plain)  # no key of these is judged, here or above
    for entries in groups:
        judge(entries[0].business_key, entries, 0, 1)

    total = len(verdicts)
    tally = Counter(verdicts.values())
    good = tally["ok"] + tally["recovered"]
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
        evidence=index.tell(evidence),
        details={"keys": dict(sorted(verdicts.items()))},
    )


class _CallIndex:
    """What ``acknowledged`` and the stories ask of the history, each built by
    one pass when first asked (most runs ask neither), not a pass per key."""

    __slots__ = ("_answers", "_reads", "ambiguous", "run")

    def __init__(self, run: RunView, ambiguous: set[int | None]) -> None:
        self.run = run
        #: Calls the agent got an indeterminate answer to.
        self.ambiguous = ambiguous
        self._answers: _Answers | None = None
        self._reads: dict[frozenset[str], frozenset[str]] = {}

    def acknowledged(self, entries: list[LedgerEntry]) -> bool:
        """Whether, after the ambiguous calls, the agent learned the outcome: a
        retry answered as a replay, an answer naming the effect's record, or a
        read of the same service (it checked)."""
        answers = self._answers
        if answers is None:
            answers = self._answers = _Answers(self.run.world.history)
        refs = {e.ref for e in entries if e.ref}
        services = frozenset([e.service for e in entries])
        last = max(e.call or 0 for e in entries)
        reads = self._reads.get(services)
        if reads is None:
            reads = self._reads[services] = frozenset(
                op.name
                for name in services
                for op in self.run.world.services[name].operations
                if not op.write
            )
        by_ref, by_f = answers.by_ref, answers.by_f
        return (
            answers.replay >= last
            or any(by_ref.get(ref, -1) >= last for ref in refs)
            or any(by_f.get(f, -1) >= last for f in reads)
        )

    def tell(
        self, evidence: list[Evidence | list[LedgerEntry]]
    ) -> tuple[Evidence, ...]:
        """``evidence`` with each key's effects replaced by their story."""
        stories = [item for item in evidence if isinstance(item, list)]
        if not stories:
            return tuple(item for item in evidence if not isinstance(item, list))
        calls = _Calls(self.run.world.history, {e.call for s in stories for e in s})
        told: list[Evidence] = []
        for item in evidence:
            if isinstance(item, list):
                told.extend(_story(calls, item))
            else:
                told.append(item)
        return tuple(told)


class _Answers:
    """The latest call (``call or 0``) of an agent's ``ok`` answer that was a
    replay, that named a given record, or that was a given tool's."""

    __slots__ = ("by_f", "by_ref", "replay")

    def __init__(self, history: History) -> None:
        ok = EntryType.OK
        answers = [h for h in history if h.type is ok and h.process == "agent"]
        calls = [h.call or 0 for h in answers]
        if calls != sorted(calls):  # so the last answer of each below is the latest
            answers.sort(key=_call_of)
            calls.sort()
        self.by_f = dict(zip(map(_F, answers), calls, strict=True))
        values = list(map(_VALUE, answers))
        self.replay = max(
            (c for v, c in zip(values, calls, strict=True) if v.get("replayed")),
            default=-1,
        )
        self.by_ref = {
            ref: call
            for ref, call in zip(map(_REF, values), calls, strict=True)
            if isinstance(ref, str)
        }


_F, _VALUE, _REF = attrgetter("f"), attrgetter("value"), methodcaller("get", "ref")


def _call_of(h: HistoryEntry) -> int:
    return h.call or 0


class _Calls:
    """The history of some calls, in one pass: their faults and answers (what a
    story tells), where each completed, and the idempotency key each carried."""

    __slots__ = ("by_call", "completed", "keys", "length")

    def __init__(self, history: History, calls: set[int | None]) -> None:
        #: call -> its faults and answers, in order.
        self.by_call: dict[int | None, list[HistoryEntry]] = defaultdict(list)
        #: call -> index of its (last) answer, where its effect is placed.
        self.completed: dict[int | None, int] = {}
        #: call -> the idempotency key of its (first) invoke.
        self.keys: dict[int | None, str | None] = {}
        self.length = len(history)
        invoke = EntryType.INVOKE
        keys, by_call, completed = self.keys, self.by_call, self.completed
        for h in history:
            call = h.call
            if call not in calls:
                continue
            if h.type is invoke:
                if call not in keys:
                    key = h.value.get("idempotency_key")
                    keys[call] = str(key) if key is not None else None
                continue
            process = h.process
            if process == "nemesis":
                by_call[call].append(h)
            if process != "agent":
                continue
            by_call[call].append(h)
            completed[call] = h.index


def _story(index: _Calls, entries: list[LedgerEntry]) -> list[Evidence]:
    """The effects, interleaved with the faults and outcomes around them."""
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


#: The types of names and of values :func:`_plain` accepts.
_NAMES, _VALUES = frozenset({str}), frozenset({str, int})


def _plain(params: Mapping[str, Any]) -> bool:
    """Whether ``params`` is a dict of str names to str or int values: two such
    have the same ``repr`` of their sorted items exactly when they have the
    same items (``repr`` tells ``1`` from ``True``; a value of another type can
    print as an int or a str does)."""
    return (
        type(params) is dict
        and _NAMES.issuperset(map(type, params))
        and _VALUES.issuperset(map(type, params.values()))
    )


def _fault_params(value: object) -> str:
    params = getattr(value, "get", lambda _k, _d=None: None)("params", {}) or {}
    return " ".join(f"{k}={v}" for k, v in sorted(params.items()))
