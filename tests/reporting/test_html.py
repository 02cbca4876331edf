"""The HTML report: self-contained, escaped, and saying what users look for."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from harness.reporting.html import render_html
from tests.reporting.report_summaries import (
    SCRIPT_NAME,
    incomplete_summary,
    many_scenarios_summary,
    realistic_summary,
    trend_frames,
)

VOID = {"meta", "br", "input", "line", "circle", "polyline", "hr", "img", "link"}


#: one worker runs this module: its module-scoped set-up is made once (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("reporting.test_html")


class _Structure(HTMLParser):
    """Every element closed in order; text of ``<title>``; ids seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.title = ""
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.extend(v for k, v in attrs if k == "id" and v)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.extend(v for k, v in attrs if k == "id" and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "title" and "svg" not in self.stack:
            self.title += data


def _parse(page: str) -> _Structure:
    parser = _Structure()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def page() -> str:
    trends, suite = trend_frames()
    return render_html(realistic_summary(), trends, suite)


def test_html_is_well_formed_with_unique_ids(page: str) -> None:
    parsed = _parse(page)
    assert parsed.problems == []
    assert parsed.stack == []
    assert len(parsed.ids) == len(set(parsed.ids))


def test_html_has_a_title_saying_the_verdict(page: str) -> None:
    assert _parse(page).title == (
        "aqe report: REGRESSION: 5 of 9 runs passed (20261201T081500Z-e1862da)"
    )


def test_html_shows_the_verdict_big_coloured_and_in_words(page: str) -> None:
    assert (
        '<header class="verdict v-regression" role="status">'
        '<p class="word">REGRESSION</p><p class="counts">5 of 9 runs passed; '
        "1 scenario regressed vs the baseline: <code>refund_ok</code></p>"
    ) in page


def test_html_loads_nothing_from_outside(page: str) -> None:
    assert "http://" not in page
    assert "https://" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert "@import" not in page
    assert "url(" not in page


def test_html_allows_only_its_own_script(page: str) -> None:
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 1
    assert page.count("<script") == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'\">"
    ) in page


def test_html_escapes_a_script_scenario_name_everywhere(page: str) -> None:
    assert "alert('pwned')" not in page
    assert "<script>alert" not in page
    escaped = "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;"
    assert escaped == html.escape(SCRIPT_NAME)
    assert f'<tr data-name="{escaped}" data-bad="0">' in page
    assert f"<li><code>{escaped}</code></li>" in page  # new vs the baseline


def test_html_escapes_markup_in_failure_texts() -> None:
    summary = incomplete_summary()
    summary["incomplete_reason"] = '<img src=x onerror="alert(1)">'
    summary["gate"]["failed"] = ["</code><script>alert(2)</script>"]
    page = render_html(summary)
    assert "<img" not in page
    assert "alert(2)</script>" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "&lt;/code&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page


def test_html_names_the_regressed_metric_with_delta_interval_p_and_n(
    page: str,
) -> None:
    row = re.search(r"<tr><th scope=\"row\"><code>refund_ok</code></th>.*?</tr>", page)
    assert row is not None
    text = re.sub(r"<svg.*?</svg>", "", row.group(0))
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[dh].*?</t[dh]>", text)]
    assert [c.strip() for c in cells] == [
        "refund_ok",
        "pass_rate",
        "regressed",
        "1.00",
        "0.40",
        "-0.60",
        "[-0.92, -0.15]",
        "0.038",
        "5/5",
    ]
    assert 'aria-label="change -0.60, 95% interval [-0.92, -0.15]"' in row.group(0)


def test_html_says_when_no_baseline_was_compared() -> None:
    page = render_html(many_scenarios_summary())
    assert '<p class="note">No baseline was compared in this run.</p>' in page


def test_html_puts_an_incomplete_banner_under_the_verdict() -> None:
    page = render_html(incomplete_summary())
    banner = (
        '<div class="incomplete" role="alert"><strong>INCOMPLETE:</strong> worker '
        "gw1 crashed while running scenarios/payments/refund_partial.yaml::"
        "refund_partial[seed=0]. The verdict covers only the runs that finished.</div>"
    )
    assert banner in page
    assert page.index('class="verdict v-error"') < page.index(banner)
    assert 'class="incomplete"' not in render_html(realistic_summary())


def test_html_matrix_cells_carry_words_as_well_as_colour(page: str) -> None:
    assert (
        '<td class="cell mixed" data-v="0.400000" title="idempotency: passed in 2 of 5'
        ' judged runs">2/5</td>'
    ) in page
    assert (
        '<td class="cell fail" data-v="0.000000" title="policy: passed in 0 of 1 '
        'judged runs">FAIL</td>'
    ) in page
    assert (
        '<td class="cell none" data-v="2" title="trajectory: nothing to judge">-</td>'
    ) in page
    assert '<tr data-name="refund_ok" data-bad="1" class="regressed-row">' in page
    assert '<th scope="col"><button type="button">security</button></th>' in page


def test_html_shows_pass_hat_k_for_the_repeated_scenario(page: str) -> None:
    section = page[page.index('<section id="passk"') : page.index('id="escalation"')]
    headers = re.findall(r"<button type=\"button\">(.*?)</button>", section)
    assert headers == [
        "scenario",
        "runs passed",
        "pass^1",
        "pass^2",
        "pass^3",
        "pass^4",
        "pass^5",
    ]
    assert "<code>refund_ok</code>" in section
    assert "<code>refund_partial</code>" not in section
    assert '<td class="num" data-v="0.100000">' in section


def test_html_escalation_matrix_marks_wrong_decisions(page: str) -> None:
    assert (
        '<td class="num miss" title="expected sensitive_request, actual none: 1 '
        'wrong">1</td>'
    ) in page
    assert (
        '<td class="num hit" title="expected tool_failure, actual tool_failure: 1">'
        "1</td>"
    ) in page


def test_html_names_faults_that_never_fired(page: str) -> None:
    assert "6 of 7 faults fired" in page
    assert (
        "<li><code>refund_ambiguous_timeout/outage-2 (http_5xx, matched 2 calls)"
        "</code></li>"
    ) in page


def test_html_without_history_says_so() -> None:
    empty = pd.DataFrame(
        columns=["run_id", "started", "git_sha", "scenario", "metric", "value", "n"]
    )
    for trends, suite in [(None, None), (empty, empty.iloc[:, :3])]:
        page = render_html(realistic_summary(), trends, suite)
        assert "No history yet" in page
        assert '<svg class="chart"' not in page


def test_html_plots_the_suite_pass_rate_of_every_run_and_this_one(page: str) -> None:
    chart = re.search(r'<svg class="chart".*?</svg>', page, flags=re.S)
    assert chart is not None
    dots = re.findall(r"<circle class=\"dot ([a-z ]+)\"", chart.group(0))
    assert dots == [
        "fail",
        "fail",
        "fail",
        "regression",
        "fail",
        "fail",
        "regression current",
    ]
    assert (
        "<title>20261201T081500Z-e1862da · 2026-12-01T08:15:00Z · pass rate 56% · "
        "REGRESSION · 1 regressed</title>"
    ) in chart.group(0)
    assert (
        "<title>20261128T080000Z-0000003 · 2026-11-28T08:00:00Z · pass rate 75% · "
        "REGRESSION · 1 regressed</title>"
    ) in chart.group(0)


def test_html_draws_sparklines_only_for_scenarios_that_changed(page: str) -> None:
    section = page[page.index('<section id="trends"') :]
    assert "Scenarios whose pass rate changed (2; 3 steady)" in section
    assert 'aria-label="refund_ok: pass rate 100% to 40% over 7 runs"' in section
    assert (
        'aria-label="refund_ambiguous_timeout: pass rate 0% to 100% over 7 runs"'
    ) in section
    assert "<code>refund_partial</code>" not in section
    # the regressed scenario comes first
    assert section.index("refund_ok:") < section.index("refund_ambiguous_timeout:")


def test_html_derives_the_suite_trend_from_scenario_trends_alone() -> None:
    trends, _ = trend_frames()
    page = render_html(realistic_summary(), trends)
    chart = re.search(r'<svg class="chart".*?</svg>', page, flags=re.S)
    assert chart is not None
    assert len(re.findall(r"<circle ", chart.group(0))) == 7
    # runs weighted by their n: refund_ok ran 5 times, the others once
    assert "20261125T080000Z-0000000 · 2026-11-25T08:00:00Z · pass rate 75%" in page


def test_html_of_an_empty_session_renders() -> None:
    summary = {"summary_version": 2, "verdict": "empty", "runs": 0, "passed": 0}
    page = render_html(summary)
    assert '<p class="word">EMPTY</p>' in page
    assert "No scenario ran." in page
    assert _parse(page).problems == []


def test_html_labels_runs_of_one_commit_by_their_start_time() -> None:
    trends, suite = trend_frames()
    suite["git_sha"] = "e1862da0c0ffee00112233445566778899aabbcc"
    trends["git_sha"] = "e1862da0c0ffee00112233445566778899aabbcc"
    page = render_html(realistic_summary(), trends, suite)
    labels = re.findall(
        r'<text class="axis" x="[\d.]+" y="[\d.]+" text-anchor="middle">(.*?)</text>',
        page,
    )
    assert labels == [
        "11-25 08:00",
        "11-26 08:00",
        "11-27 08:00",
        "11-28 08:00",
        "11-29 08:00",
        "11-30 08:00",
        "12-01 08:15",
    ]


def test_html_trends_follow_this_agent_on_this_suite_and_fold_the_others() -> None:
    summary = realistic_summary()
    summary["selection"] = {"fingerprint": "a22f9b45f2fc", "scenarios": ["refund_ok"]}
    trends, suite = trend_frames()
    agent = summary["agent"]
    # runs 0-1: a subset of the same agent; run 2: another agent; 3-5: this series
    suite["agent"] = [agent, agent, "tests:naive", agent, agent, agent]
    suite["suite"] = ["0ddba11c0ffe", "0ddba11c0ffe", *["a22f9b45f2fc"] * 4]
    series = trends["run_id"].isin(suite["run_id"][3:])
    page = render_html(summary, trends[series], suite)

    section = page[page.index('<section id="trends"') :]
    main = section[: section.index("<h3>Other series</h3>")]
    chart = re.search(r'<svg class="chart".*?</svg>', main, flags=re.S)
    assert chart is not None
    assert len(re.findall(r"<circle ", chart.group(0))) == 4  # 3 past and this one
    assert f"Sessions of {agent} · suite a22f9b45f2fc" in main
    folds = re.findall(r"<details><summary>(.*?)</summary>", section)
    assert folds[-2:] == [
        f"{agent} · suite 0ddba11c0ffe: 2 runs",
        "tests:naive · suite a22f9b45f2fc: 1 run",
    ]
    assert _parse(page).problems == []
