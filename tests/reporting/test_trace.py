"""Writing a trace costs no per-run lookups: the versions are read once a process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import AgentEnv, Task, run_scenario
from harness.reporting import trace
from tests.conftest import small_scenario


def reads_a_charge(task: Task, env: AgentEnv) -> None:
    env.tools.call("retrieve_charge", charge=task.input["charge"])


def test_faker_version_is_read_from_the_metadata_once_a_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.metadata

    asked: list[str] = []
    real = importlib.metadata.version

    def version(name: str) -> str:
        asked.append(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    trace._faker_version.cache_clear()
    result = run_scenario(small_scenario(), reads_a_charge)
    first = trace.trace_bytes(result)
    assert trace.trace_bytes(result) == first
    assert asked == ["faker"]
    header = json.loads(first.splitlines()[0])
    assert header["faker"] == real("faker")


def test_scenario_path_is_shown_relative_to_the_directory_the_run_is_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = tmp_path / "suite" / "refund.yaml"
    monkeypatch.chdir(tmp_path)
    assert trace._shown(inside) == "suite/refund.yaml"
    monkeypatch.chdir(tmp_path.parent)
    assert trace._shown(inside) == f"{tmp_path.name}/suite/refund.yaml"
    assert trace._shown(None) is None
