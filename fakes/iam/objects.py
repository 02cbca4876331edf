"""Identity and access records: the directory's vocabulary, contracts, constructors.

Kept apart from :mod:`fakes.iam.service` so that the service module reads as its
operations and access rules.
"""

from __future__ import annotations

from typing import Any

from fakes import _schema as s
from fakes.base import Record
from fakes.table import Table

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


USER = s.record(
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
GROUP = s.record(
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
GRANT = s.record(
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
CREDENTIAL_RESET = s.record(
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
DEPROVISIONING = s.record(
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
GROUP_REF = "Group id (grp_…) or name (e.g. finance-approvers)."


def user_object(
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


def group_object(ident: str, name: str, description: str, privileged: bool) -> Record:
    return {
        "id": ident,
        "object": "group",
        "name": name,
        "description": description,
        "privileged": privileged,
        "owner": None,
    }


def grant_object(
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


def find_group(groups: Table, ref: str) -> Record | None:
    """A group by id, or else by name; ``None`` if neither matches."""
    group = groups.get(ref)
    if group is None:
        named = groups.where("name", ref)
        group = named[0] if named else None
    return group
