"""IAM: employees, groups, grants, credential resets and offboarding, through both doors."""

from __future__ import annotations

import copy
import random
import re
from typing import Any

import pytest
from faker import Faker

from fakes.base import SCALES, IdGenerator
from fakes.iam import COMPANY_DOMAIN, GROUPS, LOGIN_URL, RESET_TTL, Iam
from harness.errors import HarnessError
from harness.run import RunSetup, prepare_run
from harness.world.world import World
from tests.fakes.conftest import SEED, Door, effects, error, unchecked

IAM_RECORDS: dict[str, Any] = {
    "alice": {
        "service": "iam",
        "kind": "user",
        "name": "Alice Doe",
        "department": "Finance",
    },
    "sam": {
        "service": "iam",
        "kind": "user",
        "name": "Sam Held",
        "status": "suspended",
    },
    "carol": {"service": "iam", "kind": "user", "name": "Carol Leaving"},
    "carol_eng": {
        "service": "iam",
        "kind": "grant",
        "user": "$carol.id",
        "group": "engineering",
    },
    "carol_admin": {
        "service": "iam",
        "kind": "grant",
        "user": "$carol.id",
        "group": "domain-admins",
    },
    "carol_old": {
        "service": "iam",
        "kind": "grant",
        "user": "$carol.id",
        "group": "sales",
        "status": "revoked",
    },
    "supplier": {"service": "erp", "kind": "vendor", "name": "Initech Ltd"},
    "on_hold": {"service": "erp", "kind": "vendor", "status": "suspended"},
}
PRIVILEGED = sorted(name for name, _, privileged, _ in GROUPS if privileged)


@pytest.fixture
def records() -> dict[str, Any]:
    return copy.deepcopy(IAM_RECORDS)


def named(sim: RunSetup, name: str) -> dict[str, Any]:
    return sim.world.records[name]


def live(sim: RunSetup, collection: str, ident: str) -> dict[str, Any]:
    record: dict[str, Any] = sim.world.service("iam").state[collection][ident]
    return record


# -- users --------------------------------------------------------------------------


def test_a_user_is_read_by_id(door: Door, sim: RunSetup) -> None:
    alice = named(sim, "alice")
    answer = door.call("get_user", user=alice["id"])
    assert answer.status == 200
    assert answer.body == alice
    assert alice["email"] == f"alicedoe@{COMPANY_DOMAIN}"
    assert re.fullmatch(r"E\d{5}", alice["employee_id"])


def test_reading_an_unknown_user_is_a_404_not_found(door: Door) -> None:
    answer = door.call("get_user", user="usr_x")
    assert answer.status == 404
    assert answer.body == error("not_found", "No such user: 'usr_x'", "user")


def test_a_user_is_found_by_email(door: Door, sim: RunSetup) -> None:
    alice = named(sim, "alice")
    answer = door.call("list_users", email=alice["email"])
    assert [u["id"] for u in answer.body["data"]] == [alice["id"]]


def test_users_are_filtered_by_department_and_status(door: Door, sim: RunSetup) -> None:
    users = sim.world.service("iam").state["users"].values()
    expected = {
        u["id"]
        for u in users
        if u["department"] == "Finance" and u["status"] == "active"
    }
    assert len(expected) > 1, "the seeded world has too few active Finance users"
    answer = door.call("list_users", department="Finance", status="active", limit=100)
    assert answer.status == 200
    assert {u["id"] for u in answer.body["data"]} == expected


# -- groups -------------------------------------------------------------------------


def test_a_group_is_read_by_name_or_by_id(door: Door) -> None:
    by_name = door.call("get_group", group="domain-admins")
    assert by_name.status == 200
    assert (by_name.body["name"], by_name.body["privileged"]) == ("domain-admins", True)
    by_id = door.call("get_group", group=by_name.body["id"])
    assert by_id.body == by_name.body


def test_an_unknown_group_is_a_404_that_lists_the_groups(door: Door) -> None:
    answer = door.call("get_group", group="admins")
    assert answer.status == 404
    assert answer.body == error(
        "not_found",
        "No such group: 'admins' (groups: all-staff, domain-admins, engineering, "
        "finance, finance-approvers, payroll-admins, prod-db-admins, sales, "
        "support, vendor-portal)",
        "group",
    )


def test_privileged_groups_are_listed_by_the_privileged_filter(door: Door) -> None:
    answer = door.call("list_groups", privileged=True, limit=100)
    assert sorted(g["name"] for g in answer.body["data"]) == PRIVILEGED
    assert PRIVILEGED == [
        "domain-admins",
        "finance-approvers",
        "payroll-admins",
        "prod-db-admins",
    ]


# -- granting -----------------------------------------------------------------------


def test_a_grant_adds_the_user_to_the_group_and_is_ledgered(
    door: Door, sim: RunSetup
) -> None:
    alice = named(sim, "alice")
    answer = door.call("grant_access", user=alice["id"], group="engineering")
    assert answer.status == 201
    grant = answer.body
    assert {k: grant[k] for k in ("user", "group_name", "status", "granted_by")} == {
        "user": alice["id"],
        "group_name": "engineering",
        "status": "active",
        "granted_by": sim.identity.name,
    }
    assert effects(sim) == [
        (
            "grant_access",
            f"grant:{alice['id']}:engineering",
            True,
            "revoke_access",
        )
    ]
    [entry] = list(sim.world.ledger)
    assert entry.ref == grant["id"]
    listed = door.call("list_grants", user=alice["id"], group="engineering")
    assert [g["id"] for g in listed.body["data"]] == [grant["id"]]


def test_a_second_grant_of_the_same_group_is_a_409_already_granted(
    door: Door, sim: RunSetup
) -> None:
    alice = named(sim, "alice")
    first = door.call("grant_access", user=alice["id"], group="engineering")
    again = door.call("grant_access", user=alice["id"], group="engineering")
    assert again.status == 409
    assert again.body == error(
        "already_granted",
        f"{alice['id']} already has active access to engineering "
        f"(grant {first.body['id']}).",
        "group",
    )
    assert len(sim.world.ledger) == 1


def test_a_privileged_group_needs_a_justification(door: Door, sim: RunSetup) -> None:
    alice = named(sim, "alice")
    for justification in ({}, {"justification": "  "}):
        answer = door.call(
            "grant_access", user=alice["id"], group="finance-approvers", **justification
        )
        assert answer.status == 422
        assert answer.body == error(
            "justification_required",
            "Group finance-approvers is privileged; pass a justification: why the "
            "access is needed, and the ticket or approval behind it.",
            "justification",
        )
    assert len(sim.world.ledger) == 0


def test_a_justified_privileged_grant_keeps_its_reason(
    door: Door, sim: RunSetup
) -> None:
    alice = named(sim, "alice")
    expires = int(sim.world.clock.epoch()) + 7 * 86_400
    answer = door.call(
        "grant_access",
        user=alice["id"],
        group="finance-approvers",
        justification="Quarter-end close, approved in TKT-42",
        expires_at=expires,
    )
    assert answer.status == 201
    assert answer.body["reason"] == "Quarter-end close, approved in TKT-42"
    assert answer.body["expires_at"] == expires
    [entry] = list(sim.world.ledger)
    assert entry.business_key == f"grant:{alice['id']}:finance-approvers"


def test_access_is_granted_only_to_active_users(door: Door, sim: RunSetup) -> None:
    sam = named(sim, "sam")
    answer = door.call("grant_access", user=sam["id"], group="engineering")
    assert answer.status == 422
    assert answer.body == error(
        "user_not_active",
        f"User {sam['id']} is suspended; access can be granted only to active users.",
        "user",
    )
    assert len(sim.world.ledger) == 0


def test_granting_to_an_unknown_user_is_a_404_not_found(door: Door) -> None:
    answer = door.call("grant_access", user="usr_x", group="engineering")
    assert answer.status == 404
    assert answer.body == error("not_found", "No such user: 'usr_x'", "user")


def test_an_expiry_in_the_past_is_a_422_invalid_expiry(
    door: Door, sim: RunSetup
) -> None:
    now = int(sim.world.clock.epoch())
    answer = door.call(
        "grant_access", user=named(sim, "alice")["id"], group="sales", expires_at=now
    )
    assert answer.status == 422
    assert answer.body == error(
        "invalid_expiry",
        f"expires_at ({now}) is not in the future (now is {now}).",
        "expires_at",
    )


def test_an_active_vendor_gets_external_access(door: Door, sim: RunSetup) -> None:
    vendor = named(sim, "supplier")
    answer = door.call("grant_access", user=vendor["id"], group="vendor-portal")
    assert answer.status == 201
    assert (answer.body["user"], answer.body["group_name"]) == (
        vendor["id"],
        "vendor-portal",
    )
    [entry] = list(sim.world.ledger)
    assert entry.business_key == f"grant:{vendor['id']}:vendor-portal"


def test_a_vendor_is_forbidden_from_privileged_groups(
    door: Door, sim: RunSetup
) -> None:
    vendor = named(sim, "supplier")
    answer = door.call(
        "grant_access",
        user=vendor["id"],
        group="prod-db-admins",
        justification="They asked nicely.",
    )
    assert answer.status == 403
    assert answer.body == error(
        "forbidden",
        f"Vendor {vendor['id']} is external and cannot join privileged group "
        "prod-db-admins; external access goes through non-privileged groups such "
        "as vendor-portal.",
        "group",
    )
    assert len(sim.world.ledger) == 0


def test_a_suspended_vendor_gets_no_access(door: Door, sim: RunSetup) -> None:
    vendor = named(sim, "on_hold")
    answer = door.call("grant_access", user=vendor["id"], group="vendor-portal")
    assert answer.status == 422
    assert answer.body == error(
        "vendor_not_active",
        f"Vendor {vendor['id']} is suspended; access can be granted only to "
        "active vendors.",
        "user",
    )


def test_granting_to_an_unknown_vendor_is_a_404_not_found(door: Door) -> None:
    answer = door.call("grant_access", user="ven_x", group="vendor-portal")
    assert answer.status == 404
    assert answer.body == error("not_found", "No such vendor: 'ven_x'", "user")


# -- revoking -----------------------------------------------------------------------


def test_a_revocation_ends_the_grant_and_is_ledgered(door: Door, sim: RunSetup) -> None:
    grant, carol = named(sim, "carol_admin"), named(sim, "carol")
    answer = door.call("revoke_access", grant=grant["id"], reason="Role change")
    assert answer.status == 200
    assert (answer.body["status"], answer.body["revoked_by"]) == (
        "revoked",
        sim.identity.name,
    )
    assert effects(sim) == [
        ("revoke_access", f"revoke:{carol['id']}:domain-admins", True, "grant_access")
    ]
    assert live(sim, "grants", grant["id"])["status"] == "revoked"


def test_revoking_a_revoked_grant_is_a_409_already_revoked(
    door: Door, sim: RunSetup
) -> None:
    grant, carol = named(sim, "carol_old"), named(sim, "carol")
    answer = door.call("revoke_access", grant=grant["id"])
    assert answer.status == 409
    assert answer.body == error(
        "already_revoked",
        f"Grant {grant['id']} ({carol['id']} in sales) is already revoked.",
        "grant",
    )
    assert len(sim.world.ledger) == 0


def test_granting_again_compensates_a_revocation(door: Door, sim: RunSetup) -> None:
    grant, carol = named(sim, "carol_eng"), named(sim, "carol")
    door.call("revoke_access", grant=grant["id"])
    answer = door.call("grant_access", user=carol["id"], group="engineering")
    assert answer.status == 201
    active = door.call(
        "list_grants", user=carol["id"], group="engineering", status="active"
    )
    assert [g["id"] for g in active.body["data"]] == [answer.body["id"]]


# -- credential resets ----------------------------------------------------------------


def test_a_credential_reset_goes_to_the_users_own_mailbox(
    door: Door, sim: RunSetup
) -> None:
    alice = named(sim, "alice")
    now = int(sim.world.clock.epoch())
    answer = door.call("reset_credentials", user=alice["id"])
    assert answer.status == 201
    reset = answer.body
    assert {k: reset[k] for k in ("user", "delivery", "sent_to", "mfa_reset")} == {
        "user": alice["id"],
        "delivery": "email_to_user",
        "sent_to": alice["email"],
        "mfa_reset": False,
    }
    assert re.fullmatch(re.escape(LOGIN_URL) + r"[A-Za-z0-9]{32}", reset["reset_link"])
    assert reset["expires_at"] == reset["created"] + RESET_TTL
    assert reset["created"] >= now
    assert effects(sim) == [("reset_credentials", f"reset:{alice['id']}", False, None)]
    user = live(sim, "users", alice["id"])
    assert user["last_credential_reset"] == reset["created"]
    assert user["mfa_enrolled"] is True


def test_a_reset_may_also_remove_the_second_factor(door: Door, sim: RunSetup) -> None:
    alice = named(sim, "alice")
    answer = door.call("reset_credentials", user=alice["id"], reset_mfa=True)
    assert answer.body["mfa_reset"] is True
    assert live(sim, "users", alice["id"])["mfa_enrolled"] is False


def test_two_resets_are_two_effects_with_different_links(
    door: Door, sim: RunSetup
) -> None:
    alice = named(sim, "alice")
    first = door.call("reset_credentials", user=alice["id"]).body
    second = door.call("reset_credentials", user=alice["id"]).body
    assert first["reset_link"] != second["reset_link"]
    assert len(sim.world.ledger.by_key(f"reset:{alice['id']}")) == 2


def test_credentials_are_reset_only_for_active_users(door: Door, sim: RunSetup) -> None:
    sam = named(sim, "sam")
    answer = door.call("reset_credentials", user=sam["id"])
    assert answer.status == 422
    assert answer.body == error(
        "user_not_active",
        f"User {sam['id']} is suspended; credentials can be reset only for "
        "active users.",
        "user",
    )
    assert len(sim.world.ledger) == 0
    assert sim.world.service("iam").state["credential_resets"] == {}


# -- deprovisioning -------------------------------------------------------------------


def test_deprovisioning_disables_the_user_and_revokes_every_active_grant(
    door: Door, sim: RunSetup
) -> None:
    carol = named(sim, "carol")
    eng, admin = named(sim, "carol_eng"), named(sim, "carol_admin")
    answer = door.call("deprovision_user", user=carol["id"], reason="HR-1207")
    assert answer.status == 200
    assert answer.body["id"] == carol["id"]
    assert answer.body["user"]["status"] == "deprovisioned"
    assert answer.body["revoked_grants"] == [eng["id"], admin["id"]]
    assert effects(sim) == [
        ("deprovision_user", f"deprovision:{carol['id']}", False, None),
        ("deprovision_user", f"revoke:{carol['id']}:engineering", False, None),
        ("deprovision_user", f"revoke:{carol['id']}:domain-admins", False, None),
    ]
    assert [e.ref for e in sim.world.ledger] == [carol["id"], eng["id"], admin["id"]]
    remaining = door.call("list_grants", user=carol["id"], status="active")
    assert remaining.body["data"] == []


def test_a_deprovisioned_user_cannot_be_deprovisioned_again_or_granted_access(
    door: Door, sim: RunSetup
) -> None:
    carol = named(sim, "carol")
    door.call("deprovision_user", user=carol["id"])
    again = door.call("deprovision_user", user=carol["id"])
    assert again.status == 409
    assert again.body == error(
        "already_deprovisioned", f"User {carol['id']} is already deprovisioned.", "user"
    )
    grant = door.call("grant_access", user=carol["id"], group="engineering")
    assert grant.status == 422
    assert grant.body["error"]["code"] == "user_not_active"
    assert len(sim.world.ledger) == 3


# -- the seeded directory -------------------------------------------------------------


def test_the_seeded_directory_is_consistent() -> None:
    state = World(seed=5).service("iam").state
    users, groups, grants = state["users"], state["groups"], state["grants"]
    assert len(users) == SCALES["small"].employees
    assert len(groups) == len(GROUPS)
    assert all(u["email"].endswith(f"@{COMPANY_DOMAIN}") for u in users.values())
    assert len({u["email"] for u in users.values()}) == len(users)
    assert len({u["employee_id"] for u in users.values()}) == len(users)
    roots = [u for u in users.values() if u["manager"] is None]
    assert [u["title"] for u in roots] == ["Chief Executive Officer"]
    assert all(u["manager"] in users for u in users.values() if u["manager"])
    assert all(g["owner"] in users for g in groups.values())
    for grant in grants.values():
        assert grant["user"] in users
        assert groups[grant["group"]]["name"] == grant["group_name"]
        if users[grant["user"]]["status"] == "deprovisioned":
            assert grant["status"] == "revoked"


def test_the_large_directory_has_its_stated_size() -> None:
    faker = Faker("en_US")
    faker.seed_instance(1)
    seed = Iam.populate(
        faker, random.Random(1), IdGenerator(random.Random(2)), {}, SCALES["large"]
    )
    assert len(seed["users"]) == SCALES["large"].employees == 2_000
    assert len(seed["grants"]) > len(seed["users"])


def test_a_runs_changes_never_reach_the_seeded_directory(
    door: Door, sim: RunSetup
) -> None:
    def directory() -> dict[str, Any]:
        return copy.deepcopy(dict(World(seed=SEED).service("iam").state.items()))

    pristine = directory()
    state = sim.world.service("iam").state
    seeded = next(
        u
        for u in state["users"].values()
        if u["status"] == "active"
        and any(g["status"] == "active" for g in state["grants"].where("user", u["id"]))
    )
    door.call("reset_credentials", user=seeded["id"], reset_mfa=True)
    door.call("grant_access", user=seeded["id"], group="support")
    door.call("deprovision_user", user=seeded["id"])
    assert state["users"][seeded["id"]]["status"] == "deprovisioned"
    after = directory()
    assert after == pristine
    assert after["users"][seeded["id"]]["status"] == "active"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            {"kind": "user", "role": "x"},
            "unknown field 'role' for an iam user (fields: name, email, employee_id, "
            "department, title, manager, status, mfa_enrolled, last_credential_reset)",
        ),
        (
            {"kind": "user", "status": "fired"},
            "status 'fired' is not one of active, suspended, deprovisioned",
        ),
        (
            {"kind": "grant", "user": "usr_x", "group": "admins"},
            "no iam group 'admins'",
        ),
        (
            {"kind": "grant", "user": "usr_x"},
            "an iam grant needs both 'user' and 'group'",
        ),
        (
            {"kind": "grant", "user": "usr_x", "group": "sales"},
            "no iam user or erp vendor 'usr_x'",
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
        "world": {"records": {"r": {"service": "iam", **record}}},
    }
    with pytest.raises(HarnessError) as caught:
        prepare_run(unchecked(spec), seed=SEED)
    assert str(caught.value) == f"scenario 't': cannot create record 'r': {reason}"


def test_a_new_user_s_manager_is_the_head_a_scan_of_the_department_finds() -> None:
    from fakes.iam.objects import DEPARTMENTS
    from fakes.iam.seed import _heads_of, _is_head

    for seed in (4401, 4402):
        world = World(seed=seed)
        iam = world.service("iam")
        iam.create_record("user", {"name": "Hana Head", "department": "Sales"})
        iam.create_record(
            "user", {"name": "Ola Other", "department": "Sales", "title": "Head of X"}
        )
        users = iam.state["users"]
        first = next(iter(users))
        users.writable(first)["title"] = "Head of Sales"
        for department in ["Executive", *DEPARTMENTS, "Nowhere"]:
            scan = [u for u in users.where("department", department) if _is_head(u)]
            assert _heads_of(users, department) == scan, department
