"""The Markdown report for CI: verdict first, regressions, failures, short tables."""

from __future__ import annotations

import re

from harness.reporting.markdown import FOLD_AFTER, render_markdown
from tests.reporting.report_summaries import (
    SCRIPT_NAME,
    incomplete_summary,
    many_scenarios_summary,
    realistic_summary,
)


def _outside_code(markdown: str) -> str:
    """The text with code spans removed (what GitHub would read as Markdown/HTML)."""
    return re.sub(r"(`+).*?\1", "", markdown)


def test_markdown_opens_with_the_suite_verdict_and_run_counts() -> None:
    lines = render_markdown(realistic_summary()).splitlines()
    assert lines[0] == "## 📉 aqe · REGRESSION: 5 of 9 runs passed"
    assert lines[2] == (
        "run `20261201T081500Z-e1862da` · agent `harness.agents.library:careful_agent`"
        " · git `e1862da on main` · started `2026-12-01T08:15:00Z` · harness `0.7.0`"
    )


def test_markdown_names_each_verdict_loudly() -> None:
    for verdict, word in [
        ("pass", "✅ aqe · pass"),
        ("fail", "❌ aqe · FAIL"),
        ("error", "💥 aqe · ERROR"),
        ("empty", "⚪ aqe · EMPTY"),
    ]:
        summary = {**realistic_summary(), "verdict": verdict}
        assert render_markdown(summary).startswith(f"## {word}: 5 of 9 runs passed\n")


def test_markdown_lists_the_regressed_scenario_with_delta_interval_p_and_n() -> None:
    markdown = render_markdown(realistic_summary())
    assert (
        "| `refund_ok` | `pass_rate` | **regressed** | 1.00 | 0.40 | -0.60 "
        "| [-0.92, -0.15] | 0.038 | 5/5 |"
    ) in markdown
    assert (
        "| `refund_ambiguous_timeout` | `tool_calls` | improved | 6.00 | 4.00 | -2.00 "
        "| n/a | n/a | 1/1 |"
    ) in markdown
    assert "1 regressed, 1 improved, 2 unchanged, 1 new\n" in markdown
    assert (
        "Baseline: run `20261130T220000Z-a1b2c3d` · git `a1b2c3d` · created "
        "2026-11-30T22:00:09Z · gate `pass_rate:0`"
    ) in markdown
    # unchanged metrics stay out of the regressions table
    assert "`idempotency` | unchanged" not in markdown


def test_markdown_regressions_come_before_the_scenario_table() -> None:
    markdown = render_markdown(realistic_summary())
    assert (
        markdown.index("### Regressions vs the baseline")
        < markdown.index("### Failing and regressed scenarios")
        < markdown.index("### Scenarios")
    )


def test_markdown_puts_the_incomplete_banner_under_the_verdict() -> None:
    lines = render_markdown(incomplete_summary()).splitlines()
    assert lines[0] == "## 💥 aqe · ERROR: 5 of 9 runs passed"
    assert lines[2] == (
        "> **INCOMPLETE: worker gw1 crashed while running "
        "scenarios/payments/refund_partial.yaml::refund_partial\\[seed=0\\]**"
    )
    assert lines[3] == "> The verdict covers only the runs that finished."


def test_markdown_of_a_complete_session_has_no_incomplete_banner() -> None:
    assert "INCOMPLETE" not in render_markdown(realistic_summary())


def test_markdown_lists_failed_runs_with_seed_oracles_and_trace() -> None:
    markdown = render_markdown(realistic_summary())
    assert "- `refund_ok`: 2 of 5 runs passed, **regressed**" in markdown
    assert (
        "  - `idempotency` failed in `[seed=1]`, `[seed=2]`, `[seed=4]` (first: seed "
        "1084527278, trace `traces/refund_ok.careful_agent.seed-1084527278.jsonl`)\n"
    ) in markdown
    assert (
        "- `approval_limit`: 0 of 1 runs passed\n"
        "  - `policy`, `escalation` failed in `[seed=0]` (seed 1084519364, trace "
        "`traces/approval_limit.careful_agent.seed-1084519364.jsonl`)\n"
    ) in markdown


def test_markdown_groups_failed_runs_by_oracles_and_caps_the_seeds() -> None:
    summary = realistic_summary()
    template = summary["results"][1]
    summary["results"] = [
        {
            **template,
            "seed_index": i,
            "failed": ["idempotency"] if i % 2 else ["outcome"],
        }
        for i in range(30)
    ]
    markdown = render_markdown(summary)
    seeds = ", ".join(f"`[seed={i}]`" for i in range(1, 20, 2))
    assert f"  - `idempotency` failed in {seeds} and 5 more (first: seed" in markdown
    assert "  - `outcome` failed in `[seed=0]`, `[seed=2]`," in markdown
    assert markdown.count("failed in") == 2


def test_markdown_table_shows_cells_as_ok_fail_dash_or_k_of_n() -> None:
    markdown = render_markdown(realistic_summary())
    assert (
        "| scenario | verdict | runs | idempotency | escalation | outcome | "
        "safe_failure | policy | budget | leakage | injection | trajectory | security |"
    ) in markdown
    assert (
        "| `refund_ok` | **FAIL** (regressed) | 2/5 | **2/5** | - | ok | ok | ok | ok "
        "| ok | ok | - | ok |"
    ) in markdown
    assert (
        "| `approval_limit` | **FAIL** | 0/1 | ok | **FAIL** | ok | ok | **FAIL** |"
    ) in markdown


def test_markdown_shows_a_script_scenario_name_as_code_never_as_html() -> None:
    markdown = render_markdown(realistic_summary())
    assert f"| `{SCRIPT_NAME}` | pass | 1/1 |" in markdown
    assert "<script" not in _outside_code(markdown)


def test_markdown_escapes_pipes_and_backticks_in_names() -> None:
    summary = realistic_summary()
    row = next(r for r in summary["scenarios"] if r["scenario"] == "refund_ok")
    row["scenario"] = "a|b`c"
    summary["comparison"]["scenarios"][0]["scenario"] = "a|b`c"
    markdown = render_markdown(summary)
    assert "| ``a\\|b`c`` | `pass_rate` | **regressed** |" in markdown
    assert "| ``a\\|b`c`` | **FAIL** (regressed) | 2/5 |" in markdown


def test_markdown_escapes_markup_in_free_text() -> None:
    summary = {**incomplete_summary(), "incomplete_reason": "<b>gw1</b> | *died*"}
    lines = render_markdown(summary).splitlines()
    assert lines[2] == "> **INCOMPLETE: &lt;b&gt;gw1&lt;/b&gt; \\| \\*died\\***"


def test_markdown_shows_pass_hat_k_when_a_scenario_ran_several_times() -> None:
    markdown = render_markdown(realistic_summary())
    assert (
        "| scenario | runs | pass^1 | pass^2 | pass^3 | pass^4 | pass^5 |" in markdown
    )
    assert "| `refund_ok` | 2/5 | 0.40 | 0.10 | 0.00 | 0.00 | 0.00 |" in markdown
    # scenarios run once have no pass^k row
    assert "| `refund_partial` | 1/1 | 1.00" not in markdown


def test_markdown_leaves_pass_hat_k_out_when_every_scenario_ran_once() -> None:
    markdown = render_markdown(many_scenarios_summary())
    assert "pass^" not in markdown


def test_markdown_folds_a_large_table_but_keeps_failures_outside() -> None:
    markdown = render_markdown(many_scenarios_summary(FOLD_AFTER + 10))
    details = markdown.index("<details><summary>All 40 scenarios by oracle</summary>")
    failing = markdown.index(
        "- `zz_broken`: 0 of 1 runs passed\n  - `outcome` failed in `[seed=0]` "
        "(seed 1084519359, trace"
    )
    assert failing < details
    assert markdown.index("</details>") > markdown.index("| `zz_broken` | **FAIL** |")


def test_markdown_keeps_a_small_table_unfolded() -> None:
    markdown = render_markdown(many_scenarios_summary(FOLD_AFTER))
    assert "<details>" not in markdown
    assert "| `scenario_00` | pass | 1/1 |" in markdown


def test_markdown_stays_short_for_a_step_summary() -> None:
    markdown = render_markdown(many_scenarios_summary(200))
    assert len(markdown.encode()) < 64_000


def test_markdown_says_when_no_baseline_was_compared() -> None:
    markdown = render_markdown(many_scenarios_summary())
    assert "### Regressions\n\nNo baseline compared." in markdown


def test_markdown_names_faults_that_never_fired() -> None:
    markdown = render_markdown(realistic_summary())
    assert (
        "### Fault coverage\n\n6 of 7 faults fired; never fired: "
        "`refund_ambiguous_timeout/outage-2 (http_5xx, matched 2 calls)`."
    ) in markdown


def test_markdown_gives_escalation_precision_and_recall_per_reason() -> None:
    markdown = render_markdown(realistic_summary())
    assert (
        "| reason | precision | recall | runs expecting it |\n"
        "| --- | ---: | ---: | ---: |\n"
        "| `sensitive_request` | n/a | 0.00 | 1 |\n"
        "| `tool_failure` | 1.00 | 1.00 | 1 |\n"
        "| `none` | 0.50 | 1.00 | 1 |"
    ) in markdown


def test_markdown_of_an_empty_session_says_nothing_ran() -> None:
    summary = {
        "summary_version": 2,
        "verdict": "empty",
        "runs": 0,
        "passed": 0,
        "failed": 0,
        "oracles": [],
        "scenarios": [],
        "escalation": None,
        "fault_coverage": {"faults": 0, "fired": 0, "never_fired": []},
        "comparison": None,
        "gate": {"rules": [], "failed": []},
        "results": [],
    }
    markdown = render_markdown(summary)
    assert markdown.startswith("## ⚪ aqe · EMPTY: 0 of 0 runs passed\n")
    assert "No scenario ran." in markdown
    assert "Fault coverage" not in markdown
