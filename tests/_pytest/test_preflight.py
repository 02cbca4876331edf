"""An agent that cannot run is one usage error (exit 4) before any scenario runs,
with the expected signature and the fix, whether the agent is loaded in pytest's
process or in its fork server, and once under xdist."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.agents.loading import load_agent
from harness.errors import AgentLoadError
from harness.isolation import ProcessIsolation
from tests.conftest import copy_payments

#: One module with every mistake (and a right agent), for the tests that load it.
AGENTS = """
def wrong_signature(task):
    return None

def keyword_model(task, env, *, model):
    return None

async def fine_async(task, env):
    return None

def fine_varargs(*args, **kwargs):
    return None

not_callable = 3
"""

#: What each mistake says, in full.
WRONG_SIGNATURE = [
    "agent 'setup_agents:wrong_signature' takes (task), but the harness calls it"
    " as agent(task, env) (too many positional arguments)",
    "    fix: define it as def wrong_signature(task: Task, env: AgentEnv) ->"
    ' AgentResult | dict | None (or async def); see "Writing an agent" in README.md',
]
MISSING_MODULE = [
    "cannot import agent module 'no_such_agents': No module named 'no_such_agents'",
    "    fix: check the module path, and that it is importable from the current"
    " directory or the installed packages",
]
NOT_CALLABLE = [
    "agent 'setup_agents:not_callable' is not callable: it is an int (3)",
    "    fix: name a function, e.g. --aqe-agent"
    " harness.agents.reference:careful_refund_agent",
]


def raising_on_import(folder: Path) -> list[str]:
    return [
        "importing agent module 'setup_raising' raised RuntimeError: no"
        f" configuration (at {folder / 'setup_raising.py'}:2)",
        "    fix: correct the module; python -c 'import setup_raising' shows the"
        " whole traceback",
    ]


@pytest.fixture
def agents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder, the current directory, holding the agent modules."""
    (tmp_path / "setup_agents.py").write_text(AGENTS)
    (tmp_path / "setup_raising.py").write_text(
        "import os\nraise RuntimeError('no configuration')\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    "spec", ["setup_agents:fine_async", "setup_agents:fine_varargs"]
)
def test_an_agent_that_takes_task_and_env_loads(agents: Path, spec: str) -> None:
    assert callable(load_agent(spec))


def test_a_required_keyword_is_a_wrong_signature(agents: Path) -> None:
    with pytest.raises(AgentLoadError) as caught:
        load_agent("setup_agents:keyword_model")
    assert str(caught.value).splitlines()[0] == (
        "agent 'setup_agents:keyword_model' takes (task, env, *, model), but the"
        " harness calls it as agent(task, env) (missing a required argument:"
        " 'model')"
    )


def test_each_mistake_says_what_and_the_fix_in_this_process(agents: Path) -> None:
    cases = {
        "setup_agents:wrong_signature": WRONG_SIGNATURE,
        "no_such_agents:agent": MISSING_MODULE,
        "setup_agents:not_callable": NOT_CALLABLE,
        "setup_raising:agent": raising_on_import(agents),
    }
    for spec, lines in cases.items():
        with pytest.raises(AgentLoadError) as caught:
            load_agent(spec)
        assert str(caught.value).splitlines() == lines


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("setup_agents:wrong_signature", WRONG_SIGNATURE),
        ("no_such_agents:agent", MISSING_MODULE),
        ("setup_agents:not_callable", NOT_CALLABLE),
        ("setup_raising:agent", None),
    ],
)
def test_each_mistake_says_the_same_from_the_fork_server(
    agents: Path, spec: str, expected: list[str] | None
) -> None:
    isolation = ProcessIsolation()
    try:
        with pytest.raises(AgentLoadError) as caught:
            isolation.prepare(spec)
    finally:
        isolation.close()
    assert str(caught.value).splitlines() == (expected or raising_on_import(agents))


def test_the_runs_use_the_fork_server_the_check_started() -> None:
    from harness.agents.reference import careful_refund_agent
    from harness.run import run_scenario
    from tests.conftest import payments_scenario

    isolation = ProcessIsolation()
    try:
        isolation.prepare("harness.agents.reference:careful_refund_agent")
        (checked,) = isolation._servers.values()
        result = run_scenario(
            payments_scenario("refund_ok"), careful_refund_agent, seed=3,
            isolation=isolation,
        )  # fmt: skip
        assert result.passed
        assert list(isolation._servers.values()) == [checked]
    finally:
        isolation.close()


def test_a_command_whose_program_is_missing_is_said_before_it_runs() -> None:
    with pytest.raises(AgentLoadError) as caught:
        load_agent("cmd:no-such-program-aqe agent.mjs careful")
    assert str(caught.value).splitlines() == [
        "cannot run agent 'cmd:no-such-program-aqe agent.mjs careful': no program"
        " 'no-such-program-aqe' on PATH",
        "    fix: install it, or name it by its path (the command runs with /bin/sh"
        " -c in the session's directory)",
    ]
    load_agent("cmd:cd . && no-such-program-aqe")  # shell syntax: the shell's call


# -- the session ------------------------------------------------------------------

#: A session of one scenario (collecting more would only take longer).
ONE = "scenarios/payments/refund_ok.yaml"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    copy_payments(pytester)
    pytester.makepyfile(setup_agents=AGENTS)
    return pytester


def assert_usage_error_before_any_run(
    result: pytest.RunResult,
    project: pytest.Pytester,
    lines: list[str],
    where: str = "--aqe-agent",
) -> None:
    """Exit 4, the message once (and nothing else of ours), no run traced."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.startswith("ERROR:")]
    assert errors == [f"ERROR: aqe: {where}: {lines[0]}"]
    assert result.errlines[result.errlines.index(errors[0]) + 1] == lines[1]
    out = result.stdout.str()
    assert "aqe gate" not in out
    assert "Traceback" not in out + result.stderr.str()
    assert "FAILED" not in out
    assert not list(project.path.glob("reports/runs/*/traces/*.jsonl"))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("setup_agents:wrong_signature", WRONG_SIGNATURE),
        ("no_such_agents:agent", MISSING_MODULE),
    ],
)
def test_a_session_with_a_broken_agent_is_one_usage_error(
    project: pytest.Pytester, spec: str, expected: list[str]
) -> None:
    result = project.runpytest(ONE, f"--aqe-agent={spec}", "--aqe-isolation=none")
    assert_usage_error_before_any_run(result, project, expected)


def test_a_broken_agent_from_the_ini_file_is_named_so(
    project: pytest.Pytester,
) -> None:
    project.makeini(
        "[pytest]\naqe_agent = setup_agents:not_callable\naqe_isolation = none\n"
    )
    result = project.runpytest(ONE)
    assert_usage_error_before_any_run(result, project, NOT_CALLABLE, "ini aqe_agent")


def test_an_agent_module_that_raises_is_one_usage_error(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        setup_raising="import os\nraise RuntimeError('no configuration')\n"
    )
    result = project.runpytest(
        ONE, "--aqe-agent=setup_raising:agent", "--aqe-isolation=none"
    )
    assert_usage_error_before_any_run(result, project, raising_on_import(project.path))


def test_an_isolated_session_checks_the_agent_in_its_fork_server(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        setup_marking="import os\n"
        "with open('imported-by', 'a') as file:\n"
        "    file.write(f'{os.getpid()}\\n')\n"
        "def wrong_signature(task):\n"
        "    return None\n"
    )
    result = project.runpytest(ONE, "--aqe-agent=setup_marking:wrong_signature")
    expected = [
        line.replace("setup_agents", "setup_marking") for line in WRONG_SIGNATURE
    ]
    assert_usage_error_before_any_run(result, project, expected)
    # the check imported the agent once, in its fork server, not in pytest's process
    importers = (project.path / "imported-by").read_text().split()
    assert len(importers) == 1
    assert importers != [str(os.getpid())]


def test_under_xdist_a_broken_agent_is_still_one_usage_error(
    project: pytest.Pytester,
) -> None:
    pytest.importorskip("xdist")
    result = project.runpytest(
        "scenarios/payments", "--aqe-agent=setup_agents:wrong_signature", "-n", "2"
    )
    assert_usage_error_before_any_run(result, project, WRONG_SIGNATURE)


def test_a_broken_control_agent_is_a_usage_error_before_the_canary(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        ONE,
        "--aqe-agent=harness.agents.reference:careful_refund_agent",
        "--aqe-mode=canary",
        "--aqe-control-agent=setup_agents:not_callable",
        "--aqe-isolation=none",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: aqe: --aqe-control-agent: {NOT_CALLABLE[0]}", NOT_CALLABLE[1]]
    )


def test_a_broken_reference_agent_is_a_usage_error_before_shadow_runs(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        ONE,
        "--aqe-agent=harness.agents.reference:careful_refund_agent",
        "--aqe-mode=shadow",
        "--aqe-reference-agent=setup_agents:wrong_signature",
        "--aqe-isolation=none",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: aqe: --aqe-reference-agent: {WRONG_SIGNATURE[0]}"]
    )


def test_collect_only_loads_no_agent(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "--collect-only", "-q", ONE, "--aqe-agent=no_such_agents:agent"
    )
    assert result.ret != pytest.ExitCode.USAGE_ERROR
    assert "no_such_agents" not in result.stdout.str() + result.stderr.str()
