"""The agent in its own process gives the verdicts and the bytes it gives in
pytest's process, reports how it was contained, and falls back (saying so) where
the kernel has no namespaces to give."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from harness import AgentEnv, AgentResult, Task
from harness._pytest.config import parse_size
from harness.agents.library import careful_agent
from harness.isolation import ProcessIsolation
from harness.isolation.host import unprotected
from harness.models.source import for_scenario
from harness.reporting.trace import trace_bytes
from harness.run import run_scenario
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT, copy_payments

SLOW = os.environ.get("AQE_SLOW") == "1"
#: The folders the default run compares (the slow job: the whole library).
SAMPLED = ["scenarios/payments", "scenarios/access"]


#: one worker runs this module: its module-scoped set-up is made once (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("isolation.test_isolation")


@pytest.fixture(scope="module")
def isolation() -> Iterator[ProcessIsolation]:
    isolation = ProcessIsolation()
    yield isolation
    isolation.close()


SAMPLE = [
    "payments/refund_ambiguous_timeout",
    "payments/refund_over_limit_approval",
    "knowledge/knowledge_injection_in_ticket",
    "access/access_reset_verified_requester",
    "renewals/renewal_concurrent_edit",
]


@pytest.mark.parametrize("name", SAMPLE)
def test_a_run_in_its_own_process_gives_the_same_bytes(
    name: str, isolation: ProcessIsolation
) -> None:
    (path,) = ROOT.glob(f"scenarios/{name}.yaml")
    scenario = load_scenario(path)
    here = run_scenario(scenario, careful_agent, seed=7)
    there = run_scenario(scenario, careful_agent, seed=7, isolation=isolation)

    assert (here.sandbox, there.sandbox) == ("none", "kernel")
    assert there.passed is here.passed is True
    assert trace_bytes(there) == trace_bytes(here)


def test_an_agent_only_this_process_can_import_runs_here(
    isolation: ProcessIsolation,
) -> None:
    scenario = load_scenario(ROOT / "scenarios/payments/refund_ok.yaml")

    def local(task: Task, env: AgentEnv) -> None:
        return None

    assert run_scenario(scenario, local, seed=1, isolation=isolation).sandbox == "none"


SPAWNED = """
from harness.agents.library import careful_agent as again  # named where defined


class Agent:
    def __call__(self, task, env):
        return again(task, env)


instance = Agent()
"""


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("spawned_here:again", "harness.agents.library:careful_agent"),
        ("spawned_here:instance", "spawned_here:Agent"),
    ],
)
def test_an_agent_named_by_its_spec_is_imported_only_in_its_own_process(
    spec: str, named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "spawned_here.py").write_text(SPAWNED)
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.delitem(sys.modules, "spawned_here", raising=False)
    scenario = load_scenario(ROOT / "scenarios/payments/refund_ambiguous_timeout.yaml")
    isolation = ProcessIsolation()
    try:
        there = run_scenario(scenario, spec, seed=7, isolation=isolation)
    finally:
        isolation.close()
    here = run_scenario(scenario, careful_agent, seed=7)

    assert "spawned_here" not in sys.modules
    assert (there.sandbox, there.agent, there.passed) == ("kernel", named, True)
    if named == here.agent:  # the same agent, so the same bytes
        assert trace_bytes(there) == trace_bytes(here)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("no_such_module:agent", "cannot import agent module 'no_such_module'"),
        ("harness.agents.library:nope", "has no attribute 'nope'"),
        ("harness.agents.library", "expected 'module:callable'"),
    ],
)
def test_a_spec_its_fork_server_cannot_load_is_one_clear_error(
    spec: str, says: str, isolation: ProcessIsolation
) -> None:
    from harness.errors import AgentLoadError

    scenario = load_scenario(ROOT / "scenarios/payments/refund_ok.yaml")
    with pytest.raises(AgentLoadError) as err:
        run_scenario(scenario, spec, seed=1, isolation=isolation)
    assert says in str(err.value)
    assert "\n    fix: " in str(err.value)


def test_a_fork_server_keeps_serving_after_a_warm_list_longer_than_a_packet(
    isolation: ProcessIsolation,
) -> None:
    scenario = load_scenario(ROOT / "scenarios/payments/refund_ok.yaml")
    assert run_scenario(scenario, careful_agent, seed=3, isolation=isolation).passed
    (server,) = isolation._servers.values()
    # what a run importing a framework reports: thousands of names, ~110 KB
    server.warm([f"aqe_no_such_module_{i:04d}_{'x' * 80}" for i in range(1000)])

    again = run_scenario(scenario, careful_agent, seed=3, isolation=isolation)

    assert again.passed
    assert again.sandbox == "kernel"
    assert list(isolation._servers.values()) == [server]
    assert server.alive()


def tls_agent(task: Task, env: AgentEnv) -> AgentResult:
    """What TLS contexts its process holds before it builds any client."""
    from harness.runtime import tls

    return AgentResult(output={"shared": sorted(key[0] for key in tls._SHARED)})


def test_a_runs_process_inherits_the_tls_context_its_clients_share(
    isolation: ProcessIsolation,
) -> None:
    scenario = load_scenario(ROOT / "scenarios/payments/refund_ok.yaml")
    result = run_scenario(scenario, tls_agent, seed=1, isolation=isolation)

    assert result.sandbox == "kernel"
    assert result.agent_result is not None
    assert "httpx._transports.default" in result.agent_result.output["shared"]


def importing_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Whether ``tabnanny`` was there when the run began; it is afterwards."""
    had = "tabnanny" in sys.modules
    import tabnanny  # noqa: F401

    return AgentResult(output={"had": had})


def test_what_a_run_imported_is_imported_for_the_next_run(
    isolation: ProcessIsolation,
) -> None:
    assert _two_runs(importing_agent, isolation, "had") == [False, True]


class Deferred(BaseModel):
    """A model built on first use, as the model SDKs' are."""

    model_config = ConfigDict(defer_build=True)
    amount: int


def deferred_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Whether ``Deferred`` was built when the run began; it is afterwards."""
    built = Deferred.__pydantic_complete__
    Deferred.model_validate({"amount": 1})
    return AgentResult(output={"built": built})


def test_a_model_a_run_built_on_first_use_is_built_for_the_next_run(
    isolation: ProcessIsolation,
) -> None:
    assert _two_runs(deferred_agent, isolation, "built") == [False, True]
    assert Deferred.__pydantic_complete__ is False  # only the agent's processes


def test_runs_a_model_answers_fork_from_a_fork_server_of_their_own() -> None:
    """Their agents import model SDKs (a heap of ~200 MB): the other runs'
    processes are forked from a server without them."""
    llm = load_scenario(ROOT / "scenarios/llm/llm_refund_ambiguous_timeout.yaml")
    plain = load_scenario(ROOT / "scenarios/payments/refund_ok.yaml")
    spec = "harness.agents.library:careful_agent"
    isolation = ProcessIsolation()
    try:
        there = [
            run_scenario(
                llm,
                careful_agent,
                seed=seed,
                model=for_scenario(llm, agent=spec, seed=seed),
                isolation=isolation,
            )
            for seed in (5, 6)
        ]
        alone = run_scenario(plain, careful_agent, seed=5, isolation=isolation)
        servers = dict(isolation._servers)
    finally:
        isolation.close()
    here = run_scenario(
        llm, careful_agent, seed=6, model=for_scenario(llm, agent=spec, seed=6)
    )

    assert sorted(servers) == [(spec, False), (spec, True)]
    assert [r.sandbox for r in [*there, alone]] == ["kernel"] * 3
    assert all(r.passed for r in [*there, alone, here])
    assert trace_bytes(there[1]) == trace_bytes(here)


@pytest.mark.parametrize(
    ("text", "size"),
    [("2G", 2 * 1024**3), ("256M", 256 * 1024**2), ("1.5GiB", 3 * 1024**3 // 2)],
)
def test_memory_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_no_memory_limit() -> None:
    assert parse_size("0") is None
    assert parse_size("none") is None


def test_a_bad_memory_size_is_a_usage_error(pytester: pytest.Pytester) -> None:
    copy_payments(pytester)
    result = pytester.runpytest(
        "scenarios/payments/refund_ok.yaml",
        "--aqe-agent=harness.agents.library:careful_agent",
        "--aqe-memory=lots",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: aqe: --aqe-memory 'lots': not a size",
            "    fix: a size such as 512M, 2G or 1.5G; 0 for no limit",
        ]
    )


def test_without_namespaces_runs_are_marked_unsandboxed(
    pytester: pytest.Pytester,
) -> None:
    copy_payments(pytester)
    pytester.makeconftest(
        "import harness.runtime.netns as netns\n"
        "netns.UNSHARE = ('/nonexistent/unshare',)\n"
    )
    result = pytester.runpytest_subprocess(
        "scenarios/payments", "--aqe-agent=harness.agents.library:careful_agent"
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "aqe: verdicts unsandboxed: 5 of 5 runs: 5 in their own processes without"
            " kernel namespaces (the network blocked by Python-level guards only)",
            "  no kernel namespaces here: cannot run unshare: *No such file*",
            "5/5 scenario runs passed; aqe gate: PASS (exit 0, unsandboxed)",
        ]
    )
    latest = pytester.path / "reports" / "latest"
    summary = json.loads((latest / "summary.json").read_text())
    assert summary["sandbox"] == {"process": 5}
    assert "> Unsandboxed: 5 of 5 runs" in (latest / "summary.md").read_text()


def _library_traces(
    root: Path, isolation: str, seeds: int, paths: list[str]
) -> dict[str, bytes]:
    reports = root / f"reports-{isolation}"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *paths,
            "--aqe-agent=harness.agents.library:careful_agent",
            f"--aqe-isolation={isolation}",
            f"--aqe-seeds={seeds}",
            f"--aqe-report-dir={reports}",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    (run,) = (reports / "runs").iterdir()
    return {p.name: p.read_bytes() for p in sorted((run / "traces").iterdir())}


#: The library's folders, in two halves (the slow job's two items).
_FOLDERS = sorted(
    f"scenarios/{p.name}"
    for p in (ROOT / "scenarios").iterdir()
    if p.is_dir() and p.name != "policies"
)
_PARTS = [_FOLDERS[0::2], _FOLDERS[1::2]] if SLOW else [SAMPLED]


@pytest.mark.parametrize(
    "paths",
    [
        pytest.param(paths, id=f"part{n}", marks=pytest.mark.xdist_group(f"library{n}"))
        for n, paths in enumerate(_PARTS)
    ],
)  # fmt: skip
def test_the_library_gives_the_same_traces_in_either_isolation(
    tmp_path: Path, paths: list[str]
) -> None:
    """The acceptance line, in the slow job (AQE_SLOW=1): the whole library, 5
    seeds, in two halves that the workers share. Otherwise two of its folders,
    1 seed, in one item (two sessions, not four: each costs a start-up)."""
    seeds = 5 if SLOW else 1
    isolated = _library_traces(tmp_path, "process", seeds, paths)
    here = _library_traces(tmp_path, "none", seeds, paths)
    files = [f for p in paths for f in (ROOT / p).rglob("*.yaml")]
    scenarios = [f for f in files if "policies" not in f.parts]
    assert len(isolated) == len(scenarios) * seeds
    assert isolated == here


def test_a_memory_limit_too_small_for_python_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    copy_payments(pytester)
    result = pytester.runpytest(
        "scenarios/payments/refund_ok.yaml",
        "--aqe-agent=harness.agents.library:careful_agent",
        "--aqe-memory=10M",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: aqe: --aqe-memory '10M': under 64M, too small for a Python process",
            "    fix: a size such as 512M, 2G or 1.5G; 0 for no limit",
        ]
    )


def test_a_bad_isolation_in_the_ini_is_a_usage_error(pytester: pytest.Pytester) -> None:
    copy_payments(pytester)
    pytester.makeini("[pytest]\naqe_isolation = sandbox\naqe_memory = 1G\n")
    result = pytester.runpytest(
        "scenarios/payments/refund_ok.yaml",
        "--aqe-agent=harness.agents.library:careful_agent",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: aqe: ini aqe_isolation = 'sandbox': not an isolation mode",
            "    fix: aqe_isolation = process (the default) or none",
        ]
    )


def test_a_bad_isolation_on_the_command_line_names_the_choices(
    pytester: pytest.Pytester,
) -> None:
    copy_payments(pytester)
    result = pytester.runpytest(
        "scenarios/payments/refund_ok.yaml",
        "--aqe-agent=harness.agents.library:careful_agent",
        "--aqe-isolation=sandbox",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--aqe-isolation: invalid choice: 'sandbox' (choose from *process*none*)"]
    )


def test_the_fork_server_asks_for_the_processor_once_for_every_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import platform
    import subprocess

    from harness.isolation import server

    monkeypatch.setattr(platform, "_uname_cache", None)
    server._ask_once()

    def no_subprocess(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("a run asked uname again")

    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    assert platform.processor() == server.platform.processor()


def test_a_kernel_sandbox_makes_every_path_asked_read_only(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    isolation = ProcessIsolation(read_only=(reports, tmp_path / "not-there"))
    scenario = load_scenario(ROOT / "scenarios/payments/refund_ok.yaml")
    try:
        result = run_scenario(scenario, careful_agent, seed=1, isolation=isolation)
        (server,) = isolation._servers.values()
    finally:
        isolation.close()
    assert result.sandbox == "kernel"
    assert isolation.notes == []
    assert str(reports.resolve()) in server.read_only


def test_a_sandbox_that_left_the_reports_writable_is_marked_unsandboxed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the fork server could not bind and lock a path read-only (a
    threaded server process cannot enter a new user namespace), its runs do
    not count as kernel-sandboxed: they fall back and the session says why."""
    import harness.isolation.host as host

    monkeypatch.setattr(host, "unprotected", lambda asked, done: [str(tmp_path)])
    isolation = ProcessIsolation(read_only=(tmp_path,))
    scenario = load_scenario(ROOT / "scenarios/payments/refund_ok.yaml")
    try:
        result = run_scenario(scenario, careful_agent, seed=1, isolation=isolation)
    finally:
        isolation.close()
    assert result.passed
    assert result.sandbox == "process"
    assert isolation.notes == [
        f"the agent's namespace could not make read-only: {tmp_path}"
    ]


def test_only_paths_that_exist_and_were_not_protected_are_left_writable(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    asked = [tmp_path / "a", tmp_path / "b", tmp_path / "gone"]
    assert unprotected(asked, [str(tmp_path / "a")]) == [str(tmp_path / "b")]
    assert unprotected(asked, [str(p) for p in asked[:2]]) == []


def _two_runs(
    agent: Callable[..., AgentResult], isolation: ProcessIsolation, key: str
) -> list[object]:
    """``output[key]`` of two runs of ``agent`` (seeds 1 and 2), one after the
    other in the same fork server's processes."""
    scenario = load_scenario(ROOT / "scenarios/payments/refund_ok.yaml")
    results = [
        run_scenario(scenario, agent, seed=seed, isolation=isolation) for seed in (1, 2)
    ]
    assert [r.sandbox for r in results] == ["kernel"] * 2
    return [r.agent_result.output[key] for r in results if r.agent_result]
