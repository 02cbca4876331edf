"""Record fields in ``world.records`` are checked against the fake's declared
schema at load time, so a bad value is a ``file:line:col`` error, not a crash when
the run builds the world."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes import registered_services
from harness.errors import HarnessError, ScenarioError
from harness.run import prepare_run
from harness.scenario.loader import parse_scenario

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = sorted(
    path
    for path in (ROOT / "scenarios").rglob("*.yaml")
    if "policies" not in path.relative_to(ROOT / "scenarios").parts
)
SERVICES = {service.name: service for service in registered_services()}

HEAD = """\
name: t
rationale: r
task: {instructions: go, input: {}}
world:
  records:
"""


def problems(records: str) -> tuple[str, ...]:
    """The problems of a scenario whose ``world.records`` lines are ``records``."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(HEAD + records, "x.yaml")
    return caught.value.problems


def loads(records: str) -> None:
    parse_scenario(HEAD + records, "x.yaml")


# -- the messages --------------------------------------------------------------------


def test_a_field_of_the_wrong_type_names_the_type_to_write() -> None:
    assert problems(
        "    charge: {service: payments, kind: charge, amount: '5000'}\n"
    ) == (
        "x.yaml:6:55: world.records.charge.amount: expected integer, got string"
        " ('5000')\n"
        "    fix: write an integer: Amount in minor units.",
    )


def test_a_value_outside_a_closed_set_gets_did_you_mean_and_the_values() -> None:
    assert problems(
        "    charge: {service: payments, kind: charge, status: succeded}\n"
    ) == (
        "x.yaml:6:55: world.records.charge.status: unknown status 'succeded'\n"
        "    fix: did you mean 'succeeded'? valid statuses: failed, pending,"
        " succeeded",
    )


def test_a_closed_set_field_of_another_type_is_one_problem_naming_the_values() -> None:
    assert problems("    user: {service: iam, kind: user, status: 3}\n") == (
        "x.yaml:6:46: world.records.user.status: unknown status 3\n"
        "    fix: valid statuses: active, deprovisioned, suspended",
    )


def test_an_unknown_field_names_the_kind_and_its_fields() -> None:
    assert problems("    charge: {service: payments, kind: charge, amout: 5000}\n") == (
        "x.yaml:6:47: world.records.charge: unknown field 'amout' for a payments"
        " charge\n"
        "    fix: did you mean 'amount'? valid fields: amount, amount_refunded,"
        " currency, customer, description, refunded, status",
    )


def test_a_field_inside_a_list_is_checked_with_its_path() -> None:
    assert problems(
        "    order: {service: erp, kind: purchase_order,"
        " lines: [{sku: A, quantity: two, unit_price: 100}]}\n"
    ) == (
        "x.yaml:6:76: world.records.order.lines[0].quantity: expected integer, got"
        " string ('two')\n"
        "    fix: write an integer: How many units.",
    )


def test_a_list_field_given_one_value_asks_for_a_list() -> None:
    assert problems(
        "    ticket: {service: tickets, kind: ticket, tags: returns}\n"
    ) == (
        "x.yaml:6:52: world.records.ticket.tags: expected list, got string"
        " ('returns')\n"
        "    fix: write a list",
    )


def test_a_nullable_field_says_null_is_allowed() -> None:
    assert problems("    charge: {service: payments, kind: charge, customer: 7}\n") == (
        "x.yaml:6:57: world.records.charge.customer: expected string or null, got"
        " integer (7)\n"
        "    fix: write a string or null: The paying customer's id (null: a new"
        " customer).",
    )


def test_every_bad_field_of_every_record_is_reported_in_line_order() -> None:
    assert problems(
        "    charge: {service: payments, kind: charge, amount: true}\n"
        "    doc: {service: kb, kind: policy, slug: x, version: '2', status: live}\n"
    ) == (
        "x.yaml:6:55: world.records.charge.amount: expected integer, got boolean"
        " (True)\n"
        "    fix: write an integer: Amount in minor units.",
        "x.yaml:7:56: world.records.doc.version: expected integer, got string"
        " ('2')\n"
        "    fix: write an integer: Version number, 1 for the first.",
        "x.yaml:7:69: world.records.doc.status: unknown status 'live'\n"
        "    fix: valid statuses: draft, published, retired",
    )


# -- what stays allowed --------------------------------------------------------------


def test_a_whole_reference_is_allowed_where_its_value_may_have_the_type() -> None:
    loads(
        "    charge: {service: payments, kind: charge, amount: 5000}\n"
        "    copy: {service: payments, kind: charge, amount: $charge.amount,"
        " status: $charge.status, customer: $charge.customer}\n"
        "    ticket: {service: tickets, kind: ticket, charge: $charge.id,"
        " created: $charge.created, tags: [$charge.currency]}\n"
    )


def test_a_reference_inside_longer_text_is_text() -> None:
    assert problems(
        "    charge: {service: payments, kind: charge, amount: 5000}\n"
        "    copy: {service: payments, kind: charge, amount: 'x$charge.amount'}\n"
    ) == (
        "x.yaml:7:53: world.records.copy.amount: expected integer, got string"
        " ('x$charge.amount')\n"
        "    fix: write an integer: Amount in minor units.",
    )


def test_a_field_a_service_accepts_in_two_forms_takes_both() -> None:
    loads(
        "    doctor: {service: calendar, kind: provider}\n"
        "    a: {service: calendar, kind: slot, provider: $doctor.id,"
        " start: '2026-01-06T15:30'}\n"
        "    b: {service: calendar, kind: slot, provider: $doctor.id,"
        " start: 1767800000}\n"
        "    x: {service: tickets, kind: problem}\n"
        "    y: {service: tickets, kind: incident, linked: $x.id}\n"
        "    z: {service: tickets, kind: incident, linked: [$x.id]}\n"
    )


def test_a_record_of_an_unknown_kind_or_a_kind_of_another_type_is_not_a_crash() -> None:
    assert problems("    r: {service: payments, kind: [charge], amount: x}\n") == (
        "x.yaml:6:34: world.records.r.kind: expected string, got list (['charge'])\n"
        "    fix: write a string: the record kind, e.g. charge",
    )


# -- no record field value crashes the run ------------------------------------------


def _library_fields() -> list[tuple[Path, str, str]]:
    """One ``(file, record, field)`` per distinct service, kind and field."""
    seen: dict[tuple[str, str, str], tuple[Path, str, str]] = {}
    for path in LIBRARY:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, record in ((data.get("world") or {}).get("records") or {}).items():
            for field in record:
                if field not in ("service", "kind"):
                    key = (record["service"], record["kind"], field)
                    seen.setdefault(key, (path, name, field))
    return sorted(seen.values())


FIELDS = _library_fields()
VALUES: list[Any] = ["text", "", 7, -3, 12.5, True, None, ["a"], [], {"k": 1}, {}]


def _outside(path: Path, name: str, field: str) -> Any:
    """A value of the field's type that is not one of its closed set, if any."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    record = data["world"]["records"][name]
    schema = SERVICES[record["service"]].record_fields[record["kind"]]
    choices = schema["properties"][field].get("enum")
    return "zz-" + str(choices[0]) if choices else "zz-not-a-value"


def _build(path: Path, name: str, field: str, value: Any) -> None:
    """Load the library scenario with the field's value replaced; if it loads,
    build its world: a bad value is a load-time error or a clean HarnessError."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["world"]["records"][name][field] = value
    text = yaml.safe_dump(data, sort_keys=False)
    try:
        scenario = parse_scenario(text, path)
    except ScenarioError:
        return
    try:
        prepare_run(scenario, seed=0)
    except HarnessError:  # the fake refused it with a reason; anything else fails
        return


#: Values that crashed inside the fakes before the loader checked record fields.
CRASHED = [
    ("vendors/vendor_invoice_matched_paid.yaml", "order", "lines", 7),
    ("knowledge/knowledge_answer_from_policy.yaml", "ticket", "tags", None),
    ("incidents/incidents_close_resolved.yaml", "incident", "linked", True),
    ("payments/refund_ok.yaml", "charge", "amount", ["a"]),
    ("refunds/refund_charge_schema_drift.yaml", "charge", "amount_refunded", None),
    ("vendors/vendor_invoice_matched_paid.yaml", "invoice", "amount", {"k": 1}),
    ("knowledge/knowledge_answer_from_policy.yaml", "returns_v1", "version", None),
]


@pytest.mark.parametrize(("file", "name", "field", "value"), CRASHED)
def test_a_value_that_crashed_the_run_is_now_a_load_time_error(
    file: str, name: str, field: str, value: Any
) -> None:
    path = ROOT / "scenarios" / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["world"]["records"][name][field] = value
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(yaml.safe_dump(data, sort_keys=False), path)
    assert f"world.records.{name}.{field}" in caught.value.problems[0]


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.sampled_from(FIELDS), st.data())
def test_a_library_record_with_any_field_value_loads_cleanly_or_is_refused(
    where: tuple[Path, str, str], data: st.DataObject
) -> None:
    value = data.draw(st.sampled_from([*VALUES, _outside(*where)]), label="value")
    _build(*where, value)
