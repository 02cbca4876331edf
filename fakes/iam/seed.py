"""Identity and access seeding: the seeded directory and scenario records.

Employees, their reporting lines and group memberships for a seeded world, and
the users, groups and grants a scenario creates by name.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fakes import _schema as s
from fakes.base import FakeService, IdGenerator, Record, Seed
from fakes.iam.objects import (
    COMPANY_DOMAIN,
    DAY,
    DEPARTMENT_GROUPS,
    DEPARTMENTS,
    GRANT,
    GRANT_REASONS,
    GRANT_STATUSES,
    GROUP,
    GROUPS,
    NOW,
    PRIVILEGED_AFFINITY,
    USER,
    USER_STATUSES,
    find_group,
    grant_object,
    group_object,
    user_object,
)
from fakes.people import People

if TYPE_CHECKING:
    from faker import Faker

_USER_FIELDS = (
    "name",
    "email",
    "employee_id",
    "department",
    "title",
    "manager",
    "status",
    "mfa_enrolled",
    "last_credential_reset",
)
_GROUP_FIELDS = ("name", "description", "privileged", "owner")
_GRANT_FIELDS = ("user", "group", "status", "reason", "expires_at")
#: The fields a scenario may give each record kind (see ``FakeService``).
RECORD_FIELDS: dict[str, s.Schema] = {
    "user": s.scenario_fields(
        USER,
        _USER_FIELDS,
        email=s.nullable(s.string("Work email (null: made from the name).")),
    ),
    "group": s.scenario_fields(GROUP, _GROUP_FIELDS),
    "grant": s.scenario_fields(GRANT, _GRANT_FIELDS),
}
_DEPARTMENTS = tuple(DEPARTMENTS)
_WEIGHTS = tuple(share for share, _ in DEPARTMENTS.values())
_HEAD_TITLE = "Head of "
#: What an email's local part keeps of a name (as fakes.people does).
_NOT_LOCAL = re.compile(r"[^a-z0-9]+")


def seed_iam(
    collections: tuple[str, ...],
    faker: Faker,
    rng: random.Random,
    ids: IdGenerator,
    employees: int,
) -> Seed:
    """Employees, the groups (owned by department heads), and their grants."""
    seed: Seed = {name: {} for name in collections}
    users = _seed_users(faker, rng, ids, employees)
    seed["users"] = {u["id"]: u for u in users}
    heads = {u["department"]: u["id"] for u in users if _is_head(u)}
    ceo = users[0]["id"] if users else None
    groups: dict[str, Record] = {}
    for name, description, privileged, owner in GROUPS:
        group = group_object(ids.new("grp", 10), name, description, privileged)
        group["owner"] = heads.get(owner, ceo)
        groups[name] = group
        seed["groups"][group["id"]] = group
    for user in users:
        for name in _seeded_memberships(rng, user):
            group = groups[name]
            grant = grant_object(
                ids.new("gr", 14),
                user["created"] + rng.randrange(0, 30) * DAY,
                user=user["id"],
                group=group,
                granted_by=group["owner"] or "iam-admin",
                reason=rng.choice(GRANT_REASONS),
            )
            if group["privileged"] and rng.random() < 0.3:
                grant["expires_at"] = NOW + rng.randrange(7, 90) * DAY
            if user["status"] == "deprovisioned" or rng.random() < 0.03:
                grant["status"] = "revoked"
                grant["revoked_at"] = max(grant["created"], user["updated"])
                grant["revoked_by"] = "offboarding"
            seed["grants"][grant["id"]] = grant
    return seed


def create_record(iam: FakeService, kind: str, fields: Mapping[str, Any]) -> Record:
    """A scenario record of ``kind`` (user, group or grant) from ``fields``."""
    if kind == "user":
        return _create_user(iam, fields)
    if kind == "group":
        iam.check_record_fields(kind, fields)
        name = str(fields.get("name", f"team-{iam.world.rng.randrange(10**6)}"))
        group = group_object(
            iam.world.ids.new("grp", 10),
            name,
            str(fields.get("description", f"Members of {name}.")),
            bool(fields.get("privileged", False)),
        )
        group["owner"] = fields.get("owner")
        iam.state["groups"][group["id"]] = group
        return group
    if kind == "grant":
        iam.check_record_fields(kind, fields)
        if "user" not in fields or "group" not in fields:
            raise ValueError("an iam grant needs both 'user' and 'group'")
        if fields.get("status", "active") not in GRANT_STATUSES:
            raise ValueError(
                f"status {fields['status']!r} is not one of {', '.join(GRANT_STATUSES)}"
            )
        found = find_group(iam.state["groups"], str(fields["group"]))
        if found is None:
            raise LookupError(f"no iam group {fields['group']!r}")
        holder = str(fields["user"])
        erp = iam.world.services.get("erp")
        vendors = erp.state["vendors"] if erp is not None else {}
        if holder not in iam.state["users"] and holder not in vendors:
            raise LookupError(f"no iam user or erp vendor {holder!r}")
        now = int(iam.world.clock.epoch())
        grant = grant_object(
            iam.world.ids.new("gr", 14),
            now - 30 * DAY,
            user=holder,
            group=found,
            granted_by=found["owner"] or "iam-admin",
            reason=fields.get("reason", "Scenario setup"),
        )
        grant["expires_at"] = fields.get("expires_at")
        if fields.get("status", "active") == "revoked":
            grant.update(status="revoked", revoked_at=now - DAY, revoked_by="iam")
        iam.state["grants"][grant["id"]] = grant
        return grant
    raise iam.unknown_kind(kind)


def _create_user(iam: FakeService, fields: Mapping[str, Any]) -> Record:
    iam.check_record_fields("user", fields)
    if fields.get("status", "active") not in USER_STATUSES:
        raise ValueError(
            f"status {fields['status']!r} is not one of {', '.join(USER_STATUSES)}"
        )
    world, users = iam.world, iam.state["users"]
    now = int(world.clock.epoch())
    name = str(fields.get("name", world.faker.name()))
    department = str(fields.get("department", world.rng.choice(_DEPARTMENTS)))
    email = fields.get("email")
    if email is None:
        local = _NOT_LOCAL.sub("", name.lower()) or "user"
        email, n = f"{local}@{COMPANY_DOMAIN}", 1
        while users.where("email", email):
            n += 1
            email = f"{local}{n}@{COMPANY_DOMAIN}"
    employee_id = fields.get("employee_id")
    while employee_id is None or users.where("employee_id", employee_id):
        if "employee_id" in fields:
            raise ValueError(f"employee_id {employee_id!r} is already taken")
        employee_id = f"E{world.rng.randrange(10_000, 100_000)}"
    heads = [u for u in users.where("department", department) if _is_head(u)]
    titles = DEPARTMENTS.get(department, (0, ("Specialist",)))[1]
    user = user_object(
        world.ids.new("usr", 14),
        now - 400 * DAY,
        name=name,
        email=str(email),
        employee_id=str(employee_id),
        department=department,
        title=str(fields.get("title", titles[0])),
        manager=fields.get("manager", heads[0]["id"] if heads else None),
    )
    for key in ("status", "mfa_enrolled", "last_credential_reset"):
        if key in fields:
            user[key] = fields[key]
    users[user["id"]] = user
    return user


def _seed_users(
    faker: Faker, rng: random.Random, ids: IdGenerator, count: int
) -> list[Record]:
    """Employees: a CEO, one head per department, then everyone else.

    Managers are earlier employees of the same department, so the reporting
    lines form a tree rooted at the CEO.
    """
    people = People(faker, rng, pool=min(200, max(40, count // 10)))
    departments = ["Executive", *_DEPARTMENTS]
    departments.extend(rng.choices(_DEPARTMENTS, weights=_WEIGHTS, k=count))
    numbers = rng.sample(range(10_000, 100_000), count)
    users: list[Record] = []
    staff: dict[str, list[str]] = {}
    for i in range(count):
        department, person = departments[i], people.person(domain=COMPANY_DOMAIN)
        members = staff.setdefault(department, [])
        if i == 0:
            title, manager = "Chief Executive Officer", None
        elif not members:
            title, manager = _HEAD_TITLE + department, users[0]["id"]
        else:
            title = rng.choice(DEPARTMENTS[department][1])
            manager = members[rng.randrange(1 + len(members) // 8)]
        user = user_object(
            ids.new("usr", 14),
            NOW - rng.randrange(30, 3000) * DAY,
            name=person.name,
            email=person.email,
            employee_id=f"E{numbers[i]}",
            department=department,
            title=title,
            manager=manager,
        )
        roll = rng.random()
        if members and roll < 0.07:
            user["status"] = "suspended" if roll < 0.04 else "deprovisioned"
            user["updated"] = max(user["created"], NOW - rng.randrange(1, 60) * DAY)
        user["mfa_enrolled"] = rng.random() < 0.88
        if rng.random() < 0.5:
            user["last_credential_reset"] = NOW - rng.randrange(1, 365) * DAY
        members.append(user["id"])
        users.append(user)
    return users


def _seeded_memberships(rng: random.Random, user: Record) -> list[str]:
    """The groups a seeded employee is in."""
    names = ["all-staff"]
    department = user["department"]
    if department in DEPARTMENT_GROUPS:
        names.append(DEPARTMENT_GROUPS[department])
    privileged = PRIVILEGED_AFFINITY.get(department)
    if privileged is not None and (_is_head(user) or rng.random() < 0.1):
        names.append(privileged)
    return names


def _is_head(user: Record) -> bool:
    return str(user["title"]).startswith(_HEAD_TITLE)
