"""Model totals in saved artefacts: records with and without them read alike, a
bad one is named, ``aqe report`` and ``aqe compare`` carry them, and a baseline
keeps ``model_tokens`` and ``model_cost`` per scenario."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.errors import HarnessError
from harness.models.usage import ModelUsage, total, usd
from harness.reporting.artefacts import check_record
from harness.reporting.baseline import build_baseline, save_baseline
from harness.reporting.gate import ExitCode
from tests.reporting.report_summaries import record
from tests.reporting.test_html import _parse


def used(tokens_in: int, tokens_out: int, cost: float | None, **more: Any) -> Any:
    return {
        "calls": 2,
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "tokens": tokens_in + tokens_out,
        "cost_usd": cost,
        "unpriced": 0,
        "unpriced_models": [],
        **more,
    }


def with_model(scenario: str, model: Any, seed_index: int = 0) -> dict[str, Any]:
    return {**record(scenario, seed_index), "model": model}


def test_records_with_and_without_model_totals_are_both_read() -> None:
    old = record("refund_ok")
    new = with_model("refund_ok", used(2000, 400, 0.0065))

    assert "model" not in check_record(old, "old")
    assert check_record(new, "new")["model"]["tokens"] == 2400


def test_a_bad_model_part_of_a_record_names_its_keys() -> None:
    bad = with_model("refund_ok", {"calls": 2, "tokens_in": "many", "cost_usd": "1"})

    with pytest.raises(HarnessError) as info:
        check_record(bad, "results.jsonl:1")

    assert str(info.value) == (
        "results.jsonl:1: model.tokens: missing\n"
        "results.jsonl:1: model.tokens_out: missing\n"
        'results.jsonl:1: model.cost_usd: expected a number or null, got "1"\n'
        'results.jsonl:1: model.tokens_in: expected an integer, got "many"\n'
        "    fix: remove the line, or re-run the session"
    )


def test_totals_add_priced_calls_and_count_the_unpriced_ones() -> None:
    priced = ModelUsage.from_json(used(2000, 400, 0.0065))
    unpriced = ModelUsage.from_json(
        used(100, 10, None, unpriced=2, unpriced_models=["in-house-llm"])
    )

    both = total([priced, None, unpriced])

    assert both is not None
    assert both.to_json() == {
        "calls": 4,
        "tokens_in": 2100,
        "tokens_out": 410,
        "tokens": 2510,
        "cost_usd": 0.0065,
        "unpriced": 2,
        "unpriced_models": ["in-house-llm"],
    }
    assert not both.priced
    assert total([None, None]) is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.000041, "$0.000041"), (0.0065, "$0.0065"), (0.5, "$0.50"), (12.0, "$12.00")],
)
def test_dollars_are_shown_to_the_millionth_they_are_kept_at(
    value: float, shown: str
) -> None:
    assert usd(value) == shown


def test_a_baseline_keeps_model_tokens_and_only_whole_costs() -> None:
    records = [
        with_model("refund_ok", used(2000, 400, 0.0065)),
        with_model("refund_ok", used(1000, 200, 0.00325), 1),
        with_model(
            "refund_ambiguous_timeout",
            used(500, 50, 0.001, unpriced=1, unpriced_models=["in-house-llm"]),
        ),
        record("refund_503_then_ok"),
    ]

    baseline = build_baseline(
        records, run_id="r", git_sha=None, agent="a", created="2026-12-01"
    )

    ok = baseline.scenarios["refund_ok"].metrics
    assert ok["model_tokens"].to_json()["values"] == [2400, 1200]
    assert ok["model_cost"].to_json()["values"] == [0.0065, 0.00325]
    partly = baseline.scenarios["refund_ambiguous_timeout"].metrics
    assert "model_tokens" in partly
    assert "model_cost" not in partly  # a partial sum is not the run's cost
    assert not {"model_tokens", "model_cost"} & set(
        baseline.scenarios["refund_503_then_ok"].metrics
    )


def test_aqe_compare_fails_a_doubled_model_tokens_with_exit_6(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = []
    for name, scale in (("base", 1), ("cand", 2)):
        records = [with_model("refund_ok", used(2000 * scale, 400 * scale, None))]
        path = tmp_path / f"{name}.json"
        save_baseline(
            build_baseline(
                records, run_id=name, git_sha=None, agent="a", created="2026-12-01"
            ),
            path,
        )
        paths.append(str(path))
    rule = ["--fail-on-regression", "--compare-fail", "model_tokens:20%"]

    code = main(["compare", *paths, *rule])

    out = capsys.readouterr().out
    assert code == ExitCode.REGRESSION
    assert "  refund_ok: model_tokens 2400.00 -> 4800.00 (+2400.00, n=1/1)" in out
    assert main(["compare", *paths, "--compare-fail", "model_tokens:100%"]) == 0


def test_aqe_report_rebuilds_the_model_totals_from_the_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results.jsonl"
    lines = [
        with_model("refund_ok", used(2000, 400, 0.0065)),
        record("refund_503_then_ok"),  # an older record, or a run without models
    ]
    results.write_text("".join(json.dumps(r) + "\n" for r in lines))

    # no summary.json: a session that never finished, so exit 7 (incomplete)
    assert main(["report", str(tmp_path)]) == ExitCode.ERROR

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["model"]["tokens"] == 2400
    assert [s["model"] is None for s in summary["scenarios"]] == [True, False]
    markdown = (tmp_path / "summary.md").read_text()
    assert "| **all** | 2 | 2,000 | 400 | 2,400 | $0.0065 |" in markdown


def test_reports_say_where_prices_come_from_and_what_the_cost_leaves_out() -> None:
    from harness.reporting.html import render_html
    from harness.reporting.markdown import render_markdown
    from harness.reporting.summary import build_summary

    unpriced = used(100, 10, None, unpriced=2, unpriced_models=["in-house-llm"])
    summary = build_summary(
        [
            with_model("refund_ok", used(2000, 400, 0.0065)),
            with_model("refund_ambiguous_timeout", unpriced),
        ]
    )

    note = (
        "Cost at the prices of harness/models/prices.json, checked 2026-12-04;"
        " update the table when providers change theirs. Not in the cost: 2 calls"
        " to models it does not list (in-house-llm)."
    )
    markdown = render_markdown(summary)
    assert note in markdown
    assert (
        "| `refund_ambiguous_timeout` | 2 | 100 | 10 | 110 | cost unknown (2 unpriced"
        " calls: in-house-llm) |"
    ) in markdown
    assert (
        "| **all** | 4 | 2,100 | 410 | 2,510 | $0.0065 + 2 unpriced calls"
        " (in-house-llm) |"
    ) in markdown
    html = render_html(summary)
    assert note in html
    assert '<tfoot><tr><th scope="row">all scenarios</th>' in html
    parsed = _parse(html)
    assert (parsed.problems, parsed.stack) == ([], [])
    assert len(parsed.ids) == len(set(parsed.ids))


def test_a_rescored_run_keeps_what_its_model_calls_used(tmp_path: Path) -> None:
    openai = pytest.importorskip("openai")
    from harness import AgentResult, run_scenario
    from harness.reporting.replay import rescore_records
    from harness.reporting.trace import write_trace
    from harness.run import run_record
    from tests.conftest import PAYMENTS, payments_scenario

    def asks(task: Any, env: Any) -> Any:
        openai.OpenAI().chat.completions.create(
            model="gpt-5", messages=[{"role": "user", "content": task.instructions}]
        )
        return AgentResult(status="done")

    def script(call: Any) -> Any:
        usage = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1}
        return {**call.text("Done."), "usage": usage}

    result = run_scenario(payments_scenario("refund_ok"), asks, seed=1, model=script)
    trace = write_trace(result, tmp_path / "traces")
    recorded = run_record(
        result,
        nodeid="refund_ok",
        path=str(PAYMENTS / "refund_ok.yaml"),
        agent="asks",
        seed_index=0,
        trace=str(trace.relative_to(tmp_path)),
    )

    (rescored,) = rescore_records([recorded], tmp_path)

    assert rescored["model"] == recorded["model"]
    assert rescored["model"]["cost_usd"] == 0.00325
