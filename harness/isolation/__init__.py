"""The agent in its own process: ``--aqe-isolation process`` (sessions' default).

The harness keeps the world, gateway, ledger, history, policy engine, oracles and
reports; the agent's process gets the task, its credential and door stubs that
forward each HTTP request, tool call and clock wait to the harness
(:mod:`~harness.isolation.child`). A warm fork server imports the agent once and
forks one fresh process per run (:mod:`~harness.isolation.server`), inside user,
network, PID and mount namespaces where the machine allows them; the harness
serves each run and ends it, however the agent's process behaves
(:mod:`~harness.isolation.host`). Names load on first use: the fork server
imports the child's modules from here, not the harness's side of the runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness._lazy import lazy

if TYPE_CHECKING:
    from harness.isolation.host import DEFAULT_MEMORY, ProcessIsolation

__all__ = ["DEFAULT_MEMORY", "ProcessIsolation"]


_load = lazy(__name__, dict.fromkeys(__all__, "harness.isolation.host"))


def __getattr__(name: str) -> Any:
    return _load(name)
