"""The newer fault kinds' parameters: defaults, and the loader's exact messages."""

from __future__ import annotations

import pytest

from harness.errors import ScenarioError
from harness.scenario import fault_kinds, schema_build
from harness.scenario.loader import parse_scenario
from harness.scenario.model import FaultKind

#: Eight lines every test scenario starts with; the fault is on line 10.
BASE = """\
name: refund_ambiguous_timeout
rationale: A retry after an ambiguous timeout refunds twice.
task:
  instructions: Refund {amount} on charge {charge}.
  input: {charge: $charge.id, amount: 1200}
world:
  records:
    charge: {service: payments, kind: charge, amount: 5000}
"""


def problems(fault: str) -> tuple[str, ...]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(BASE + f"faults:\n  - {fault}\n", "x.yaml")
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def params(fault: str) -> dict[str, object]:
    (spec,) = parse_scenario(BASE + f"faults:\n  - {fault}\n", "x.yaml").faults
    return dict(spec.params)


# -- defaults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            "{id: l, kind: latency, seconds: {distribution: uniform, min: 500ms,"
            " max: 2m}}",
            {"seconds": {"distribution": "uniform", "min": 0.5, "max": 120.0}},
        ),
        (
            "{id: l, kind: latency, seconds: {distribution: lognormal, median: 2s,"
            " sigma: 0.5}}",
            {"seconds": {"distribution": "lognormal", "median": 2.0, "sigma": 0.5}},
        ),
        (
            "{id: p, kind: partial_failure}",
            {"report": "accurate", "ratio": 0.5},
        ),
        (
            "{id: p, kind: partial_failure, fail: [1, 3], report: all_failed}",
            {"fail": [1, 3], "report": "all_failed"},
        ),
        (
            "{id: c, kind: concurrent_write, hold: 1m}",
            {"hold": 60.0, "set": {}, "actor": "ops.automation"},
        ),
        (
            "{id: c, kind: conflicting_data, record: $charge.id, set: {amount: 1}}",
            {"record": "$charge.id", "set": {"amount": 1}},
        ),
        (
            "{id: m, kind: missing_data, fields: [email]}",
            {"fields": ["email"], "as": "absent"},
        ),
        ("{id: m, kind: malformed_response}", {"form": "truncated"}),
        ("{id: d, kind: duplicate_delivery}", {"delay": 0.0}),
        ("{id: d, kind: duplicate_delivery, delay: 5m}", {"delay": 300.0}),
    ],
)
def test_the_newer_kinds_parse_their_parameters_and_fill_in_defaults(
    fault: str, expected: dict[str, object]
) -> None:
    assert params(fault) == expected


# -- parameters of other kinds, missing parameters ---------------------------------------


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            "{id: c, kind: concurrent_write, commit: after}",
            "x.yaml:10:37: faults[0]: 'commit' is not a parameter of concurrent_write"
            " faults\n    fix: remove it; concurrent_write faults take: set, record,"
            " actor, hold",
        ),
        (
            "{id: m, kind: missing_data, fields: [email], form: html}",
            "x.yaml:10:50: faults[0]: 'form' is not a parameter of missing_data"
            " faults\n    fix: remove it; missing_data faults take: fields, as, record",
        ),
        (
            "{id: p, kind: partial_failure, fields: [email]}",
            "x.yaml:10:36: faults[0]: 'fields' is not a parameter of partial_failure"
            " faults\n    fix: remove it; partial_failure faults take: fail, ratio,"
            " report",
        ),
        (
            "{id: d, kind: duplicate_delivery, hold: 5s}",
            "x.yaml:10:39: faults[0]: 'hold' is not a parameter of duplicate_delivery"
            " faults\n    fix: remove it; duplicate_delivery faults take: delay",
        ),
    ],
    ids=["concurrent_write", "missing_data", "partial_failure", "duplicate_delivery"],
)
def test_loader_rejects_a_parameter_of_another_kind(fault: str, expected: str) -> None:
    assert problems(fault) == (expected,)


MISSING_RECORD = (
    "x.yaml:10:5: faults[0]: missing required key 'record' for a conflicting_data"
    " fault\n    fix: add record: $account.id, the record whose fields disagree"
)
MISSING_SET = (
    "x.yaml:10:5: faults[0]: missing required key 'set' for a conflicting_data"
    " fault\n    fix: add set: {tier: enterprise}, the fields that disagree"
)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("{id: c, kind: conflicting_data}", (MISSING_RECORD, MISSING_SET)),
        ("{id: c, kind: conflicting_data, set: {amount: 1}}", (MISSING_RECORD,)),
        ("{id: c, kind: conflicting_data, record: $charge.id}", (MISSING_SET,)),
        (
            "{id: m, kind: missing_data, as: empty}",
            (
                "x.yaml:10:5: faults[0]: missing required key 'fields' for a"
                " missing_data fault\n    fix: add fields: [email], the fields that"
                " are missing",
            ),
        ),
    ],
    ids=[
        "conflicting-nothing",
        "conflicting-no-record",
        "conflicting-no-set",
        "missing",
    ],
)
def test_loader_requires_the_parameters_a_kind_cannot_do_without(
    fault: str, expected: tuple[str, ...]
) -> None:
    assert problems(fault) == expected


# -- faults that act on the world or the task, not on calls -------------------------------

CONFLICT = "{id: c, kind: conflicting_data, record: $charge.id, set: {amount: 1}, "


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            CONFLICT + "match: {tool: create_refund}}",
            "x.yaml:10:75: faults[0]: conflicting_data faults act on the world as it"
            " is built, not on tool calls; they take no 'match'\n"
            "    fix: remove 'match'",
        ),
        (
            CONFLICT + "when: {call: 1}}",
            "x.yaml:10:75: faults[0]: conflicting_data faults act on the world as it"
            " is built, not on tool calls; they take no 'when'\n"
            "    fix: remove 'when'",
        ),
        (
            "{id: d, kind: duplicate_delivery, match: {tool: create_refund}}",
            "x.yaml:10:39: faults[0]: duplicate_delivery faults act on the task's"
            " delivery, not on tool calls; they take no 'match'\n"
            "    fix: remove 'match'",
        ),
        (
            "{id: d, kind: duplicate_delivery, when: {from: 5m}}",
            "x.yaml:10:39: faults[0]: duplicate_delivery faults act on the task's"
            " delivery, not on tool calls; they take no 'when'\n"
            "    fix: remove 'when'",
        ),
    ],
    ids=["conflicting-match", "conflicting-when", "duplicate-match", "duplicate-when"],
)
def test_loader_rejects_match_and_when_on_faults_that_act_before_any_call(
    fault: str, expected: str
) -> None:
    assert problems(fault) == (expected,)


# -- within a kind -------------------------------------------------------------------------


def test_loader_rejects_fail_together_with_ratio() -> None:
    assert problems("{id: p, kind: partial_failure, fail: [1], ratio: 0.3}") == (
        "x.yaml:10:47: faults[0]: 'fail' and 'ratio' cannot be combined\n"
        "    fix: name the failing items with fail: [1, 3], or let ratio: 0.5 draw"
        " them",
    )


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            "{id: p, kind: partial_failure, report: some}",
            "x.yaml:10:44: faults[0].report: unknown report 'some'\n"
            "    fix: valid reports: accurate, all_failed, none_failed",
        ),
        (
            "{id: p, kind: partial_failure, ratio: 1.5}",
            "x.yaml:10:43: faults[0].ratio: must be at most 1, got 1.5\n"
            "    fix: partial_failure: the chance each item fails, drawn from the"
            " run's seed (default 0.5)",
        ),
        (
            "{id: m, kind: malformed_response, form: xml}",
            "x.yaml:10:45: faults[0].form: unknown form 'xml'\n"
            "    fix: valid forms: empty, html, truncated",
        ),
        (
            "{id: m, kind: missing_data, fields: [email], as: zero}",
            "x.yaml:10:54: faults[0].as: unknown missing-data form 'zero'\n"
            "    fix: valid forms: absent, empty, null",
        ),
        (
            "{id: c, kind: concurrent_write, hold: soon}",
            "x.yaml:10:43: faults[0].hold: invalid duration 'soon'\n"
            "    fix: write a number of seconds (2.5) or <number><unit> parts with"
            " units ms, s, m, h, d (500ms, 30s, 1.5m, 2h, 1d, 1h30m)",
        ),
    ],
    ids=["report", "ratio", "form", "as", "hold"],
)
def test_loader_explains_a_bad_value_of_a_newer_parameter(
    fault: str, expected: str
) -> None:
    assert problems(fault) == (expected,)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (
            "{distribution: exponential}",
            "x.yaml:10:37: faults[0].seconds: missing required key 'mean' for the"
            " exponential distribution\n"
            "    fix: add mean (the exponential distribution takes: mean)",
        ),
        (
            "{distribution: lognormal, median: 2s}",
            "x.yaml:10:37: faults[0].seconds: missing required key 'sigma' for the"
            " lognormal distribution\n"
            "    fix: add sigma (the lognormal distribution takes: median, sigma)",
        ),
        (
            "{distribution: uniform, min: 5s, max: 1s}",
            "x.yaml:10:66: faults[0].seconds.min: min ('5s') is more than max"
            " ('1s')\n    fix: swap them, or make min <= max",
        ),
        (
            "{distribution: exponential, mean: 2s, sigma: 0.5}",
            "x.yaml:10:75: faults[0].seconds: 'sigma' is not a parameter of the"
            " exponential distribution\n    fix: remove it; exponential takes: mean",
        ),
        (
            "{distribution: uniform, min: 1s, max: 2s, mode: 1}",
            "x.yaml:10:79: faults[0].seconds: unknown key 'mode'\n"
            "    fix: valid keys: distribution, max, mean, median, min, sigma",
        ),
        (
            "{distribution: gamma, mean: 2s}",
            "x.yaml:10:52: faults[0].seconds.distribution: unknown distribution"
            " 'gamma'\n    fix: valid distributions: exponential, lognormal, uniform",
        ),
        (
            "{min: 1s, max: 2s}",
            "x.yaml:10:28: faults[0].seconds: missing required key 'distribution'\n"
            "    fix: add 'distribution': the distribution's family",
        ),
    ],
    ids=[
        "no-mean",
        "no-sigma",
        "min-over-max",
        "other-family",
        "unknown-key",
        "unknown-family",
        "no-family",
    ],
)
def test_loader_explains_a_bad_latency_distribution(
    seconds: str, expected: str
) -> None:
    assert problems(f"{{id: l, kind: latency, seconds: {seconds}}}") == (expected,)


# -- the published schema ------------------------------------------------------------------


def test_the_published_schema_is_generated_from_the_kinds_table() -> None:
    text = schema_build.SCHEMA_PATH.read_text(encoding="utf-8")
    assert schema_build.render(schema_build.generated_schema()) == text, (
        "the schema is out of date: run python -m harness.scenario.schema_build"
    )


def test_every_kind_has_an_entry_and_every_parameter_a_schema() -> None:
    assert set(fault_kinds.KINDS) == set(FaultKind)
    for info in fault_kinds.KINDS.values():
        assert set(info.params) <= set(fault_kinds.PARAMS), info.kind
        assert {name for name, _ in info.required} <= set(info.params), info.kind
