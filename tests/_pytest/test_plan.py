"""When collection ends a session starts the fork servers it will use, each
told what the collected runs' agent declares they import."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from harness._pytest.config import WORKER_DIST
from harness._pytest.plan import _kinds_to_start, _runs_here
from tests.conftest import ROOT, copy_payments

SPEC = "harness.agents.library:careful_agent"
MODELLED, MODELLED_TOO = (
    f"scenarios/llm/{name}.yaml::{name}"
    for name in ("llm_refund_ambiguous_timeout", "langgraph_refund_ambiguous_timeout")
)
PLAIN = [
    f"scenarios/payments/{name}.yaml::{name}"
    for name in ("refund_ok", "refund_ambiguous_timeout", "refund_over_limit_approval")
]


def _session(collection: list[str], dist: str | None, worker: str | None) -> Any:
    config = SimpleNamespace(rootpath=ROOT)
    if worker is not None:
        config.workerinput = {"workerid": worker, WORKER_DIST: dist}
    items = [SimpleNamespace(nodeid=nodeid) for nodeid in collection]
    return SimpleNamespace(config=config, items=items)


@pytest.mark.parametrize(
    ("dist", "worker", "collection", "kinds"),
    [
        (None, None, [MODELLED, *PLAIN], [True, False]),
        ("load", "gw0", [MODELLED, *PLAIN], [True, False]),
        ("load", "gw1", [MODELLED, *PLAIN], [False]),
        ("load", "gw1", [MODELLED, MODELLED_TOO, PLAIN[0]], [True, False]),
        ("loadgroup", "gw1", [MODELLED, *PLAIN], [False]),
        ("loadscope", "gw0", [MODELLED, *PLAIN], []),
    ],
    ids=[
        "no-workers",
        "model-worker",
        "other-worker",
        "no-minority",
        "loadgroup",
        "loadscope",
    ],
)
def test_a_process_starts_the_servers_of_the_runs_it_will_be_handed(
    dist: str | None, worker: str | None, collection: list[str], kinds: list[bool]
) -> None:
    session = _session(collection, dist, worker)

    assert _kinds_to_start(session, {True, False}) == kinds


def test_a_sessions_fork_server_imports_the_runs_workflow_before_the_first(
    pytester: pytest.Pytester,
) -> None:
    copy_payments(pytester)
    pytester.makeconftest(
        """
        from harness._pytest.items import _ISOLATION

        def pytest_runtest_setup(item):
            isolation = item.config.stash[_ISOLATION]
            print("servers:", [
                (spec, modelled, "harness.agents.reference" in server.warmed)
                for (spec, modelled), server in isolation._servers.items()
            ])
        """
    )
    result = pytester.runpytest_subprocess(
        "scenarios/payments/refund_ok.yaml", f"--aqe-agent={SPEC}", "-s"
    )

    assert result.ret == 0
    # before the first run: started, and the module its task runs imported
    assert f"refund_ok.yaml servers: [('{SPEC}', False, True)]" in result.stdout.str()


def test_collecting_only_starts_no_fork_server(pytester: pytest.Pytester) -> None:
    copy_payments(pytester)
    pytester.makeconftest(
        """
        from harness._pytest.items import _ISOLATION

        def pytest_sessionfinish(session):
            print("isolation:", session.config.stash.get(_ISOLATION, None))
        """
    )
    result = pytester.runpytest_subprocess(
        "scenarios/payments", f"--aqe-agent={SPEC}", "--collect-only", "-s"
    )

    result.stdout.fnmatch_lines(["*5 tests collected*"])
    assert "isolation: None" in result.stdout.str()


def test_a_one_process_session_starts_its_agents_server_when_collection_starts(
    pytester: pytest.Pytester,
) -> None:
    copy_payments(pytester)
    pytester.makeconftest(
        """
        import pytest
        from harness._pytest.items import _ISOLATION

        @pytest.hookimpl(trylast=True)
        def pytest_collection_modifyitems(config):
            isolation = config.stash.get(_ISOLATION, None)
            print("collected:", isolation and [
                (key, server.awaiting_tasks) for key, server in isolation._servers.items()
            ])
        """
    )
    result = pytester.runpytest_subprocess(
        "scenarios/payments/refund_ok.yaml", f"--aqe-agent={SPEC}", "-s"
    )

    assert result.ret == 0
    # started before collection ended, still waiting for the plan
    assert f"collected: [(('{SPEC}', False), True)]" in result.stdout.str()


def test_no_server_starts_with_collection_without_isolation(
    pytester: pytest.Pytester,
) -> None:
    copy_payments(pytester)
    pytester.makeconftest(
        """
        import pytest
        from harness._pytest.items import _ISOLATION

        @pytest.hookimpl(trylast=True)
        def pytest_collection_modifyitems(config):
            print("collected:", config.stash.get(_ISOLATION, None))
        """
    )
    result = pytester.runpytest_subprocess(
        "scenarios/payments/refund_ok.yaml",
        f"--aqe-agent={SPEC}",
        "-s",
        "--aqe-isolation",
        "none",
    )

    assert result.ret == 0
    assert "collected: None" in result.stdout.str()


@pytest.mark.parametrize(
    ("dist", "tx", "worker", "collect_only", "here"),
    [
        ("no", [], False, False, True),
        ("loadgroup", [], False, False, True),
        ("load", ["popen"] * 2, False, False, False),
        ("no", [], True, False, False),
        ("no", [], False, True, False),
    ],
    ids=[
        "one-process",
        "a-dist-mode-without-workers",
        "xdist-controller",
        "xdist-worker",
        "collect-only",
    ],
)
def test_only_a_process_that_runs_the_items_itself_starts_a_server_early(
    dist: str, tx: list[str], worker: bool, collect_only: bool, here: bool
) -> None:
    config = SimpleNamespace(
        option=SimpleNamespace(dist=dist, tx=tx, collectonly=collect_only)
    )
    if worker:
        config.workerinput = {"workerid": "gw0"}

    assert _runs_here(config) is here  # type: ignore[arg-type]


def test_a_session_without_a_cache_starts_the_server_when_it_is_configured(
    pytester: pytest.Pytester,
) -> None:
    """No warm list to wait for (``aqe run`` has no cache): the server starts
    before the session does, and the run uses it."""
    copy_payments(pytester)
    pytester.makeconftest(
        """
        from harness._pytest.items import _ISOLATION

        def pytest_sessionstart(session):
            isolation = session.config.stash.get(_ISOLATION, None)
            print("started:", isolation and list(isolation._servers))

        def pytest_sessionfinish(session):
            isolation = session.config.stash.get(_ISOLATION, None)
            print("finished:", isolation and list(isolation._servers))
        """
    )
    result = pytester.runpytest_subprocess(
        "scenarios/payments/refund_ok.yaml",
        f"--aqe-agent={SPEC}",
        "-s",
        "-p",
        "no:cacheprovider",
        "--dist",
        "loadgroup",  # a mode without workers (the project's addopts): no xdist
    )

    assert result.ret == 0
    out = result.stdout.str()
    assert f"started: [('{SPEC}', False)]" in out
    assert f"finished: [('{SPEC}', False)]" in out


WARMED_CONFTEST = """
import sys
from harness.world.snapshot import shared_faker

def pytest_runtest_setup(item):
    print("warmed:", shared_faker.cache_info().currsize, "numpy" in sys.modules)
"""


@pytest.mark.parametrize(
    ("isolation", "warmed"), [("process", "1 True"), ("none", "0 False")]
)
def test_what_the_first_run_builds_is_built_while_its_server_starts(
    pytester: pytest.Pytester, isolation: str, warmed: str
) -> None:
    copy_payments(pytester)
    pytester.makeconftest(WARMED_CONFTEST)
    result = pytester.runpytest_subprocess(
        "scenarios/payments/refund_ok.yaml",
        f"--aqe-agent={SPEC}",
        "-s",
        "--aqe-isolation",
        isolation,
    )

    assert result.ret == 0
    assert f"warmed: {warmed}" in result.stdout.str()
