"""Shadow mode's comparison: decisions, their differences, and noise.

As in Twitter's Diffy, a candidate is compared with a primary reference, and the
primary with a secondary (the same reference run again) to measure noise: a field
the two references disagree on is noisy. A difference counts only when it exceeds
the noise by a relative *and* an absolute threshold, per case (where a noisy
field's difference never counts) and over many cases (:func:`agreement`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError
from harness.scenario.model import DecisionOutcome

if TYPE_CHECKING:
    from harness.modes.shadow import ShadowResult

#: A decision field's value: an outcome, a reason code (None: none), a count.
Value = str | int | None
#: Diffy's default thresholds (20% relative, 0.03% absolute), as fractions; the
#: absolute one of tens of cases rather than millions of requests.
RELATIVE = 0.2
ABSOLUTE = 0.03
_DEFAULTS = {"relative": RELATIVE, "absolute": ABSOLUTE}


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class DecisionAction:
    """One write of a decision: its operation and business key, with record ids
    replaced by the scenario's record names (``refund:$charge``)."""

    operation: str
    key: str

    def to_json(self) -> dict[str, str]:
        return {"operation": self.operation, "key": self.key}


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What a run decided: how it ended, its escalation reason, its writes
    (escalations aside; sorted, a write made twice listed twice)."""

    outcome: DecisionOutcome
    escalation: str | None
    actions: tuple[DecisionAction, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome),
            "escalation": self.escalation,
            "actions": [a.to_json() for a in self.actions],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowThresholds:
    """When a difference counts: it must exceed the noise by more than
    ``relative`` (of differences and noise together) and by more than
    ``absolute`` (a share of the cases). In one case a field differs once or not
    at all, so there a difference counts unless the field is noisy.
    ``min_agreement``: None, shadow reports and never fails; a rate, it fails
    below that agreement rate."""

    relative: float = RELATIVE
    absolute: float = ABSOLUTE
    min_agreement: float | None = None

    def __post_init__(self) -> None:
        for name in ("relative", "absolute"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise HarnessError(
                    f"shadow threshold {name}={value!r} is out of range\n"
                    "    fix: give a fraction from 0 up to (not including) 1,"
                    f" e.g. {name}={_DEFAULTS[name]}"
                )
        if self.min_agreement is not None and not 0.0 <= self.min_agreement <= 1.0:
            raise HarnessError(
                f"shadow threshold min_agreement={self.min_agreement!r} is out of"
                " range\n    fix: give an agreement rate from 0 to 1, e.g. 0.9, or"
                " None to report without failing"
            )

    def exceeds_noise(self, differences: int, noise: int, cases: int) -> bool:
        """Whether ``differences`` among ``cases`` exceed ``noise`` by both
        thresholds (Diffy: raw > noise, |raw - noise| over raw + noise for the
        relative, over the cases for the absolute)."""
        if cases <= 0 or differences <= noise:
            return False
        excess = differences - noise
        return (
            excess / (differences + noise) > self.relative
            and excess / cases > self.absolute
        )

    def gate(self, rate: float | None) -> bool:
        """Whether an agreement ``rate`` passes (always, when not gating)."""
        if self.min_agreement is None:
            return True
        return rate is not None and rate >= self.min_agreement

    def to_json(self) -> dict[str, Any]:
        return {
            "relative": self.relative,
            "absolute": self.absolute,
            "min_agreement": self.min_agreement,
        }


#: The thresholds shadow mode uses unless told otherwise.
DEFAULT_THRESHOLDS = ShadowThresholds()


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldDiff:
    """One field where the candidate's decision differs from the (primary)
    reference's, and whether the difference counts."""

    field: str
    candidate: Value
    #: The field's value in each reference run (primary first).
    references: tuple[Value, ...]
    #: The reference runs disagree on this field themselves.
    noisy: bool
    counted: bool

    def describe(self) -> str:
        """``outcome: candidate escalated, reference done``, and the noise."""
        text = (
            f"{self.field}: candidate {_shown(self.candidate)},"
            f" reference {_shown(self.references[0])}"
        )
        if self.noisy:
            runs = ", ".join(_shown(v) for v in self.references)
            text += f" (noisy: the reference runs gave {runs}; not counted)"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "candidate": self.candidate,
            "references": list(self.references),
            "noisy": self.noisy,
            "counted": self.counted,
            "text": self.describe(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """A candidate's decision against its reference decisions."""

    diffs: tuple[FieldDiff, ...]
    #: Fields the reference runs disagree on (reported, never counted).
    noisy: tuple[str, ...]

    @property
    def agreed(self) -> bool:
        return not any(d.counted for d in self.diffs)


def compare(
    candidate: Decision,
    references: Sequence[Decision],
    *,
    thresholds: ShadowThresholds,
    wildcards: bool = False,
) -> Comparison:
    """Compare ``candidate`` with ``references[0]``, the noise being where the
    references disagree. ``wildcards``: ``*`` in a reference key matches any text
    (keys a scenario writes)."""
    if not references:
        raise HarnessError("compare() needs at least one reference decision")
    values = decision_fields(candidate, references, wildcards=wildcards)
    diffs: list[FieldDiff] = []
    noisy: list[str] = []
    for field, (mine, *theirs) in values.items():
        is_noisy = len(set(theirs)) > 1
        if is_noisy:
            noisy.append(field)
        if mine != theirs[0]:
            counted = thresholds.exceeds_noise(1, int(is_noisy), 1)
            diffs.append(
                FieldDiff(
                    field=field,
                    candidate=mine,
                    references=tuple(theirs),
                    noisy=is_noisy,
                    counted=counted,
                )
            )
    return Comparison(diffs=tuple(diffs), noisy=tuple(noisy))


def decision_fields(
    candidate: Decision, references: Sequence[Decision], *, wildcards: bool = False
) -> dict[str, tuple[Value, ...]]:
    """Per field, its value in the candidate then in each reference: ``outcome``,
    ``escalation``, and ``action OPERATION KEY`` (how many such writes)."""
    known = sorted({a for ref in references for a in ref.actions})
    patterns = [(a, _pattern(a.key)) for a in known if wildcards and "*" in a.key]
    own = set(known)

    def slot(action: DecisionAction) -> DecisionAction:
        if action in own:
            return action
        for reference, pattern in patterns:
            if reference.operation == action.operation and pattern.fullmatch(
                action.key
            ):
                return reference
        return action

    counts = [Counter(slot(a) for a in candidate.actions)]
    counts += [Counter(ref.actions) for ref in references]
    fields: dict[str, tuple[Value, ...]] = {
        "outcome": tuple(str(d.outcome) for d in (candidate, *references)),
        "escalation": tuple(d.escalation for d in (candidate, *references)),
    }
    for action in sorted(set().union(*counts)):
        name = f"action {action.operation} {action.key}"
        fields[name] = tuple(count[action] for count in counts)
    return fields


# -- over many cases ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldStats:
    """One field over many cases: how often it differed, how often it was noisy,
    and whether its differences exceed the noise by both thresholds."""

    field: str
    differences: int
    noise: int
    cases: int
    flagged: bool

    @property
    def difference_rate(self) -> float:
        return self.differences / self.cases if self.cases else 0.0

    @property
    def noise_rate(self) -> float:
        return self.noise / self.cases if self.cases else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "differences": self.differences,
            "noise": self.noise,
            "cases": self.cases,
            "difference_rate": self.difference_rate,
            "noise_rate": self.noise_rate,
            "flagged": self.flagged,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseDisagreement:
    """A case whose candidate disagreed: its differences and what it would have
    done."""

    scenario: str
    seed: int
    diffs: tuple[FieldDiff, ...]
    consequences: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "diffs": [d.to_json() for d in self.diffs],
            "consequences": list(self.consequences),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowSummary:
    """Shadow results over many cases: the agreement rate, per field the
    difference rate against the noise rate, and every disagreeing case."""

    cases: int
    agreed: int
    #: None when there were no cases.
    agreement_rate: float | None
    fields: tuple[FieldStats, ...]
    disagreements: tuple[CaseDisagreement, ...]
    thresholds: ShadowThresholds
    passed: bool
    explanation: str

    @property
    def flagged(self) -> tuple[str, ...]:
        """Fields whose differences exceed their noise by both thresholds."""
        return tuple(f.field for f in self.fields if f.flagged)

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "agreed": self.agreed,
            "agreement_rate": self.agreement_rate,
            "passed": self.passed,
            "explanation": self.explanation,
            "flagged": list(self.flagged),
            "fields": [f.to_json() for f in self.fields],
            "disagreements": [d.to_json() for d in self.disagreements],
            "thresholds": self.thresholds.to_json(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowCase:
    """What the aggregate needs of one shadow case; rebuilt from a run record's
    ``shadow`` entry on the xdist controller, where no ShadowResult exists."""

    scenario: str
    seed: int
    diffs: tuple[FieldDiff, ...]
    noisy: tuple[str, ...]
    consequences: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShadowCase:
        return cls(
            scenario=str(data["scenario"]),
            seed=int(data["seed"]),
            diffs=tuple(
                FieldDiff(
                    field=d["field"],
                    candidate=d["candidate"],
                    references=tuple(d["references"]),
                    noisy=bool(d["noisy"]),
                    counted=bool(d["counted"]),
                )
                for d in data["diffs"]
            ),
            noisy=tuple(data["noisy"]),
            consequences=tuple(data["consequences"]),
        )


def _case(result: ShadowResult | ShadowCase) -> ShadowCase:
    if isinstance(result, ShadowCase):
        return result
    return ShadowCase(
        scenario=result.scenario.name,
        seed=result.seed,
        diffs=result.diffs,
        noisy=result.noisy,
        consequences=result.consequences,
    )


def agreement(
    results: Sequence[ShadowResult | ShadowCase],
    thresholds: ShadowThresholds = DEFAULT_THRESHOLDS,
) -> ShadowSummary:
    """Aggregate shadow results: each field's differences against its noise
    under ``thresholds``, which also gate the agreement rate."""
    cases = len(results)
    differences: Counter[str] = Counter()
    noise: Counter[str] = Counter()
    disagreements: list[CaseDisagreement] = []
    for result in map(_case, results):
        differences.update(d.field for d in result.diffs)
        noise.update(result.noisy)
        if any(d.counted for d in result.diffs):
            disagreements.append(
                CaseDisagreement(
                    scenario=result.scenario,
                    seed=result.seed,
                    diffs=result.diffs,
                    consequences=result.consequences,
                )
            )
    fields = tuple(
        FieldStats(
            field=name,
            differences=differences[name],
            noise=noise[name],
            cases=cases,
            flagged=thresholds.exceeds_noise(differences[name], noise[name], cases),
        )
        for name in sorted({*differences, *noise})
    )
    agreed = cases - len(disagreements)
    rate = agreed / cases if cases else None
    return ShadowSummary(
        cases=cases,
        agreed=agreed,
        agreement_rate=rate,
        fields=fields,
        disagreements=tuple(disagreements),
        thresholds=thresholds,
        passed=thresholds.gate(rate),
        explanation=_verdict(rate, agreed, cases, thresholds),
    )


def _verdict(
    rate: float | None, agreed: int, cases: int, rules: ShadowThresholds
) -> str:
    if rate is None:
        said = "no shadow cases ran"
    else:
        said = f"agreement {rate:.2f} ({agreed} of {cases} cases)"
    if rules.min_agreement is None:
        return f"{said}; reported, not gated"
    if rate is None:
        return f"{said}; the gate needs at least one (min {rules.min_agreement:.2f})"
    sign = ">=" if rate >= rules.min_agreement else "<"
    return f"{said} {sign} {rules.min_agreement:.2f}"


def _pattern(key: str) -> re.Pattern[str]:
    """A reference key with ``*`` standing for any text."""
    return re.compile(".*".join(re.escape(part) for part in key.split("*")))


def _shown(value: Value) -> str:
    return "none" if value is None else str(value)
