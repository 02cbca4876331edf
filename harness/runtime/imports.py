"""What an agent's runs will import, as the agent declares it.

Under ``--aqe-isolation process`` each run is a process forked from a fork
server that has imported the agent's module. What a run imports beyond that (an
SDK the agent imports inside its function, the module a dispatcher picks per
task) its own process imports, and the server after it, for the next run: a
cold session paid for every such import twice. An agent that declares them has
its fork server import them before its first fork, and in a pytest session as
soon as collection ends, so they overlap with other runs::

    @agent_imports("openai")
    def agent(task, env): ...

    @agent_imports(per_task=lambda task: [f"agents.{task.input['team']}"])
    def dispatcher(task, env): ...

``per_task`` is called in the fork server (inside the agent's sandbox, like the
import of the agent's own module) once for each task the session will hand the
agent, as its scenario states it: ``input`` with its ``$record.field``
references unresolved, ``instructions`` unformatted. It may import what it
names. A declaration is a head start, never a requirement: a name that does not
import, or a ``per_task`` that raises, costs the server that attempt and
nothing else, and the run imports what it needs as it would have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.runtime.env import Task

#: Where a declaration is kept on the agent.
ATTRIBUTE = "__aqe_imports__"

_Agent = TypeVar("_Agent")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclaredImports:
    """Modules every run imports, and a function naming those a task's run does."""

    modules: tuple[str, ...] = ()
    per_task: Callable[[Task], Iterable[str]] | None = None


def agent_imports(
    *modules: str, per_task: Callable[[Task], Iterable[str]] | None = None
) -> Callable[[_Agent], _Agent]:
    """Declare the modules the decorated agent's runs import (see the module)."""
    wrong = [m for m in modules if not isinstance(m, str) or not m]
    if wrong:
        raise TypeError(
            f"agent_imports() takes module names; got {wrong[0]!r}\n"
            '    fix: e.g. @agent_imports("openai", "langgraph.graph")'
        )
    if per_task is not None and not callable(per_task):
        raise TypeError(
            f"agent_imports(per_task=...) takes a function of the task; got "
            f"{type(per_task).__name__}\n"
            "    fix: e.g. per_task=lambda task: [f\"agents.{task.input['team']}\"]"
        )
    declared = DeclaredImports(modules=modules, per_task=per_task)

    def declare(agent: _Agent) -> _Agent:
        setattr(agent, ATTRIBUTE, declared)
        return agent

    return declare


def declared_imports(agent: Any, task: Task) -> list[str]:
    """The modules ``agent`` declares a run of ``task`` imports (none if it
    declares none); ``per_task``'s exceptions are the caller's to contain."""
    declared = getattr(agent, ATTRIBUTE, None)
    if not isinstance(declared, DeclaredImports):
        return []
    names: list[Any] = list(declared.modules)
    if declared.per_task is not None:
        names.extend(declared.per_task(task))
    return [n for n in dict.fromkeys(names) if isinstance(n, str) and n]
