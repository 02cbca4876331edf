"""Identity and access; importing this package registers the service."""

from __future__ import annotations

from fakes.iam.objects import (
    COMPANY_DOMAIN,
    CREDENTIAL_RESET,
    DAY,
    DEPARTMENT_GROUPS,
    DEPARTMENTS,
    DEPROVISIONING,
    GRANT,
    GRANT_REASONS,
    GRANT_STATUSES,
    GROUP,
    GROUPS,
    LOGIN_URL,
    NOW,
    PRIVILEGED_AFFINITY,
    RESET_TTL,
    USER,
    USER_STATUSES,
)
from fakes.iam.service import Iam
from fakes.registry import register_service

register_service(Iam)

__all__ = [
    "COMPANY_DOMAIN",
    "CREDENTIAL_RESET",
    "DAY",
    "DEPARTMENTS",
    "DEPARTMENT_GROUPS",
    "DEPROVISIONING",
    "GRANT",
    "GRANT_REASONS",
    "GRANT_STATUSES",
    "GROUP",
    "GROUPS",
    "LOGIN_URL",
    "NOW",
    "PRIVILEGED_AFFINITY",
    "RESET_TTL",
    "USER",
    "USER_STATUSES",
    "Iam",
]
