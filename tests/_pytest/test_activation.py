"""The plugin is inert unless a session asks for aqe (an agent, aqe_scenarios, or
scenario paths on the command line): a project that merely has aqe-harness
installed sees nothing of it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import copy_payments

CAREFUL = "harness.agents.reference:careful_refund_agent"

# Records every subprocess the session starts (loaded before any plugin's
# pytest_configure: pytest reads the rootdir's conftest first).
SPY_CONFTEST = """
import json, subprocess
from pathlib import Path

_LOG = Path(__file__).with_name("started.jsonl")
_real_init = subprocess.Popen.__init__

def _spy(self, args, *a, **k):
    with _LOG.open("a") as log:
        log.write(json.dumps([str(x) for x in (args if isinstance(args, (list, tuple)) else [args])]) + "\\n")
    _real_init(self, args, *a, **k)

subprocess.Popen.__init__ = _spy
"""


def unrelated_project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project of its own that happens to have a baseline file and a YAML file
    under ``tests/scenarios/``, and one ordinary test."""
    (pytester.path / "reports").mkdir()
    (pytester.path / "reports" / "baseline.json").write_text('{"anything": 1}\n')
    data = pytester.path / "tests" / "scenarios"
    data.mkdir(parents=True)
    (data / "data.yaml").write_text("rows:\n  - {a: 1}\n")
    (pytester.path / "tests" / "test_ordinary.py").write_text(
        "def test_ordinary():\n    assert 1 + 1 == 2\n"
    )
    (pytester.path / "conftest.py").write_text(SPY_CONFTEST)
    return pytester


def started(pytester: pytest.Pytester) -> list[list[str]]:
    log = pytester.path / "started.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_an_unrelated_project_runs_its_own_test_and_nothing_of_aqe(
    pytester: pytest.Pytester,
) -> None:
    project = unrelated_project(pytester)

    result = project.runpytest()

    result.assert_outcomes(passed=1)
    assert result.ret == 0
    out = result.stdout.lines
    ours = [
        line
        for line in out
        if "aqe" in line.lower() and not line.startswith(("rootdir:", "plugins:"))
    ]
    assert ours == []
    assert not [cmd for cmd in started(project) if "git" in cmd[0]]
    assert not (project.path / "reports" / "runs").exists()
    assert not (project.path / "reports" / "latest").exists()


def test_the_spy_sees_the_git_calls_of_a_session_that_asks_for_aqe(
    pytester: pytest.Pytester,
) -> None:
    """The check above can fail: naming an agent starts the session report."""
    project = unrelated_project(pytester)
    (project.path / "reports" / "baseline.json").unlink()  # not an aqe baseline

    result = project.runpytest(f"--aqe-agent={CAREFUL}", "tests/test_ordinary.py")

    result.assert_outcomes(passed=1)
    assert [cmd for cmd in started(project) if "git" in cmd[0]]
    result.stdout.fnmatch_lines(["0/0 scenario runs passed; aqe gate: EMPTY (exit 5)"])


def test_a_yaml_file_named_on_the_command_line_is_a_scenario(
    pytester: pytest.Pytester,
) -> None:
    project = copy_payments(pytester)

    result = project.runpytest(
        "--collect-only", "-q", "scenarios/payments/refund_ok.yaml"
    )

    result.stdout.fnmatch_lines(["scenarios/payments/refund_ok.yaml::refund_ok"])


def test_a_scenarios_directory_named_on_the_command_line_is_collected(
    pytester: pytest.Pytester,
) -> None:
    project = copy_payments(pytester)

    result = project.runpytest("--collect-only", "-q", "scenarios/payments")

    result.stdout.fnmatch_lines(["*refund_ok.yaml::refund_ok", "5 tests collected*"])


def test_declared_scenario_paths_are_collected_even_outside_testpaths(
    pytester: pytest.Pytester,
) -> None:
    project = copy_payments(pytester)
    (project.path / "scenarios").rename(project.path / "checks")
    (project.path / "tests").mkdir()
    (project.path / "tests" / "test_unit.py").write_text("def test_unit(): pass\n")
    project.makeini(
        "[pytest]\ntestpaths = tests\naqe_scenarios = checks/payments\n"
        f"aqe_agent = {CAREFUL}\n"
    )

    result = project.runpytest()

    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["5/5 scenario runs passed*"])


def test_a_bad_ini_value_is_a_usage_error_that_says_the_fix(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\naqe_seeds = many\n")

    result = pytester.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: aqe: ini aqe_seeds = 'many': not a whole number",
            "    fix: e.g. aqe_seeds = 1",
        ]
    )
    assert "Traceback" not in result.stderr.str()


def test_policy_packs_under_a_declared_root_are_not_scenarios(
    pytester: pytest.Pytester,
) -> None:
    project = copy_payments(pytester)
    (project.path / "scenarios").rename(project.path / "checks")
    project.makeini(f"[pytest]\naqe_scenarios = checks\naqe_agent = {CAREFUL}\n")

    result = project.runpytest("--collect-only", "-q")

    result.stdout.fnmatch_lines(["5 tests collected*"])
    assert "policies" not in result.stdout.str()


def test_a_declared_scenario_path_that_does_not_exist_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\naqe_scenarios = checks\n")

    result = pytester.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: aqe: ini aqe_scenarios: no such file or directory: {pytester.path / 'checks'}",
            f"    fix: name scenario files or directories relative to {pytester.path}",
        ]
    )
    assert "Traceback" not in result.stderr.str()
