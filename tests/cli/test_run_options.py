"""``aqe run``'s own options: its help lists what goes on to pytest, and a
mistyped ``--aqe-*`` option is answered by ``aqe`` itself, before pytest starts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.cli import main
from tests.conftest import ROOT

CAREFUL = "harness.agents.reference:careful_refund_agent"


def test_a_mistyped_aqe_option_gets_did_you_mean_and_exit_4(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["run", "scenarios/payments", "--agent", CAREFUL, "--aqe-sed", "3"])
    assert code == 4
    assert capsys.readouterr().err.splitlines() == [
        "aqe run: unknown option --aqe-sed",
        "    fix: did you mean --aqe-seed? (aqe run --help lists the --aqe-* options)",
    ]


def test_an_aqe_option_like_none_says_where_they_are_listed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["run", "scenarios", "--agent", CAREFUL, "--aqe-zzzzzzzz=1"])
    assert code == 4
    assert capsys.readouterr().err.splitlines() == [
        "aqe run: unknown option --aqe-zzzzzzzz",
        "    fix: aqe run --help lists the --aqe-* options",
    ]


def test_the_mistake_is_answered_without_importing_pytest_or_faker() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "harness.cli", "run",
         "scenarios", "--agent", CAREFUL, "--aqe-timeuot=5"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 4
    assert "did you mean --aqe-timeout?" in done.stderr
    imported = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "harness.cli" in imported
    assert not imported & {"pytest", "_pytest", "faker", "pandas", "xdist"}


def test_run_help_lists_every_option_pytest_takes_from_the_plugin(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert "Every other option goes on to pytest" in text
    assert "--agent SPEC" in text
    declared = {
        word.split("=")[0].rstrip(",")
        for line in pytester.runpytest("--help").outlines
        for word in line.split()
        if word.startswith("--aqe-")
    }
    assert len(declared) > 20
    listed = {
        line.split()[0].rstrip(",")
        for line in text.splitlines()
        if line.startswith("  --aqe-")
    }
    assert listed == declared


def test_aqe_run_starts_pytest_with_its_early_plugin_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[list[str]] = []

    def run(command: list[str], check: bool) -> subprocess.CompletedProcess[str]:
        started.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", run)
    assert main(["run", "scenarios/payments", "--agent", CAREFUL, "-q"]) == 0

    ((_, _, _, *argv),) = started
    assert argv == [
        "-p", "harness._pytest.early", "scenarios/payments", "--aqe-agent", CAREFUL,
        "-p", "no:cacheprovider", "-q",
    ]  # fmt: skip
