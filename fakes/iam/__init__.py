"""Identity and access: employees, groups, grants, credential resets, offboarding.

The service is :class:`Iam` (:mod:`fakes.iam.service`); importing this package
registers it with :mod:`fakes.registry`.
"""

from __future__ import annotations

from fakes.iam.service import (
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
    Iam,
)
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
