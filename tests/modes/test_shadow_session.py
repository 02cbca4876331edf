"""Shadow mode under pytest: reports without failing, gates when asked, never
changes the shared world."""

from __future__ import annotations

import json

import pytest

from tests.conftest import copy_payments

CAREFUL = "harness.agents.reference:careful_refund_agent"
NAIVE = "harness.agents.reference:naive_refund_agent"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    return copy_payments(pytester)


def shadow(
    project: pytest.Pytester, agent: str, *extra: str, target: str = "scenarios"
) -> pytest.RunResult:
    """A shadow session of ``agent`` against the careful reference agent."""
    return project.runpytest(
        target,
        "--aqe-mode=shadow",
        f"--aqe-agent={agent}",
        f"--aqe-reference-agent={CAREFUL}",
        *extra,
    )


def test_a_shadow_session_reports_would_have_double_refunds_without_failing(
    project: pytest.Pytester,
) -> None:
    result = shadow(project, NAIVE)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "shadow: agreement 0.00 (0 of 5 cases); reported, not gated; the shared"
            " world was not changed",
            "*disagrees: refund_ambiguous_timeout (seed *): *create_refund"
            " refund:$charge: candidate 2, reference 1*",
            "would have: refund_ambiguous_timeout (seed *): would have refunded ch_*"
            " twice (refund:ch_*: duplicated)",
        ]
    )
    summary = json.loads(
        (project.path / "reports" / "latest" / "summary.json").read_text()
    )
    assert summary["shadow"]["shared_untouched"] is True
    assert summary["shadow"]["agreement_rate"] == 0.0
    assert summary["comparison"] is None  # shadow runs are not held to a baseline
    record = next(
        r for r in summary["results"] if r["scenario"] == "refund_ambiguous_timeout"
    )
    assert record["mode"] == "shadow"
    assert record["shadow"]["shared"]["ledger_entries"] == 0
    assert len(record["shadow"]["proposed"]) == 2


def test_a_shadow_agreement_below_its_gate_fails_the_session(
    project: pytest.Pytester,
) -> None:
    result = shadow(project, NAIVE, "--aqe-shadow-min-agreement=0.9")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["  shadow: agreement 0.00 (0 of 5 cases) < 0.90"])


def test_an_agreeing_candidate_passes_the_shadow_gate(
    project: pytest.Pytester,
) -> None:
    result = shadow(project, CAREFUL, "--aqe-shadow-min-agreement=1.0")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["shadow: agreement 1.00 (5 of 5 cases) >= 1.00; *"])


def test_shadow_without_a_reference_is_a_clear_error(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        "scenarios/payments/refund_ok.yaml",
        "--aqe-mode=shadow",
        f"--aqe-agent={CAREFUL}",
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "aqe: scenario 'refund_ok': shadow mode has nothing to compare the"
            " candidate with",
            "    fix: add 'shadow: reference: *' to the scenario, or pass"
            " --aqe-reference-agent MODULE:CALLABLE",
        ]
    )


def test_a_scenarios_own_mode_runs_it_in_shadow(project: pytest.Pytester) -> None:
    path = project.path / "scenarios" / "payments" / "refund_ok.yaml"
    path.write_text(
        path.read_text()
        + "mode: shadow\nshadow:\n  reference:\n    outcome: done\n    actions:\n"
        "      - {operation: create_refund, key: refund:$charge.id}\n"
        "      - {operation: add_ticket_comment, key: 'comment:$ticket.id:*'}\n"
        "      - {operation: update_ticket, key: 'ticket:$ticket.id:status'}\n"
    )
    result = project.runpytest(str(path), f"--aqe-agent={CAREFUL}")
    assert result.ret == 0
    summary = json.loads(
        (project.path / "reports" / "latest" / "summary.json").read_text()
    )
    assert summary["results"][0]["mode"] == "shadow"
    assert summary["shadow"]["agreed"] == 1, summary["shadow"]


def test_a_shadow_trace_replays_to_the_same_bytes_and_its_reports_regenerate(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    from harness.cli import main

    # one session for both: the trace replays, the reports regenerate from it
    shadow(project, NAIVE, target="scenarios/payments/refund_ambiguous_timeout.yaml")
    trace = next((project.path / "reports" / "latest" / "traces").glob("*.jsonl"))
    assert json.loads(trace.read_text().splitlines()[0])["mode"] == "shadow"
    capsys.readouterr()
    old = os.getcwd()
    os.chdir(project.path)
    try:
        assert main(["replay", str(trace)]) == 0
    finally:
        os.chdir(old)
    assert "identical trace" in capsys.readouterr().out

    # regenerated reports keep the shadow section
    run = (project.path / "reports" / "latest").resolve()
    (run / "summary.md").unlink()
    assert main(["report", str(run)]) == 0
    markdown = (run / "summary.md").read_text()
    assert "### Shadow" in markdown
    assert "would have refunded ch_" in markdown


def test_a_shadow_gate_outside_zero_to_one_is_a_usage_error(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        "scenarios",
        "--aqe-mode=shadow",
        f"--aqe-agent={NAIVE}",
        "--aqe-shadow-min-agreement=95",
    )
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        [
            "ERROR: aqe: --aqe-shadow-min-agreement 95.0: not a rate",
            "    fix: a share of cases between 0 and 1, e.g. 0.95",
        ]
    )
