"""The session's agents, loaded and checked once, before anything runs.

An agent that does not import, is not callable, or cannot be called as
``agent(task, env)`` would fail every run the same way (and a baseline would
call each a regression); it is one usage error instead (exit 4), raised once
collection is done. With ``--aqe-isolation process`` the check is the agent's
fork server starting (:meth:`~harness.isolation.ProcessIsolation.prepare`): the
agent's code is imported there, in its sandbox, never for the check in
pytest's process, and the runs use that server. A command or a service agent
is checked as far as can be without running it (its spec; a command's
program). Under xdist each worker checks the agents it would start anyway;
one that finds an error runs nothing and hands it to the controller, which
reports the first one (:func:`raise_worker_error`).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness._pytest.config import aqe_config
from harness._pytest.items import ScenarioItem, effective_mode, session_isolation
from harness.errors import AgentLoadError, HarnessError

#: The ``workeroutput`` key a worker's setup error travels under.
SETUP_ERROR = "aqe_setup_error"


def check_session(session: pytest.Session) -> None:
    """Check every agent the collected items will run; a problem is a
    :class:`pytest.UsageError` (on an xdist worker: kept for the controller,
    and the worker runs nothing)."""
    config = session.config
    if config.option.collectonly:
        return
    try:
        for where, spec, modelled in agents_to_run(config, session.items):
            check_agent(config, where, spec, modelled=modelled)
    except HarnessError as err:
        message = f"aqe: {err}"
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is None:
            raise pytest.UsageError(message) from None
        workeroutput[SETUP_ERROR] = message
        session.items.clear()


def raise_worker_error(node: Any) -> None:
    """On the xdist controller: a worker's setup error, as the usage error."""
    message = getattr(node, "workeroutput", {}).get(SETUP_ERROR)
    if message:
        raise pytest.UsageError(message)


def agents_to_run(
    config: pytest.Config, items: list[pytest.Item]
) -> list[tuple[str, str, bool]]:
    """``(where it is named, spec, modelled)`` for each agent the items run:
    the agent under test for any scenario, the reference agent for shadow
    runs, the control agent for a canary stream. A missing agent raises."""
    from harness._pytest.canary import CanaryItem, control_agent_spec

    settings = aqe_config(config)
    scenarios = [i.scenario for i in items if isinstance(i, ScenarioItem)]
    canary = any(isinstance(i, CanaryItem) for i in items)
    if not scenarios and not canary:
        return []
    spec = settings.agent_spec()
    modelled = settings.model is not None or bool(
        scenarios and all(s.model is not None for s in scenarios)
    )
    where = "--aqe-agent" if settings.agent_on_command_line else "ini aqe_agent"
    found = [(where, spec, modelled)]
    shadow = any(effective_mode(config, s) == "shadow" for s in scenarios)
    if shadow and settings.reference_agent:
        found.append(("--aqe-reference-agent", settings.reference_agent, modelled))
    if canary:
        found.append(("--aqe-control-agent", control_agent_spec(config), modelled))
    return found


def check_agent(
    config: pytest.Config, where: str, spec: str, *, modelled: bool
) -> None:
    """Load ``spec`` as its runs will, in the process they will run in; an
    :class:`AgentLoadError` names ``where`` it came from."""
    from harness.agents.loading import is_outside, load_agent

    try:
        if is_outside(spec) or aqe_config(config).isolation == "none":
            load_agent(spec)
            return
        isolation: Any = session_isolation(config)
        isolation.prepare(spec, modelled=modelled)
    except AgentLoadError as err:
        raise AgentLoadError(f"{where}: {err}") from None
    except HarnessError:  # no fork server here at all: each run says so
        return
