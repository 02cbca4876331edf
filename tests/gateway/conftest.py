"""What the client-door tests share: the agent's own process, both ways of running,
and the words a blocked request gets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.registry import registered_services
from harness.isolation import ProcessIsolation
from harness.models.providers import PROVIDERS

#: A blocked request's message, as every door's client shows it (``{host}``).
BLOCKED = (
    "aqe: blocked outbound request to {host}: only simulated hosts are reachable "
    "during a run ("
    + ", ".join(
        sorted(h for s in (*registered_services(), *PROVIDERS) for h in s.hosts)
    )
    + ")"
)


@pytest.fixture(scope="module")
def isolation() -> Iterator[ProcessIsolation]:
    """Agents in their own processes, one fork server per agent for the module."""
    isolation = ProcessIsolation()
    yield isolation
    isolation.close()


@pytest.fixture(params=["in-process", "isolated"])
def where(request: pytest.FixtureRequest) -> ProcessIsolation | None:
    """Each test both ways: in pytest's process, and in the agent's own."""
    if request.param == "in-process":
        return None
    isolation: ProcessIsolation = request.getfixturevalue("isolation")
    return isolation
