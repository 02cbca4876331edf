"""Record references: finding ``$record.field`` and resolving it against records."""

from __future__ import annotations

import pytest

from harness.errors import HarnessError
from harness.scenario.refs import find_refs, resolve_refs

RECORDS = {
    "charge": {"id": "ch_1", "amount": 5000},
    "ticket": {"id": "tk_9", "subject": "Charged twice"},
}


def test_find_refs_walks_strings_inside_mappings_lists_and_tuples() -> None:
    value = {
        "a": "$charge.id",
        "b": ["refund:$charge.id for $ticket.id", ("$ticket.subject",)],
        "c": 12,
        "d": "costs $5.00 and $.x",
    }
    assert find_refs(value) == [
        ("charge", "id"),
        ("charge", "id"),
        ("ticket", "id"),
        ("ticket", "subject"),
    ]


def test_resolve_refs_keeps_the_type_of_a_whole_string_reference() -> None:
    assert resolve_refs("$charge.amount", RECORDS) == 5000


def test_resolve_refs_substitutes_references_inside_longer_strings() -> None:
    text = "refund:$charge.id/$charge.amount"

    assert resolve_refs(text, RECORDS) == "refund:ch_1/5000"


def test_resolve_refs_rebuilds_containers_with_the_same_shape() -> None:
    value = {"ids": ("$charge.id", "$ticket.id"), "list": ["$charge.amount", 3]}

    assert resolve_refs(value, RECORDS) == {
        "ids": ("ch_1", "tk_9"),
        "list": [5000, 3],
    }


def test_resolve_refs_leaves_values_without_references_alone() -> None:
    assert resolve_refs({"n": 1, "s": "plain", "none": None}, RECORDS) == {
        "n": 1,
        "s": "plain",
        "none": None,
    }


def test_resolve_refs_names_the_known_records_for_an_unknown_record() -> None:
    with pytest.raises(HarnessError) as caught:
        resolve_refs({"to": "$tickt.id"}, RECORDS)

    assert str(caught.value) == (
        "reference '$tickt.id' names no record 'tickt' (did you mean 'ticket'?);"
        " known records: charge, ticket"
    )


def test_resolve_refs_names_the_fields_of_the_record_for_an_unknown_field() -> None:
    with pytest.raises(HarnessError) as caught:
        resolve_refs("refund:$charge.amont", RECORDS)

    assert str(caught.value) == (
        "reference '$charge.amont': record 'charge' has no field 'amont'"
        " (did you mean 'amount'?); its fields: amount, id"
    )


def test_resolve_refs_says_none_when_there_are_no_records() -> None:
    with pytest.raises(HarnessError) as caught:
        resolve_refs("$charge.id", {})

    assert str(caught.value) == (
        "reference '$charge.id' names no record 'charge'; known records: none"
    )
