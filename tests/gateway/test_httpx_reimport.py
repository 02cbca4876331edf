"""The httpx door loads again in a process that imported it before: an
in-process pytester run restores ``sys.modules`` and the next one imports the
door anew, and respx refuses a second mocker of the same name."""

from __future__ import annotations

import importlib
import sys

import pytest
from respx.mocks import Mocker

from harness import run_scenario
from harness.agents.library import careful_agent
from tests.conftest import payments_scenario

DOOR = "harness.gateway.doors.httpx"


def test_the_httpx_door_imports_again_and_runs_still_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = importlib.import_module(DOOR)
    monkeypatch.delitem(sys.modules, DOOR)
    again = importlib.import_module(DOOR)  # raised TypeError: 'aqe' is already defined
    monkeypatch.setitem(sys.modules, DOOR, first)  # as the rest of the session has it

    mine, theirs = first.SimulationMocker, again.SimulationMocker
    assert mine.name != theirs.name
    assert Mocker.registry[mine.name] is mine
    assert Mocker.registry[theirs.name] is theirs
    result = run_scenario(payments_scenario("refund_ambiguous_timeout"), careful_agent)
    assert result.passed
