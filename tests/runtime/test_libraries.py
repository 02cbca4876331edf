"""Library hooks: entered around each delivery, in the run's thread, for a
library already imported or as soon as the agent imports it; a library the
agent never imports is never touched."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from harness import AgentEnv, Task, run_scenario
from harness.errors import HarnessError
from harness.runtime import libraries
from harness.scenario.model import Scenario


class Hook:
    """A hook module's two names, and what it saw."""

    def __init__(self, module: str) -> None:
        self.MODULE = module
        self.seen: list[str] = []

    @contextmanager
    def during_delivery(self, module: ModuleType) -> Iterator[None]:
        self.seen.append(f"enter {module.__name__} (marker={module.MARKER})")
        try:
            yield
        finally:
            self.seen.append("exit")


def write_module(tmp_path: Path, name: str) -> None:
    (tmp_path / f"{name}.py").write_text("MARKER = 7\n")


@pytest.fixture
def hooked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    monkeypatch.syspath_prepend(str(tmp_path))

    def register(*made: Hook) -> None:
        monkeypatch.setattr(libraries, "hooks", lambda: made)

    yield register
    for name in [n for n in sys.modules if n.startswith("aqe_hooked_")]:
        del sys.modules[name]


def test_a_hook_for_an_imported_library_is_entered_around_the_delivery(
    hooked: Any, tmp_path: Path, small: Scenario
) -> None:
    write_module(tmp_path, "aqe_hooked_early")
    importlib.import_module("aqe_hooked_early")
    hook = Hook("aqe_hooked_early")
    hooked(hook)

    def agent(task: Task, env: AgentEnv) -> None:
        hook.seen.append("agent")

    run_scenario(small, agent, seed=1)

    assert hook.seen == ["enter aqe_hooked_early (marker=7)", "agent", "exit"]


def test_a_hook_is_entered_when_the_agent_imports_its_library(
    hooked: Any, tmp_path: Path, small: Scenario
) -> None:
    write_module(tmp_path, "aqe_hooked_late")
    hook = Hook("aqe_hooked_late")
    hooked(hook)

    def agent(task: Task, env: AgentEnv) -> None:
        hook.seen.append("agent")
        module = importlib.import_module("aqe_hooked_late")
        hook.seen.append(f"imported, loader {type(module.__loader__).__name__}")

    run_scenario(small, agent, seed=1)

    assert hook.seen == [
        "agent",
        "enter aqe_hooked_late (marker=7)",
        "imported, loader SourceFileLoader",
        "exit",
    ]
    assert not any(isinstance(f, libraries._OnImport) for f in sys.meta_path)


def test_a_hook_whose_library_is_never_imported_is_never_entered(
    hooked: Any, small: Scenario
) -> None:
    hook = Hook("aqe_hooked_never")
    hooked(hook)

    run_scenario(small, lambda task, env: None, seed=1)

    assert hook.seen == []
    assert "aqe_hooked_never" not in sys.modules


def test_a_hook_registered_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    name = libraries.LIBRARY_HOOKS[0]
    monkeypatch.setattr(libraries, "LIBRARY_HOOKS", (name, name))

    with pytest.raises(HarnessError) as raised:
        libraries.hooks.__wrapped__()

    assert str(raised.value) == (
        f"library hook {name!r} is registered twice\n    fix: list it once in"
        " harness.runtime.libraries.LIBRARY_HOOKS"
    )


def test_every_registered_hook_names_its_module_and_delivery_hook() -> None:
    for hook in libraries.hooks():
        assert isinstance(hook.MODULE, str)
        assert callable(hook.during_delivery)
