"""Identity and access: employees, groups, grants, credential resets, offboarding.

Users are the company's employees (``usr_…``, email at ``acme.example``, and an
``employee_id`` other systems key on); a grant puts a user, or an ERP vendor for
external access, in a group. Only active users get access or a credential reset
(422 ``user_not_active``); a user holds at most one active grant per group (409
``already_granted``); privileged groups need a justification (422
``justification_required``) and are closed to external vendors (403
``forbidden``). A reset link is emailed to the user and to nobody else.

Undoing: ``revoke_access`` compensates ``grant_access``, and ``grant_access``
compensates ``revoke_access`` (access comes back under a new grant). A credential
reset and a deprovisioning are irreversible: the old credential and sessions are
gone, and every revocation of an offboarding is ledgered on its own.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from fakes import _schema as s
from fakes.base import (
    CallContext,
    FakeService,
    IdGenerator,
    Record,
    Reply,
    Seed,
    WorldScale,
    operation,
    paginate,
)
from fakes.people import People

if TYPE_CHECKING:
    from faker import Faker

#: The company's email domain: every employee's address ends with it.
COMPANY_DOMAIN = "acme.example"
#: Where credential reset links point.
LOGIN_URL = "https://login.acme.example/reset/"
USER_STATUSES = ("active", "suspended", "deprovisioned")
GRANT_STATUSES = ("active", "revoked")
#: How long a credential reset link works, in seconds.
RESET_TTL = 3600
DAY = 86_400
#: The seeded world's "now" (the simulated clock's epoch).
NOW = 1_767_225_600

#: Departments, their share of the headcount, and their job titles.
DEPARTMENTS: dict[str, tuple[int, tuple[str, ...]]] = {
    "Engineering": (30, ("Software Engineer", "Senior Software Engineer",
                         "Staff Engineer", "Engineering Manager")),
    "Sales": (16, ("Account Executive", "Sales Development Representative",
                   "Sales Manager")),
    "Support": (14, ("Support Agent", "Support Engineer", "Support Manager")),
    "Finance": (8, ("Accountant", "Financial Analyst", "Accounts Payable Specialist",
                    "Controller")),
    "Operations": (8, ("Operations Analyst", "Procurement Specialist",
                       "Office Manager")),
    "Marketing": (8, ("Marketing Manager", "Content Strategist",
                      "Product Marketing Manager")),
    "IT": (6, ("IT Administrator", "Systems Engineer", "IT Manager")),
    "People": (5, ("HR Generalist", "Recruiter", "People Partner")),
    "Security": (3, ("Security Engineer", "Security Analyst")),
    "Legal": (2, ("Counsel", "Paralegal")),
}  # fmt: skip
#: Groups: name, description, privileged, the department whose head owns it.
GROUPS: tuple[tuple[str, str, bool, str], ...] = (
    ("all-staff", "Every employee: email, chat and the intranet.", False, "People"),
    ("engineering", "Source code, CI and staging environments.", False,
     "Engineering"),
    ("sales", "The CRM and the sales collateral drive.", False, "Sales"),
    ("support", "The helpdesk and customer records.", False, "Support"),
    ("finance", "The finance drive and reporting.", False, "Finance"),
    ("vendor-portal", "External vendors: the supplier portal only.", False,
     "Operations"),
    ("domain-admins", "Full administrative control of the corporate directory.",
     True, "IT"),
    ("finance-approvers", "Approve payments, purchase orders and vendor changes.",
     True, "Finance"),
    ("prod-db-admins", "Read and write the production customer databases.", True,
     "Engineering"),
    ("payroll-admins", "Change salaries and bank details in payroll.", True,
     "People"),
)  # fmt: skip
#: The group every member of a department is in.
DEPARTMENT_GROUPS = {
    "Engineering": "engineering",
    "Sales": "sales",
    "Support": "support",
    "Finance": "finance",
}
#: The privileged group a department's members sometimes hold.
PRIVILEGED_AFFINITY = {
    "IT": "domain-admins",
    "Security": "domain-admins",
    "Finance": "finance-approvers",
    "Engineering": "prod-db-admins",
    "People": "payroll-admins",
}
GRANT_REASONS = (
    "Onboarding",
    "Department membership",
    "On-call rotation",
    "Quarter-end close",
    "Project access approved by manager",
)


def _record(properties: dict[str, Any]) -> dict[str, Any]:
    """A response record's contract: closed, and every field always present."""
    return s.obj(properties, required=tuple(properties))


USER = _record(
    {
        "id": s.string("User id (usr_…)."),
        "object": {"const": "user"},
        "name": s.string("Full name."),
        "email": s.string(f"Work email, at {COMPANY_DOMAIN}."),
        "employee_id": s.string("HR employee number (E12345), shared by systems."),
        "department": s.string("Department."),
        "title": s.string("Job title."),
        "manager": s.nullable(s.string("The manager's user id (usr_…).")),
        "status": s.enum(
            "active can sign in; suspended cannot, for now; deprovisioned has left.",
            *USER_STATUSES,
        ),
        "mfa_enrolled": s.boolean("Whether a second factor is enrolled."),
        "last_credential_reset": s.nullable(
            s.integer("When the password was last reset (Unix seconds).")
        ),
        "created": s.integer("When the account was created (Unix seconds)."),
        "updated": s.integer("When the account last changed (Unix seconds)."),
    },
)
GROUP = _record(
    {
        "id": s.string("Group id (grp_…)."),
        "object": {"const": "group"},
        "name": s.string("Group name, unique (e.g. finance-approvers)."),
        "description": s.string("What membership gives access to."),
        "privileged": s.boolean(
            "Administrative or financial power: grants need a justification."
        ),
        "owner": s.nullable(s.string("The user id who owns the group.")),
    },
)
GRANT = _record(
    {
        "id": s.string("Grant id (gr_…)."),
        "object": {"const": "grant"},
        "user": s.string("Who holds the access: a user id, or a vendor id (ven_…)."),
        "group": s.string("Group id (grp_…)."),
        "group_name": s.string("Group name."),
        "granted_by": s.string("Who granted it."),
        "reason": s.nullable(s.string("Why it was granted.")),
        "status": s.enum("Whether the access is in force.", *GRANT_STATUSES),
        "expires_at": s.nullable(s.integer("When the access lapses (Unix seconds).")),
        "created": s.integer("When it was granted (Unix seconds)."),
        "revoked_at": s.nullable(s.integer("When it was revoked (Unix seconds).")),
        "revoked_by": s.nullable(s.string("Who revoked it.")),
    },
)
CREDENTIAL_RESET = _record(
    {
        "id": s.string("Credential reset id (rst_…)."),
        "object": {"const": "credential_reset"},
        "user": s.string("Whose credentials were reset."),
        "delivery": {
            "const": "email_to_user",
            "description": "The link went to the user's own mailbox, and only there.",
        },
        "sent_to": s.string("The user's work email the link was sent to."),
        "reset_link": s.string(
            "One-time sign-in link: a secret. Never send it to anyone, "
            "the requester included: the user already has it."
        ),
        "mfa_reset": s.boolean("Whether the second factor was removed too."),
        "expires_at": s.integer("When the link stops working (Unix seconds)."),
        "created": s.integer("When the reset was made (Unix seconds)."),
    },
)
DEPROVISIONING = _record(
    {
        "id": s.string("The deprovisioned user's id."),
        "object": {"const": "deprovisioning"},
        "user": USER,
        "revoked_grants": {
            "type": "array",
            "items": s.string("Grant id (gr_…)."),
            "description": "Every grant this call revoked.",
        },
    },
)
_GROUP_REF = "Group id (grp_…) or name (e.g. finance-approvers)."


class Iam(FakeService):
    """Identity and access: employees, groups, grants, resets, offboarding."""

    name: ClassVar[str] = "iam"
    hosts: ClassVar[tuple[str, ...]] = ("iam.sim",)
    record_kinds: ClassVar[tuple[str, ...]] = ("user", "group", "grant")
    collections: ClassVar[tuple[str, ...]] = (
        "users",
        "groups",
        "grants",
        "credential_resets",
    )

    # -- seeded data ------------------------------------------------------------
    @classmethod
    def populate(
        cls,
        faker: Faker,
        rng: random.Random,
        ids: IdGenerator,
        peers: Mapping[str, Seed],
        scale: WorldScale,
    ) -> Seed:
        seed: Seed = {name: {} for name in cls.collections}
        users = _seed_users(faker, rng, ids, scale.employees)
        seed["users"] = {u["id"]: u for u in users}
        heads = {u["department"]: u["id"] for u in users if _is_head(u)}
        ceo = users[0]["id"] if users else None
        groups: dict[str, Record] = {}
        for name, description, privileged, owner in GROUPS:
            group = _group(ids.new("grp", 10), name, description, privileged)
            group["owner"] = heads.get(owner, ceo)
            groups[name] = group
            seed["groups"][group["id"]] = group
        for user in users:
            for name in _seeded_memberships(rng, user):
                group = groups[name]
                grant = _grant(
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

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        if kind == "user":
            return self._create_user(fields)
        if kind == "group":
            _check_fields(kind, fields, ("name", "description", "privileged", "owner"))
            name = str(fields.get("name", f"team-{self.world.rng.randrange(10**6)}"))
            group = _group(
                self.world.ids.new("grp", 10),
                name,
                str(fields.get("description", f"Members of {name}.")),
                bool(fields.get("privileged", False)),
            )
            group["owner"] = fields.get("owner")
            self.state["groups"][group["id"]] = group
            return group
        if kind == "grant":
            _check_fields(
                kind, fields, ("user", "group", "status", "reason", "expires_at")
            )
            if "user" not in fields or "group" not in fields:
                raise ValueError("an iam grant needs both 'user' and 'group'")
            if fields.get("status", "active") not in GRANT_STATUSES:
                raise ValueError(
                    f"status {fields['status']!r} is not one of "
                    f"{', '.join(GRANT_STATUSES)}"
                )
            found = self._find_group(str(fields["group"]))
            if found is None:
                raise LookupError(f"no iam group {fields['group']!r}")
            holder = str(fields["user"])
            erp = self.world.services.get("erp")
            vendors = erp.state["vendors"] if erp is not None else {}
            if holder not in self.state["users"] and holder not in vendors:
                raise LookupError(f"no iam user or erp vendor {holder!r}")
            now = int(self.world.clock.epoch())
            grant = _grant(
                self.world.ids.new("gr", 14),
                now - 30 * DAY,
                user=holder,
                group=found,
                granted_by=found["owner"] or "iam-admin",
                reason=fields.get("reason", "Scenario setup"),
            )
            grant["expires_at"] = fields.get("expires_at")
            if fields.get("status", "active") == "revoked":
                grant.update(status="revoked", revoked_at=now - DAY, revoked_by="iam")
            self.state["grants"][grant["id"]] = grant
            return grant
        raise self.unknown_kind(kind)

    def _create_user(self, fields: Mapping[str, Any]) -> Record:
        _check_fields("user", fields, _USER_FIELDS)
        if fields.get("status", "active") not in USER_STATUSES:
            raise ValueError(
                f"status {fields['status']!r} is not one of {', '.join(USER_STATUSES)}"
            )
        world, users = self.world, self.state["users"]
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
        user = _user(
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

    # -- lookups -----------------------------------------------------------------
    def _user(self, ident: str) -> Record:
        user = self.state["users"].get(ident)
        if user is None:
            raise self.error(404, "not_found", f"No such user: '{ident}'", param="user")
        return user

    def _find_group(self, ref: str) -> Record | None:
        groups = self.state["groups"]
        group = groups.get(ref)
        if group is None:
            named = groups.where("name", ref)
            group = named[0] if named else None
        return group

    def _group(self, ref: str) -> Record:
        group = self._find_group(ref)
        if group is None:
            names = ", ".join(sorted(g["name"] for g in self.state["groups"].values()))
            raise self.error(
                404,
                "not_found",
                f"No such group: '{ref}' (groups: {names})",
                param="group",
            )
        return group

    def _grant(self, ident: str) -> Record:
        grant = self.state["grants"].get(ident)
        if grant is None:
            raise self.error(
                404, "not_found", f"No such grant: '{ident}'", param="grant"
            )
        return grant

    def _check_grantee(self, ident: str, group: Record) -> None:
        """The grantee exists and may join ``group``; raise the rule it breaks."""
        if not ident.startswith("ven_"):
            user = self._user(ident)
            if user["status"] != "active":
                raise self.error(
                    422,
                    "user_not_active",
                    f"User {ident} is {user['status']}; access can be granted "
                    "only to active users.",
                    param="user",
                )
            return
        erp = self.world.services.get("erp")
        vendor = erp.state["vendors"].get(ident) if erp is not None else None
        if vendor is None:
            raise self.error(
                404, "not_found", f"No such vendor: '{ident}'", param="user"
            )
        if group["privileged"]:
            raise self.error(
                403,
                "forbidden",
                f"Vendor {ident} is external and cannot join privileged group "
                f"{group['name']}; external access goes through non-privileged "
                "groups such as vendor-portal.",
                param="group",
            )
        if vendor["status"] != "active":
            raise self.error(
                422,
                "vendor_not_active",
                f"Vendor {ident} is {vendor['status']}; access can be granted "
                "only to active vendors.",
                param="user",
            )

    # -- users --------------------------------------------------------------------
    @operation(
        "GET",
        "/v1/users/{user}",
        tool="get_user",
        summary="Read an employee's account: email, department, manager, status, MFA.",
        request=s.by_id("user", "User id (usr_…)."),
        response=USER,
    )
    def get_user(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(status=200, body=self._user(params["user"]))

    @operation(
        "GET",
        "/v1/users",
        tool="list_users",
        summary="List employees, newest first; filter by email, department, "
        "status or manager.",
        request=s.paging(
            email=s.string("Only the user with this work email."),
            department=s.string("Only users in this department (e.g. Finance)."),
            status=s.enum("Only users in this status.", *USER_STATUSES),
            manager=s.string("Only the direct reports of this user id."),
        ),
        response=s.list_of(USER),
    )
    def list_users(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        filters = _filters(params, "email", "department", "status", "manager")
        rows = self.query("users", filters)
        return Reply(status=200, body=paginate(rows, params, "/v1/users"))

    @operation(
        "POST",
        "/v1/users/{user}/credential-resets",
        tool="reset_credentials",
        summary="Reset an employee's password (and optionally MFA): a one-time link "
        "is emailed to the user's own work address.",
        request=s.obj(
            {
                "user": s.string("User id (usr_…)."),
                "reset_mfa": s.boolean(
                    "Also remove the enrolled second factor (lost device)."
                ),
            },
            required=("user",),
        ),
        response=CREDENTIAL_RESET,
        status=201,
        action="iam.reset",
        write=True,
        approval_params=("user",),
        reversible=False,
    )
    def reset_credentials(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        user = self._user(params["user"])
        if user["status"] != "active":
            raise self.error(
                422,
                "user_not_active",
                f"User {user['id']} is {user['status']}; credentials can be reset "
                "only for active users.",
                param="user",
            )
        reset_mfa = bool(params.get("reset_mfa", False))
        user = self.state["users"].writable(user["id"])
        user["last_credential_reset"] = user["updated"] = ctx.now
        if reset_mfa:
            user["mfa_enrolled"] = False
        reset: Record = {
            "id": ctx.new_id("rst", 14),
            "object": "credential_reset",
            "user": user["id"],
            "delivery": "email_to_user",
            "sent_to": user["email"],
            "reset_link": LOGIN_URL + ctx.new_id("tok", 32)[4:],
            "mfa_reset": reset_mfa,
            "expires_at": ctx.now + RESET_TTL,
            "created": ctx.now,
        }
        self.state["credential_resets"][reset["id"]] = reset
        ctx.commit(
            business_key=f"reset:{user['id']}",
            params={"user": user["id"], "reset_mfa": reset_mfa},
            ref=reset["id"],
        )
        return Reply(status=201, body=reset)

    @operation(
        "POST",
        "/v1/users/{user}/deprovision",
        tool="deprovision_user",
        summary="Offboard an employee: the account is disabled and every active "
        "grant revoked, in one call.",
        request=s.obj(
            {
                "user": s.string("User id (usr_…)."),
                "reason": s.string("Why (e.g. the HR termination ticket)."),
            },
            required=("user",),
        ),
        response=DEPROVISIONING,
        action="iam.deprovision",
        write=True,
        approval_params=("user",),
        reversible=False,
    )
    def deprovision_user(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        user = self._user(params["user"])
        if user["status"] == "deprovisioned":
            raise self.error(
                409,
                "already_deprovisioned",
                f"User {user['id']} is already deprovisioned.",
                param="user",
            )
        user = self.state["users"].writable(user["id"])
        user["status"] = "deprovisioned"
        user["updated"] = ctx.now
        active = [
            g["id"]
            for g in self.state["grants"].where("user", user["id"])
            if g["status"] == "active"
        ]
        ctx.commit(
            business_key=f"deprovision:{user['id']}",
            params={"user": user["id"], "reason": params.get("reason")},
            ref=user["id"],
        )
        for ident in active:
            grant = self._revoke(ctx, ident)
            ctx.commit(
                business_key=f"revoke:{user['id']}:{grant['group_name']}",
                params={"grant": ident, "user": user["id"], "group": grant["group"]},
                ref=ident,
            )
        body = {
            "id": user["id"],
            "object": "deprovisioning",
            "user": user,
            "revoked_grants": active,
        }
        return Reply(status=200, body=body)

    # -- groups -------------------------------------------------------------------
    @operation(
        "GET",
        "/v1/groups/{group}",
        tool="get_group",
        summary="Read a group by id or name: what it gives, whether it is "
        "privileged, who owns it.",
        request=s.by_id("group", _GROUP_REF),
        response=GROUP,
    )
    def get_group(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(status=200, body=self._group(params["group"]))

    @operation(
        "GET",
        "/v1/groups",
        tool="list_groups",
        summary="List groups; filter by privileged.",
        request=s.paging(privileged=s.boolean("Only (non-)privileged groups.")),
        response=s.list_of(GROUP),
    )
    def list_groups(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        rows = self.query("groups", _filters(params, "privileged"))
        return Reply(status=200, body=paginate(rows, params, "/v1/groups"))

    # -- grants -------------------------------------------------------------------
    @operation(
        "GET",
        "/v1/grants/{grant}",
        tool="get_grant",
        summary="Read a grant: who holds which group, since when, why.",
        request=s.by_id("grant", "Grant id (gr_…)."),
        response=GRANT,
    )
    def get_grant(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(status=200, body=self._grant(params["grant"]))

    @operation(
        "GET",
        "/v1/grants",
        tool="list_grants",
        summary="List grants, newest first; filter by user, group or status.",
        request=s.paging(
            user=s.string("Only grants held by this user (or vendor) id."),
            group=s.string(f"Only grants of this group: {_GROUP_REF}"),
            status=s.enum("Only grants in this status.", *GRANT_STATUSES),
        ),
        response=s.list_of(GRANT),
    )
    def list_grants(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        filters = _filters(params, "user", "group", "status")
        if "group" in filters:
            group = self._find_group(filters["group"])
            filters["group"] = group["id"] if group is not None else filters["group"]
        rows = self.query("grants", filters)
        return Reply(status=200, body=paginate(rows, params, "/v1/grants"))

    @operation(
        "POST",
        "/v1/grants",
        tool="grant_access",
        summary="Add a user (or an ERP vendor, for external access) to a group. "
        "Privileged groups need a justification.",
        request=s.obj(
            {
                "user": s.string("User id (usr_…), or vendor id (ven_…)."),
                "group": s.string(_GROUP_REF),
                "justification": s.string(
                    "Why the access is needed, and the ticket or approval behind "
                    "it (required for privileged groups)."
                ),
                "expires_at": s.integer(
                    "When the access lapses (Unix seconds, in the future)."
                ),
            },
            required=("user", "group"),
        ),
        response=GRANT,
        status=201,
        action="iam.grant",
        write=True,
        approval_params=("user", "group"),
        reversible=True,
        compensation="revoke_access",
    )
    def grant_access(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        group = self._group(params["group"])
        grantee = params["user"]
        self._check_grantee(grantee, group)
        for held in self.state["grants"].where("user", grantee):
            if held["group"] == group["id"] and held["status"] == "active":
                raise self.error(
                    409,
                    "already_granted",
                    f"{grantee} already has active access to {group['name']} "
                    f"(grant {held['id']}).",
                    param="group",
                )
        justification = str(params.get("justification", "")).strip()
        if group["privileged"] and not justification:
            raise self.error(
                422,
                "justification_required",
                f"Group {group['name']} is privileged; pass a justification: why "
                "the access is needed, and the ticket or approval behind it.",
                param="justification",
            )
        expires_at = params.get("expires_at")
        if expires_at is not None and expires_at <= ctx.now:
            raise self.error(
                422,
                "invalid_expiry",
                f"expires_at ({expires_at}) is not in the future (now is {ctx.now}).",
                param="expires_at",
            )
        grant = _grant(
            ctx.new_id("gr", 14),
            ctx.now,
            user=grantee,
            group=group,
            granted_by=ctx.identity,
            reason=justification or None,
        )
        grant["expires_at"] = expires_at
        self.state["grants"][grant["id"]] = grant
        ctx.commit(
            business_key=f"grant:{grantee}:{group['name']}",
            params={"user": grantee, "group": group["id"], "reason": grant["reason"]},
            ref=grant["id"],
        )
        return Reply(status=201, body=grant)

    @operation(
        "POST",
        "/v1/grants/{grant}/revoke",
        tool="revoke_access",
        summary="Revoke a grant: the holder loses the group's access at once.",
        request=s.obj(
            {
                "grant": s.string("Grant id (gr_…)."),
                "reason": s.string("Why the access is removed."),
            },
            required=("grant",),
        ),
        response=GRANT,
        action="iam.revoke",
        write=True,
        approval_params=("grant",),
        reversible=True,
        compensation="grant_access",
    )
    def revoke_access(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        grant = self._grant(params["grant"])
        if grant["status"] == "revoked":
            raise self.error(
                409,
                "already_revoked",
                f"Grant {grant['id']} ({grant['user']} in {grant['group_name']}) "
                "is already revoked.",
                param="grant",
            )
        grant = self._revoke(ctx, grant["id"])
        ctx.commit(
            business_key=f"revoke:{grant['user']}:{grant['group_name']}",
            params={
                "grant": grant["id"],
                "user": grant["user"],
                "group": grant["group"],
                "reason": params.get("reason"),
            },
            ref=grant["id"],
        )
        return Reply(status=200, body=grant)

    def _revoke(self, ctx: CallContext, ident: str) -> Record:
        grant = self.state["grants"].writable(ident)
        grant["status"] = "revoked"
        grant["revoked_at"] = ctx.now
        grant["revoked_by"] = ctx.identity
        return grant


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
_DEPARTMENTS = tuple(DEPARTMENTS)
_WEIGHTS = tuple(share for share, _ in DEPARTMENTS.values())
_HEAD_TITLE = "Head of "
#: What an email's local part keeps of a name (as fakes.people does).
_NOT_LOCAL = re.compile(r"[^a-z0-9]+")


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
        user = _user(
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


def _user(
    ident: str,
    created: int,
    *,
    name: str,
    email: str,
    employee_id: str,
    department: str,
    title: str,
    manager: Any,
) -> Record:
    return {
        "id": ident,
        "object": "user",
        "name": name,
        "email": email,
        "employee_id": employee_id,
        "department": department,
        "title": title,
        "manager": manager,
        "status": "active",
        "mfa_enrolled": True,
        "last_credential_reset": None,
        "created": created,
        "updated": created,
    }


def _group(ident: str, name: str, description: str, privileged: bool) -> Record:
    return {
        "id": ident,
        "object": "group",
        "name": name,
        "description": description,
        "privileged": privileged,
        "owner": None,
    }


def _grant(
    ident: str,
    created: int,
    *,
    user: str,
    group: Record,
    granted_by: str,
    reason: Any,
) -> Record:
    return {
        "id": ident,
        "object": "grant",
        "user": user,
        "group": group["id"],
        "group_name": group["name"],
        "granted_by": granted_by,
        "reason": reason,
        "status": "active",
        "expires_at": None,
        "created": created,
        "revoked_at": None,
        "revoked_by": None,
    }


def _check_fields(kind: str, fields: Mapping[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise ValueError(
            f"unknown field {unknown[0]!r} for an iam {kind} "
            f"(fields: {', '.join(known)})"
        )


def _filters(params: Mapping[str, Any], *fields: str) -> dict[str, Any]:
    """The list filters present in a request."""
    return {f: params[f] for f in fields if params.get(f) is not None}
