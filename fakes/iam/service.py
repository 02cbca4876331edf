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
from fakes.iam.objects import (
    CREDENTIAL_RESET,
    DEPROVISIONING,
    GRANT,
    GRANT_STATUSES,
    GROUP,
    GROUP_REF,
    LOGIN_URL,
    RESET_TTL,
    USER,
    USER_STATUSES,
    find_group,
    grant_object,
)
from fakes.iam.seed import RECORD_FIELDS, create_record, seed_iam_lazily
from fakes.lazy import SeedContext, populate_lazily

if TYPE_CHECKING:
    from faker import Faker


class Iam(FakeService):
    """Identity and access: employees, groups, grants, resets, offboarding."""

    name: ClassVar[str] = "iam"
    hosts: ClassVar[tuple[str, ...]] = ("iam.sim",)
    record_kinds: ClassVar[tuple[str, ...]] = ("user", "group", "grant")
    record_fields: ClassVar[Mapping[str, Mapping[str, Any]]] = RECORD_FIELDS
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
        return populate_lazily(cls, rng, peers, scale)

    @classmethod
    def seed_lazily(cls, ctx: SeedContext) -> Mapping[str, Mapping[str, Record]]:
        return seed_iam_lazily(cls.collections, ctx)

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        return create_record(self, kind, fields)

    # -- lookups -----------------------------------------------------------------
    def _user(self, ident: str) -> Record:
        return self.get_or_404("users", ident, param="user")

    def _find_group(self, ref: str) -> Record | None:
        return find_group(self.state["groups"], ref)

    def lookup(self, ref: str) -> Record | None:
        return super().lookup(ref) or self._find_group(ref)

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
        return self.get_or_404("grants", ident, param="grant")

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
        vendor = self.get_or_404("vendors", ident, param="user", owner="erp")
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
        filters = self.list_filters(params, "email", "department", "status", "manager")
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
        reset_id = ctx.new_id("rst", 14)
        # the token alone is a secret too: an agent may paste it without the link
        token = ctx.secret(ctx.new_id("tok", 32)[4:], "reset_token")
        reset: Record = {
            "id": reset_id,
            "object": "credential_reset",
            "user": user["id"],
            "delivery": "email_to_user",
            "sent_to": user["email"],
            "reset_link": ctx.secret(LOGIN_URL + token, "reset_link"),
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
        request=s.by_id("group", GROUP_REF),
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
        rows = self.query("groups", self.list_filters(params, "privileged"))
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
            group=s.string(f"Only grants of this group: {GROUP_REF}"),
            status=s.enum("Only grants in this status.", *GRANT_STATUSES),
        ),
        response=s.list_of(GRANT),
    )
    def list_grants(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        filters = self.list_filters(params, "user", "group", "status")
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
                "group": s.string(GROUP_REF),
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
        grant = grant_object(
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
