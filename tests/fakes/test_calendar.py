"""Calendar: clinic providers, patients, slots and appointments, through both doors."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from faker import Faker

from fakes.base import SCALES, IdGenerator
from fakes.calendar import FIRST_DAY, Calendar, day_of
from harness.errors import HarnessError
from harness.run import RunSetup, prepare_run
from harness.scenario.loader import scenario_from_dict
from harness.world.world import World
from tests.fakes.conftest import SEED, Door, effects, error, unchecked

CALENDAR_RECORDS: dict[str, Any] = {
    "doctor": {
        "service": "calendar",
        "kind": "provider",
        "name": "Dr. Ana Ruiz",
        "specialty": "Dermatology",
    },
    "maria": {
        "service": "calendar",
        "kind": "patient",
        "name": "Maria Garcia",
        "date_of_birth": "1984-03-12",
        "insurance_payer": "Aetna",
        "insurance_member_id": "AET123456789",
    },
    "maria_too": {
        "service": "calendar",
        "kind": "patient",
        "name": "Maria Garcia",
        "date_of_birth": "1991-11-02",
    },
    "uninsured": {
        "service": "calendar",
        "kind": "patient",
        "insurance_payer": None,
        "insurance_member_id": None,
    },
    "nine": {
        "service": "calendar",
        "kind": "slot",
        "provider": "$doctor.id",
        "start": "2026-01-05T09:00",
    },
    "ten": {
        "service": "calendar",
        "kind": "slot",
        "provider": "$doctor.id",
        "start": "2026-01-05T10:00",
    },
    "lunch": {
        "service": "calendar",
        "kind": "slot",
        "provider": "$doctor.id",
        "start": "2026-01-05T12:00",
        "status": "blocked",
    },
    "next_day": {
        "service": "calendar",
        "kind": "slot",
        "provider": "$doctor.id",
        "start": "2026-01-06T09:00",
    },
    "yesterday": {
        "service": "calendar",
        "kind": "slot",
        "provider": "$doctor.id",
        "start": "2025-12-31T09:00",
    },
    "taken": {
        "service": "calendar",
        "kind": "appointment",
        "patient": "$maria_too.id",
        "slot": "$nine.id",
    },
}


@pytest.fixture
def records() -> dict[str, Any]:
    return copy.deepcopy(CALENDAR_RECORDS)


def named(sim: RunSetup, name: str) -> dict[str, Any]:
    return sim.world.records[name]


def live(sim: RunSetup, collection: str, ident: str) -> dict[str, Any]:
    record: dict[str, Any] = sim.world.service("calendar").state[collection][ident]
    return record


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


# -- patients -----------------------------------------------------------------------


def test_a_patient_is_read_by_id_with_the_insurance_on_file(
    door: Door, sim: RunSetup
) -> None:
    maria = named(sim, "maria")
    answer = door.call("get_patient", patient=maria["id"])
    assert answer.status == 200
    assert answer.body == maria
    assert {k: answer.body[k] for k in ("object", "name", "date_of_birth")} == {
        "object": "patient",
        "name": "Maria Garcia",
        "date_of_birth": "1984-03-12",
    }
    assert answer.body["insurance_member_id"] == "AET123456789"


def test_a_scenario_patient_without_insurance_has_none_on_file(
    door: Door, sim: RunSetup
) -> None:
    answer = door.call("get_patient", patient=named(sim, "uninsured")["id"])
    assert answer.status == 200
    assert (answer.body["insurance_payer"], answer.body["insurance_member_id"]) == (
        None,
        None,
    )
    insured = door.call("get_patient", patient=named(sim, "maria_too")["id"])
    assert insured.body["insurance_payer"] is not None


def test_reading_an_unknown_patient_is_a_404_not_found(door: Door) -> None:
    answer = door.call("get_patient", patient="pat_x")
    assert answer.status == 404
    assert answer.body == error("not_found", "No such patient: 'pat_x'", "patient")


def test_a_name_finds_every_patient_who_shares_it_newest_first(
    door: Door, sim: RunSetup
) -> None:
    maria, maria_too = named(sim, "maria"), named(sim, "maria_too")
    answer = door.call("search_patients", name="Maria Garcia")
    assert answer.status == 200
    assert [p["id"] for p in answer.body["data"]] == [maria_too["id"], maria["id"]]
    born = door.call("search_patients", name="Maria Garcia", date_of_birth="1984-03-12")
    assert [p["id"] for p in born.body["data"]] == [maria["id"]]


def test_a_birth_date_that_is_not_a_date_is_a_400_invalid_request(door: Door) -> None:
    answer = door.call("search_patients", date_of_birth="12/03/1984")
    assert answer.status == 400
    assert answer.body["error"]["code"] == "invalid_request"
    assert answer.body["error"]["param"] == "date_of_birth"


# -- providers and slots --------------------------------------------------------------


def test_a_provider_is_read_and_listed_by_specialty(door: Door, sim: RunSetup) -> None:
    doctor = named(sim, "doctor")
    assert door.call("get_provider", provider=doctor["id"]).body == doctor
    listed = door.call("list_providers", specialty="Dermatology", limit=100)
    assert doctor["id"] in [p["id"] for p in listed.body["data"]]
    assert {p["specialty"] for p in listed.body["data"]} == {"Dermatology"}


def test_a_providers_slots_come_in_time_order_filtered_by_day_and_status(
    door: Door, sim: RunSetup
) -> None:
    doctor = named(sim, "doctor")
    day = door.call("list_slots", provider=doctor["id"], date="2026-01-05")
    assert day.status == 200
    assert [(s["start"], s["status"]) for s in day.body["data"]] == [
        (at("2026-01-05T09:00"), "booked"),
        (at("2026-01-05T10:00"), "open"),
        (at("2026-01-05T12:00"), "blocked"),
    ]
    nine = day.body["data"][0]
    assert nine["appointment"] == named(sim, "taken")["id"]
    assert nine["end"] - nine["start"] == 30 * 60
    open_slots = door.call("list_slots", provider=doctor["id"], status="open")
    assert [s["id"] for s in open_slots.body["data"]] == [
        named(sim, name)["id"] for name in ("yesterday", "ten", "next_day")
    ]
    page = door.call("list_slots", provider=doctor["id"], limit=2)
    assert page.body["has_more"] is True
    rest = door.call(
        "list_slots", provider=doctor["id"], starting_after=page.body["data"][1]["id"]
    )
    assert len(page.body["data"]) + len(rest.body["data"]) == 5


def test_slots_of_an_unknown_provider_are_a_404_not_found(door: Door) -> None:
    answer = door.call("list_slots", provider="prov_x")
    assert answer.status == 404
    assert answer.body == error("not_found", "No such provider: 'prov_x'", "provider")


# -- booking --------------------------------------------------------------------------


def test_booking_an_open_slot_holds_it_and_is_ledgered(
    door: Door, sim: RunSetup
) -> None:
    maria, ten, doctor = named(sim, "maria"), named(sim, "ten"), named(sim, "doctor")
    answer = door.call(
        "book_appointment", patient=maria["id"], slot=ten["id"], reason="Skin check"
    )
    assert answer.status == 201
    visit = answer.body
    assert {
        k: visit[k]
        for k in ("patient", "provider", "slot", "date", "start", "status", "reason")
    } == {
        "patient": maria["id"],
        "provider": doctor["id"],
        "slot": ten["id"],
        "date": "2026-01-05",
        "start": at("2026-01-05T10:00"),
        "status": "booked",
        "reason": "Skin check",
    }
    assert live(sim, "slots", ten["id"])["status"] == "booked"
    assert live(sim, "slots", ten["id"])["appointment"] == visit["id"]
    assert effects(sim) == [
        (
            "book_appointment",
            f"appointment:{maria['id']}:{doctor['id']}:2026-01-05",
            True,
            "cancel_appointment",
        )
    ]
    assert next(iter(sim.world.ledger)).ref == visit["id"]
    mine = door.call("list_appointments", patient=maria["id"])
    assert [a["id"] for a in mine.body["data"]] == [visit["id"]]


@pytest.mark.parametrize(
    ("slot", "state"), [("nine", "booked by {taken}"), ("lunch", "blocked")]
)
def test_a_slot_that_is_not_open_is_a_409_slot_unavailable(
    door: Door, sim: RunSetup, slot: str, state: str
) -> None:
    ident = named(sim, slot)["id"]
    answer = door.call(
        "book_appointment", patient=named(sim, "maria")["id"], slot=ident
    )
    assert answer.status == 409
    said = state.format(taken=named(sim, "taken")["id"])
    assert answer.body == error(
        "slot_unavailable",
        f"Slot {ident} is {said}; list the provider's open slots and choose another.",
        "slot",
    )
    assert len(sim.world.ledger) == 0


def test_a_slot_that_has_started_is_a_422_slot_in_past(
    door: Door, sim: RunSetup
) -> None:
    slot = named(sim, "yesterday")
    answer = door.call(
        "book_appointment", patient=named(sim, "maria")["id"], slot=slot["id"]
    )
    assert answer.status == 422
    assert answer.body["error"]["code"] == "slot_in_past"
    assert len(sim.world.ledger) == 0


def test_a_retry_with_the_same_key_replays_the_booking(
    door: Door, sim: RunSetup
) -> None:
    maria, ten = named(sim, "maria"), named(sim, "ten")
    first = door.call(
        "book_appointment", idempotency_key="k1", patient=maria["id"], slot=ten["id"]
    )
    again = door.call(
        "book_appointment", idempotency_key="k1", patient=maria["id"], slot=ten["id"]
    )
    assert (first.status, again.status) == (201, 201)
    assert again.replayed
    assert again.body["id"] == first.body["id"]
    other = door.call(
        "book_appointment",
        idempotency_key="k1",
        patient=maria["id"],
        slot=named(sim, "next_day")["id"],
    )
    assert other.status == 400
    assert other.body["error"]["code"] == "idempotency_error"
    assert len(sim.world.ledger) == 1


def test_a_retry_without_a_key_finds_the_slot_taken(door: Door, sim: RunSetup) -> None:
    maria, ten = named(sim, "maria"), named(sim, "ten")
    door.call("book_appointment", patient=maria["id"], slot=ten["id"])
    again = door.call("book_appointment", patient=maria["id"], slot=ten["id"])
    assert again.status == 409
    assert again.body["error"]["code"] == "slot_unavailable"


def test_a_second_visit_the_same_day_shares_the_business_key(
    door: Door, sim: RunSetup
) -> None:
    maria = named(sim, "maria")
    door.call("book_appointment", patient=maria["id"], slot=named(sim, "ten")["id"])
    door.call(
        "book_appointment", patient=maria["id"], slot=named(sim, "next_day")["id"]
    )
    keys = [key for _, key, _, _ in effects(sim)]
    doctor = named(sim, "doctor")["id"]
    assert keys == [
        f"appointment:{maria['id']}:{doctor}:2026-01-05",
        f"appointment:{maria['id']}:{doctor}:2026-01-06",
    ]


def test_cancelling_frees_the_slot_once(door: Door, sim: RunSetup) -> None:
    taken, nine = named(sim, "taken"), named(sim, "nine")
    answer = door.call("cancel_appointment", appointment=taken["id"], reason="Sick")
    assert answer.status == 200
    assert (answer.body["status"], answer.body["cancel_reason"]) == (
        "cancelled",
        "Sick",
    )
    assert live(sim, "slots", nine["id"])["status"] == "open"
    assert effects(sim) == [
        ("cancel_appointment", f"cancel:{taken['id']}", True, "book_appointment")
    ]
    again = door.call("cancel_appointment", appointment=taken["id"])
    assert again.status == 409
    assert again.body == error(
        "already_cancelled",
        f"Appointment {taken['id']} was already cancelled.",
        "appointment",
    )
    rebook = door.call(
        "book_appointment", patient=named(sim, "maria")["id"], slot=nine["id"]
    )
    assert rebook.status == 201


def test_booking_trusts_the_slots_status_over_the_appointments(
    door: Door, sim: RunSetup
) -> None:
    nine = named(sim, "nine")
    sim.world.service("calendar").external_change(
        nine["id"], {"status": "open", "appointment": None}, actor="t", revise=False
    )
    answer = door.call(
        "book_appointment", patient=named(sim, "maria")["id"], slot=nine["id"]
    )
    assert answer.status == 201
    holding = door.call("list_appointments", slot=nine["id"], status="booked")
    assert len(holding.body["data"]) == 2


# -- the seeded clinic ---------------------------------------------------------------


def test_the_seeded_schedule_is_consistent() -> None:
    state = World(seed=5).service("calendar").state
    providers, patients = state["providers"], state["patients"]
    slots, visits = state["slots"], state["appointments"]
    assert len(providers) == 6
    assert len(patients) == SCALES["small"].customers // 2
    assert len(slots) == 6 * 10 * 14
    for slot in slots.values():
        start = datetime.fromtimestamp(slot["start"], UTC)
        assert start.weekday() < 5
        assert slot["start"] >= FIRST_DAY
        assert slot["date"] == day_of(slot["start"])
        assert (slot["status"] == "booked") == (slot["appointment"] is not None)
        if slot["appointment"]:
            assert visits[slot["appointment"]]["slot"] == slot["id"]
    assert all(v["patient"] in patients for v in visits.values())
    insured = [p for p in patients.values() if p["insurance_member_id"]]
    assert 0 < len(insured) < len(patients)
    assert all(p["insurance_payer"] for p in insured)


def test_the_large_clinic_scales_with_the_world() -> None:
    faker = Faker("en_US")
    faker.seed_instance(1)
    seed = Calendar.populate(
        faker, random.Random(1), IdGenerator(random.Random(2)), {}, SCALES["large"]
    )
    assert len(seed["patients"]) == SCALES["large"].customers // 2
    assert len(seed["providers"]) == SCALES["large"].employees // 100


def test_a_runs_bookings_never_reach_the_seeded_clinic(
    door: Door, sim: RunSetup
) -> None:
    def clinic() -> dict[str, Any]:
        return copy.deepcopy(dict(World(seed=SEED).service("calendar").state.items()))

    pristine = clinic()
    state = sim.world.service("calendar").state
    slot = next(s for s in state["slots"].values() if s["status"] == "open")
    patient = next(iter(state["patients"].values()))
    assert (
        door.call("book_appointment", patient=patient["id"], slot=slot["id"]).status
        == 201
    )
    assert clinic() == pristine


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            {"kind": "patient", "ssn": "x"},
            "unknown field 'ssn' for a calendar patient (fields: name, date_of_birth,"
            " email, phone, insurance_payer, insurance_member_id)",
        ),
        (
            {"kind": "patient", "date_of_birth": "March 1984"},
            "date_of_birth 'March 1984' is not a YYYY-MM-DD date",
        ),
        (
            {"kind": "slot", "provider": "prov_x", "start": "2026-01-05T10:00"},
            "no calendar provider 'prov_x' for the slot",
        ),
        (
            {"kind": "appointment", "patient": "pat_x", "slot": "slot_x"},
            "no calendar patient 'pat_x' for the appointment",
        ),
    ],
)
def test_a_scenario_record_that_cannot_exist_is_refused_with_the_reason(
    record: dict[str, Any], reason: str
) -> None:
    spec = {
        "name": "t",
        "rationale": "r",
        "task": {"instructions": "x", "input": {}},
        "world": {"records": {"r": {"service": "calendar", **record}}},
    }
    with pytest.raises(HarnessError) as caught:
        prepare_run(unchecked(spec), seed=SEED)
    assert str(caught.value) == f"scenario 't': cannot create record 'r': {reason}"


def test_overlapping_slots_of_one_provider_are_refused() -> None:
    records = copy.deepcopy(CALENDAR_RECORDS)
    records["clash"] = {
        "service": "calendar",
        "kind": "slot",
        "provider": "$doctor.id",
        "start": "2026-01-05T10:15",
    }
    spec = {
        "name": "t",
        "rationale": "r",
        "task": {"instructions": "x", "input": {}},
        "world": {"records": records},
    }
    with pytest.raises(HarnessError, match="overlaps slot slot_"):
        prepare_run(scenario_from_dict(spec), seed=SEED)
