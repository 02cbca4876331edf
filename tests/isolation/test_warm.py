"""What fork servers import before their first fork: the harness's own per-run
modules always, and what the last session's servers came to hold when it was
kept (:mod:`harness.isolation.warmlists`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.agents.library import careful_agent
from harness.isolation import ProcessIsolation
from harness.isolation.host import _Run, _Server
from harness.isolation.warmlists import WarmLists, environment
from harness.reporting.trace import trace_bytes
from harness.run import run_scenario
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT, copy_payments

pytestmark = pytest.mark.xdist_group("isolation.test_warm")

SPEC = "harness.agents.library:careful_agent"
RENEWAL = "scenarios/renewals/renewal_concurrent_edit.yaml"


class Cache:
    """pytest's ``config.cache``, as far as warm lists use it."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Each warm list the harness sends a fork server, in order."""
    asked: list[list[str]] = []
    real = _Server.warm

    def warm(self: _Server, modules: list[Any]) -> None:
        asked.append(list(modules))
        real(self, modules)

    monkeypatch.setattr(_Server, "warm", warm)
    return asked


def _imported(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """What each run's process reported it imported, in order."""
    imported: list[list[str]] = []
    real = _Run.end

    def end(self: _Run) -> None:
        imported.append(list(self._imported))
        real(self)

    monkeypatch.setattr(_Run, "end", end)
    return imported


def _runs(isolation: ProcessIsolation, seeds: tuple[int, ...]) -> list[bytes]:
    scenario = load_scenario(ROOT / RENEWAL)
    try:
        results = [
            run_scenario(scenario, careful_agent, seed=s, isolation=isolation)
            for s in seeds
        ]
    finally:
        isolation.close()
    assert [r.sandbox for r in results] == ["kernel"] * len(seeds)
    assert all(r.passed for r in results)
    return [trace_bytes(r) for r in results]


def test_a_fork_server_has_the_client_doors_before_its_first_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _asked(monkeypatch)

    _runs(ProcessIsolation(), (1,))

    (first,) = asked  # what the first run imported
    assert "harness.agents.renewals" in first
    assert not [m for m in first if m.startswith(("harness.gateway.doors", "aiohttp"))]


def test_a_session_keeps_what_its_servers_imported_and_the_next_imports_it_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = Cache()
    before = _runs(ProcessIsolation(warm_lists=WarmLists(cache.get, cache.set)), (1,))
    kept = WarmLists(cache.get, cache.set).known(SPEC, False)
    assert "harness.agents.renewals" in kept

    asked, imported = _asked(monkeypatch), _imported(monkeypatch)
    after = _runs(ProcessIsolation(warm_lists=WarmLists(cache.get, cache.set)), (1, 2))

    # the kept list, before the first fork: the runs import nothing themselves
    assert asked == [kept]
    assert imported == [[], []]
    assert after[0] == before[0]


def _entry(**changes: Any) -> dict[str, Any]:
    entry = {
        "spec": SPEC,
        "modelled": False,
        "environment": environment(),
        "modules": ["json", "harness.agents.renewals"],
    }
    return {**entry, **changes}


@pytest.mark.parametrize(
    "entry",
    [
        _entry(environment={**environment(), "harness": "0.0.0"}),
        _entry(spec="other:agent"),
        _entry(modelled=True),
        _entry(modules=["json", "os; import this"]),
        _entry(modules="json"),
        ["json"],
    ],
    ids=[
        "other-harness",
        "other-spec",
        "other-kind",
        "not-a-name",
        "not-a-list",
        "junk",
    ],
)
def test_a_kept_list_that_is_not_this_environments_or_not_names_is_none(
    entry: Any,
) -> None:
    cache = Cache()
    lists = WarmLists(cache.get, cache.set)
    lists.keep(SPEC, False, ["json"])
    (key,) = cache.values
    cache.values[key] = entry

    assert lists.known(SPEC, False) == []


def test_a_kept_list_grows_by_what_a_later_session_imported() -> None:
    cache = Cache()
    lists = WarmLists(cache.get, cache.set)
    lists.keep(SPEC, False, ["json", "csv"])
    lists.keep(SPEC, False, ["csv", "harness.agents.renewals"])
    lists.keep(SPEC, True, ["anthropic"])

    assert lists.known(SPEC, False) == ["json", "csv", "harness.agents.renewals"]
    assert lists.known(SPEC, True) == ["anthropic"]


def test_a_pytest_session_keeps_its_servers_modules_in_the_cache(
    pytester: pytest.Pytester,
) -> None:
    copy_payments(pytester)
    args = ["scenarios/payments/refund_ok.yaml", f"--aqe-agent={SPEC}"]

    assert pytester.runpytest_subprocess(*args, "-p", "no:cacheprovider").ret == 0
    assert not (pytester.path / ".pytest_cache").exists()
    assert pytester.runpytest_subprocess(*args).ret == 0

    (entry,) = (pytester.path / ".pytest_cache/v/aqe/warm").iterdir()
    kept = json.loads(entry.read_text())
    assert (kept["spec"], kept["modelled"]) == (SPEC, False)
    assert "harness.agents.reference" in kept["modules"]
