"""Each fake declares the fields a scenario may give its record kinds; the
run-time check of a record's field names reads the same declaration."""

from __future__ import annotations

from typing import Any

import pytest
from faker import Faker

from fakes import registered_services
from fakes.crm.seed import RECORD_FIELDS as CRM_FIELDS
from fakes.crm.seed import scenario_defaults
from harness.errors import HarnessError
from harness.run import prepare_run
from tests.fakes.conftest import SEED, unchecked


def test_every_record_kind_declares_a_closed_schema_of_its_fields() -> None:
    for service in registered_services():
        assert set(service.record_fields) == set(service.record_kinds), service.name
        for kind, schema in service.record_fields.items():
            assert schema["type"] == "object", (service.name, kind)
            assert schema["additionalProperties"] is False, (service.name, kind)
            assert schema["properties"], (service.name, kind)


def test_the_crm_declares_exactly_the_fields_its_records_default() -> None:
    account = {
        "id": "acc_1",
        "name": "Acme",
        "owner": "usr_1",
        "tier": "team",
        "renewal_date": "2026-03-01",
    }
    for kind, schema in CRM_FIELDS.items():
        defaults = scenario_defaults(kind, {}, Faker(), owner="usr_1", account=account)
        assert {*defaults, "version", "locked_by"} == set(schema["properties"]), kind


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            {"service": "payments", "kind": "charge", "amout": 5000},
            "unknown field 'amout' for a payments charge (fields: customer, amount,"
            " currency, status, description, amount_refunded, refunded)",
        ),
        (
            {"service": "tickets", "kind": "incident", "severity": "high"},
            "unknown field 'severity' for a tickets incident (fields: subject,"
            " description, status, priority, charge, customer, created, assignee,"
            " resolution, tags, linked)",
        ),
        (
            {"service": "kb", "kind": "policy", "slug": "x", "text": "y"},
            "unknown field 'text' for a kb policy (fields: slug, title, body,"
            " version, effective_from, effective_to, status, owner, tags,"
            " change_note)",
        ),
        (
            {"service": "notify", "kind": "channel", "name": "x", "topic": "y"},
            "unknown field 'topic' for a notify channel (fields: name, purpose,"
            " is_private, is_archived, is_member)",
        ),
    ],
    ids=["payments", "tickets", "kb", "notify"],
)
def test_a_fake_refuses_a_field_its_declaration_lacks_when_the_run_creates_it(
    record: dict[str, Any], reason: str
) -> None:
    spec = {
        "name": "t",
        "rationale": "r",
        "task": {"instructions": "x", "input": {}},
        "world": {"records": {"r": record}},
    }
    with pytest.raises(HarnessError) as caught:
        prepare_run(unchecked(spec), seed=SEED)
    assert str(caught.value) == f"scenario 't': cannot create record 'r': {reason}"
