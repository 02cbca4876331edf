"""Identity and access seeding: the seeded directory and scenario records.

Employees, their reporting lines and group memberships for a seeded world, and
the users, groups and grants a scenario creates by name.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fakes import _schema as s
from fakes.base import FakeService, IdGenerator, Record
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
from fakes.lazy import Draws, Groups, LazyRecords, SeedContext
from fakes.people import seeded_person, seeded_uniques
from fakes.table import Table

if TYPE_CHECKING:
    pass

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
    heads = _heads_of(users, department)
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


def _seeded_memberships(rng: random.Random | Draws, user: Record) -> list[str]:
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


def _heads_of(users: Table, department: str) -> list[Record]:
    """The heads of ``department``, seeded ones first, as a scan would list them.

    A seeded head's title is ``Head of`` its department and no other seeded
    title starts so: the seeded heads are found by title, without making every
    member of the department.
    """
    own = users.changed
    mine = {id(record) for record in own.values()}
    return [
        user
        for user in users.where("title", _HEAD_TITLE + department)
        if id(user) not in mine and user.get("department") == department
    ] + [
        user
        for user in own.values()
        if user.get("department") == department and _is_head(user)
    ]


# -- the lazily made directory ----------------------------------------------------

#: A user's grants are made with the user, in slots ``user * _GRANTS + place``.
_GRANTS = 4
_EMPLOYEE_NUMBERS = 90_000
_SUSPENDED, _DEPROVISIONED = 2621, 4588  # 4% and 7% of 65536


def seed_iam_lazily(
    collections: tuple[str, ...], ctx: SeedContext
) -> dict[str, Mapping[str, Record]]:
    """The same directory, each employee (with their grants) made when read.

    The skeleton holds each employee's department, title and status (so the
    heads, the account executives and the active staff are found unmade) and
    their employee number, an affine bijection of their slot.
    """
    import numpy as np  # seeding a world needs it; reading scenarios does not

    count = ctx.scale.employees
    names = ["Executive", *_DEPARTMENTS]
    skeleton = ctx.stream("skeleton")
    rest = max(0, count - len(names))
    draws = np.frombuffer(skeleton.randbytes(4 * rest), dtype="<u4")
    shares = np.cumsum(np.array(_WEIGHTS, dtype=np.uint64))
    picked = np.searchsorted(
        shares, (draws.astype(np.uint64) * shares[-1]) >> np.uint64(32), side="right"
    )
    department = np.concatenate(
        [np.arange(len(names), dtype=np.int64), picked.astype(np.int64) + 1]
    )[:count]
    titles = [("Chief Executive Officer",)] + [DEPARTMENTS[d][1] for d in _DEPARTMENTS]
    n_titles = np.array([len(t) for t in titles], dtype=np.uint64)
    title_draw = np.frombuffer(skeleton.randbytes(4 * count), dtype="<u4")
    title = (
        (title_draw.astype(np.uint64) * n_titles[department]) >> np.uint64(32)
    ).astype(np.int64)
    rolls = np.frombuffer(skeleton.randbytes(2 * count), dtype="<u2").copy()
    # The first of each department is its head (the CEO's: the first of all).
    heads = {dept: dept for dept in range(min(count, len(names)))}
    head = np.arange(count) < len(names)
    # Each department's first member after its head holds its first title (the
    # company has an account executive, a support agent, ...), and is active.
    _, firsts = np.unique(department[len(names) :], return_index=True)
    title[firsts + len(names)] = 0
    rolls[firsts + len(names)] = 65535
    status = np.zeros(count, dtype=np.int64)  # 0 active, 1 suspended, 2 gone
    status[(rolls < _DEPROVISIONED) & ~head] = 2
    status[(rolls < _SUSPENDED) & ~head] = 1
    key = ctx.key("numbers")
    mul = (key >> 17) % _EMPLOYEE_NUMBERS | 1
    while math.gcd(mul, _EMPLOYEE_NUMBERS) != 1:
        mul += 2
    offset = key % _EMPLOYEE_NUMBERS
    user_ids = ctx.codec("users", "usr", 14)
    members: dict[int, np.ndarray[Any, Any]] = {}
    user_key = ctx.key("users")

    def of_department(dept: int) -> np.ndarray[Any, Any]:
        found = members.get(dept)
        if found is None:
            found = members[dept] = np.flatnonzero(department == dept)
        return found

    def title_of(slot: int) -> str:
        dept = int(department[slot])
        if slot == 0:
            return "Chief Executive Officer"
        if head[slot]:
            return _HEAD_TITLE + names[dept]
        return titles[dept][int(title[slot])]

    def employee_number(slot: int) -> str:
        return f"E{10_000 + (slot * mul + offset) % _EMPLOYEE_NUMBERS}"

    def user(slot: int) -> Record | None:
        if not 0 <= slot < count:
            return None
        draw = Draws(user_key ^ slot)
        dept = int(department[slot])
        person = seeded_person(draw, slot, domain=COMPANY_DOMAIN)
        if slot == 0:
            manager = None
        elif head[slot]:
            manager = user_ids.ident(0)
        else:
            earlier = of_department(dept)
            place = int(np.searchsorted(earlier, slot))
            manager = user_ids.ident(int(earlier[draw.below(1 + place // 8)]))
        record = user_object(
            user_ids.ident(slot),
            NOW - draw.between(30, 3000) * DAY,
            name=person.name,
            email=person.email,
            employee_id=employee_number(slot),
            department=names[dept],
            title=title_of(slot),
            manager=manager,
        )
        if status[slot]:
            record["status"] = USER_STATUSES[int(status[slot])]
            record["updated"] = max(record["created"], NOW - draw.between(1, 60) * DAY)
        record["mfa_enrolled"] = draw.random() < 0.88
        if draw.random() < 0.5:
            record["last_credential_reset"] = NOW - draw.between(1, 365) * DAY
        return record

    def by_department(value: object) -> list[int] | None:
        if value not in names:
            return []
        found: list[int] = of_department(names.index(str(value))).tolist()
        return found

    def by_title(value: object) -> list[int]:
        if not isinstance(value, str):
            return []
        if value.startswith(_HEAD_TITLE) or value == "Chief Executive Officer":
            return [i for i in heads.values() if title_of(i) == value]
        found: list[int] = []
        for dept, options in enumerate(titles):
            if value in options and dept:
                at = (department == dept) & (title == options.index(value)) & ~head
                found.extend(np.flatnonzero(at).tolist())
        return sorted(found)

    def by_status(value: object) -> list[int]:
        if value not in USER_STATUSES:
            return []
        return np.flatnonzero(status == USER_STATUSES.index(str(value))).tolist()

    def by_email(value: object) -> list[int]:
        return [u for u in seeded_uniques(value) if u < count]

    def by_number(value: object) -> list[int]:
        text = str(value)
        if not text.startswith("E") or not text[1:].isdigit():
            return []
        number = int(text[1:]) - 10_000
        inverse = pow(mul, -1, _EMPLOYEE_NUMBERS)
        return [(number - offset) * inverse % _EMPLOYEE_NUMBERS]

    def email_of(slot: int) -> str:
        # The first of a user's draws make its name and email (``user``).
        return seeded_person(Draws(user_key ^ slot), slot, domain=COMPANY_DOMAIN).email

    users = LazyRecords(
        codec=user_ids,
        make=user,
        count=count,
        fields={
            "id": user_ids.ident,
            "email": email_of,
            "employee_id": employee_number,
            "department": lambda slot: names[int(department[slot])],
            "status": lambda slot: USER_STATUSES[int(status[slot])],
        },
        finders={
            "department": by_department,
            "title": by_title,
            "status": by_status,
            "email": by_email,
            "employee_id": by_number,
        },
    )
    ids = IdGenerator.seeded(ctx.stream("ids"))
    groups: dict[str, Record] = {}
    for name, description, privileged, owner in GROUPS:
        group = group_object(ids.new("grp", 10), name, description, privileged)
        dept = names.index(owner) if owner in names else -1
        owner_slot = heads.get(dept, 0 if count else None)
        group["owner"] = None if owner_slot is None else user_ids.ident(owner_slot)
        groups[name] = group
    grant_ids = ctx.codec("grants", "gr", 14)
    grant_key = ctx.key("grants")

    def build(slot: int) -> dict[str, list[Record]]:
        member = users.at(slot)
        assert member is not None
        draw = Draws(grant_key ^ slot)
        made: list[Record] = []
        for name in _seeded_memberships(draw, member):
            group = groups[name]
            grant = grant_object(
                grant_ids.ident(slot * _GRANTS + len(made)),
                member["created"] + draw.between(0, 30) * DAY,
                user=member["id"],
                group=group,
                granted_by=group["owner"] or "iam-admin",
                reason=draw.pick(GRANT_REASONS),
            )
            if group["privileged"] and draw.random() < 0.3:
                grant["expires_at"] = NOW + draw.between(7, 90) * DAY
            if member["status"] == "deprovisioned" or draw.random() < 0.03:
                grant["status"] = "revoked"
                grant["revoked_at"] = max(grant["created"], member["updated"])
                grant["revoked_by"] = "offboarding"
            made.append(grant)
        return {"grants": made}

    grants = Groups(count, _GRANTS, build)
    tables: dict[str, Mapping[str, Record]] = {name: {} for name in collections}
    tables["users"] = users
    tables["groups"] = {g["id"]: g for g in groups.values()}
    tables["grants"] = grants.table(
        "grants",
        grant_ids,
        {"user": lambda v: grants.of_group("grants", user_ids.slot(v))},
    )
    return tables
