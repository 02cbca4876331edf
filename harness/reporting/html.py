"""The HTML report: one self-contained file that opens offline.

Inline CSS, inline SVG plots (:mod:`harness.reporting.svg`), inline script for
sorting, filtering and the run viewer (:mod:`harness.reporting.viewer`: each run's
story, embedded as inert JSON), and a Content-Security-Policy that lets nothing
else load or run (the script is allowed by its hash). Every string from the
summary is escaped: scenario names and failure texts are data, never markup.
Colour always comes with a word (``ok``, ``FAIL``, ``regressed``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from harness.models.usage import ModelUsage, cost_text
from harness.reporting import _view as view
from harness.reporting import svg, viewer
from harness.reporting._history import (
    History,
    PastRun,
    Rows,
    changed_rates,
    read_history,
)
from harness.reporting._html_assets import CSS, JS
from harness.reporting.modes import html_sections

#: At most this many scenarios get a pass-rate sparkline (regressed first).
SPARKLINES = 40


def render_html(
    summary: Mapping[str, Any],
    trends: Rows | None = None,
    suite_trend: Rows | None = None,
    stories: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """The report of ``summary`` (contract version 2) as one HTML page.

    ``trends`` holds per-scenario metrics of past runs (``run_id, started, git_sha,
    scenario, metric, value, n``) and ``suite_trend`` one row per past run
    (``run_id, started, git_sha, pass_rate, regressions, verdict``); either may be
    None or empty. The current run is added to the plots when they lack it.
    ``stories`` holds each run's story (:func:`harness.reporting.viewer.load_stories`),
    in the order of ``summary["results"]``; without them runs open to their records.
    """
    rows = view.scenario_rows(summary)
    history = read_history(summary, trends, suite_trend)
    sections = [
        html_sections(summary),
        _regressions(summary),
        _failing(summary, rows),
        viewer.render_runs(summary, stories),
        _matrix(summary, rows),
        _pass_k(rows),
        _models(summary),
        _escalation(summary),
        _faults(summary),
        _trends(history, rows),
    ]
    title = f"aqe report: {view.headline(summary)}"
    if summary.get("run_id"):
        title += f" ({summary['run_id']})"
    script = JS + viewer.JS
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )
    nav = " ".join(
        f'<a href="#{anchor}">{label}</a>'
        for anchor, label in (
            ("regressions", "Regressions"),
            ("failing", "Failures"),
            ("runs", "Runs"),
            ("matrix", "Scenarios"),
            ("passk", "pass^k"),
            *((("models", "Model usage"),) if summary.get("model") else ()),
            ("escalation", "Escalation"),
            ("faults", "Fault coverage"),
            ("trends", "Trends"),
        )
    )
    return "".join(
        [
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n',
            f"<title>{escape(title)}</title>\n<style>{CSS}{viewer.CSS}</style>\n",
            "</head>\n<body>\n",
            '<div class="top">\n<h1>aqe-harness regression report</h1>\n',
            _verdict(summary),
            f'<nav aria-label="sections">{nav}</nav>\n</div>\n<main>\n',
            "\n".join(sections),
            "\n</main>\n",
            _footer(summary),
            f"<script>{script}</script>\n</body>\n</html>\n",
        ]
    )


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _verdict(summary: Mapping[str, Any]) -> str:
    key = view.verdict_key(summary)
    runs, passed = int(summary.get("runs") or 0), int(summary.get("passed") or 0)
    details = "".join(
        f"<dt>{_e(label)}</dt><dd><code>{_e(value)}</code></dd>"
        for label, value in view.provenance(summary)
    )
    out = (
        f'<header class="verdict v-{_e(key)}" role="status">'
        f'<p class="word">{_e(view.verdict_word(summary))}</p>'
        f'<p class="counts">{passed} of {runs} runs passed'
        f"{_regression_count(summary)}</p>"
        f"<dl>{details}</dl></header>\n"
    )
    reason = view.incomplete_reason(summary)
    if reason is not None:
        out += (
            '<div class="incomplete" role="alert"><strong>INCOMPLETE:</strong> '
            f"{_e(reason)}. The verdict covers only the runs that finished.</div>\n"
        )
    return out


def _regression_count(summary: Mapping[str, Any]) -> str:
    compared = view.comparison(summary)
    if compared is None:
        return ""
    regressed = int((compared.get("counts") or {}).get("regressed", 0))
    if not regressed:
        return "; nothing regressed vs the baseline"
    names = sorted(view.regressed_scenarios(summary))
    shown = ", ".join(f"<code>{_e(n)}</code>" for n in names[:3])
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    plural = "s" if regressed != 1 else ""
    return f"; {regressed} scenario{plural} regressed vs the baseline: {shown}{more}"


def _section(anchor: str, heading: str, body: str) -> str:
    return (
        f'<section id="{anchor}" aria-labelledby="{anchor}-h">'
        f'<h2 id="{anchor}-h">{heading}</h2>\n{body}</section>'
    )


def _regressions(summary: Mapping[str, Any]) -> str:
    compared = view.comparison(summary)
    gate = view.gate_failures(summary)
    if compared is None:
        body = '<p class="note">No baseline was compared in this run.</p>'
        if gate:
            body += _list("Gate failures", gate)
        return _section("regressions", "Regressions vs the baseline", body)
    base = compared.get("baseline") or {}
    facts = [
        f"{label} <code>{_e(value)}</code>"
        for label, value in (
            ("run", base.get("run_id")),
            ("git", view.short_sha(base.get("git_sha"))),
            ("created", base.get("created")),
            ("file", base.get("path")),
        )
        if value
    ]
    rules = view.gate_rules(summary)
    if rules:
        facts.append("gate " + ", ".join(f"<code>{_e(r)}</code>" for r in rules))
    body = f"<p>Baseline: {' · '.join(facts) or 'unnamed'}</p>\n"
    counts = compared.get("counts") or {}
    chips = "".join(
        f'<span class="{"bad" if status == "regressed" and n else ""}">'
        f"{_e(n)} {_e(status)}</span>"
        for status, n in counts.items()
    )
    if view.not_selected(summary):
        chips += f"<span>{view.not_selected(summary)} not selected</span>"
    body += f'<p class="chips">{chips}</p>\n' if chips else ""
    changes = view.changes(summary)
    if changes:
        body += _changes_table(changes)
    else:
        body += '<p class="note">No metric moved beyond its rule.</p>\n'
    for status in ("new", "missing"):
        names = view.scenarios_with_status(summary, status)
        if names:
            body += _list(f"{status.capitalize()} scenarios", names)
    note = view.selection_text(summary)
    if note:
        body += f'<p class="note">{_e(note[0].upper() + note[1:])}.</p>\n'
    return _section("regressions", "Regressions vs the baseline", body)


def _changes_table(changes: Sequence[view.MetricChange]) -> str:
    head = _head(
        ("scenario", ""),
        ("metric", ""),
        ("status", ""),
        ("baseline", "num"),
        ("now", "num"),
        ("delta", "num"),
        ("95% interval of the delta", ""),
        ("p", "num"),
        ("n (base/now)", "num"),
    )
    lines = []
    for c in changes:
        spread = [abs(v) for v in (c.delta, *(c.interval or ())) if v is not None]
        scale = 1.0 if c.is_rate else max([*spread, 1e-9]) * 1.1
        plot = svg.interval_plot(c.delta, c.interval, scale=scale, state=c.status)
        lines.append(
            f'<tr><th scope="row"><code>{_e(c.scenario)}</code></th>'
            f"<td><code>{_e(c.metric)}</code></td>"
            f'<td data-v="{view.CHANGE_ORDER.index(c.status)}">'
            f'<span class="tag {_e(c.status)}">{_e(c.status)}</span></td>'
            f"{_num_td(c.base, view.fmt_value(c.base, c.metric))}"
            f"{_num_td(c.cand, view.fmt_value(c.cand, c.metric))}"
            f"{_num_td(c.delta, view.fmt_delta(c.delta, c.metric))}"
            f'<td>{plot} <span class="mono">{view.fmt_interval(c.interval)}</span>'
            "</td>"
            f"{_num_td(c.p_value, view.fmt_p(c.p_value))}"
            f'<td class="num">{_e(view.fmt_n(c))}</td></tr>'
        )
    return _table("changes", head, lines)


def _failing(summary: Mapping[str, Any], rows: Sequence[view.ScenarioRow]) -> str:
    bad = [r for r in rows if r.failing or r.regressed]
    if not bad:
        text = "No scenario failed or regressed." if rows else "No scenario ran."
        return _section("failing", "Failures", f'<p class="note">{text}</p>')
    where = viewer.run_index(summary)
    items = []
    for row in bad:
        tags = '<span class="tag fail">FAIL</span>' if row.failing else ""
        if row.regressed:
            tags += '<span class="tag regressed">regressed</span>'
        runs = "".join(
            _failure_group(g, where) for g in view.failure_groups(row.failed_runs)
        )
        why = (
            f' <span class="note">({_e(row.thresholds)})</span>'
            if row.thresholds
            else ""
        )
        items.append(
            f"<li><code>{_e(row.name)}</code>{tags} {row.passed} of {row.runs} runs "
            f'passed{why}<ul class="runs">{runs}</ul></li>'
        )
    body = f"<ul>{''.join(items)}</ul>"
    gate = view.gate_failures(summary)
    if gate:
        body += _list("Gate failures", gate)
    return _section("failing", "Failures", body)


def _failure_group(
    group: view.FailureGroup, where: Mapping[tuple[str, int, Any], int]
) -> str:
    """``idempotency failed in [seed=1], [seed=3]`` (each opening the run in the
    viewer) and, folded, each run's trace."""
    failed = ", ".join(f"<code>{_e(o)}</code>" for o in group.oracles) or "an error"
    seeds = ", ".join(_run_link(r, where) for r in group.runs)
    runs = "".join(
        f"<li><code>{_e(r.nodeid)}</code>"
        + (f" seed {_e(r.seed)}" if r.seed is not None else "")
        + (f"; trace <code>{_e(r.trace)}</code>" if r.trace else "")
        + "</li>"
        for r in group.runs
    )
    plural = "s" if len(group.runs) != 1 else ""
    return (
        f"<li>{failed} failed in {seeds}<details><summary>{len(group.runs)} "
        f"run{plural}: seeds and traces</summary><ul>{runs}</ul></details></li>"
    )


def _run_link(run: view.FailedRun, where: Mapping[tuple[str, int, Any], int]) -> str:
    label = f"<code>[seed={run.seed_index}]</code>"
    index = where.get((run.nodeid, run.seed_index, run.seed))
    if index is None:
        return label
    return f'<a href="#{viewer.run_anchor(index)}" title="open the run">{label}</a>'


def _matrix(summary: Mapping[str, Any], rows: Sequence[view.ScenarioRow]) -> str:
    if not rows:
        return _section(
            "matrix", "Scenarios &times; oracles", '<p class="note">None.</p>'
        )
    oracles = view.oracle_names(summary)
    head = _head(
        ("scenario", ""),
        ("verdict", ""),
        ("runs passed", "num"),
        *((o, "") for o in oracles),
    )
    lines = []
    for row in rows:
        bad = row.failing or row.regressed
        verdict = "fail" if row.failing else "ok"
        tag = '<span class="tag regressed">regressed</span>' if row.regressed else ""
        cells = "".join(
            f'<td class="cell {c.state}" data-v="{_cell_order(c)}" '
            f'title="{_e(o)}: {_e(c.title)}">{_e(c.text)}</td>'
            for o, c in zip(oracles, row.cells, strict=False)
        )
        css = ' class="regressed-row"' if row.regressed else ""
        lines.append(
            f'<tr data-name="{_e(row.name)}" data-bad="{int(bad)}"{css}>'
            f'<th scope="row" title="{_e(row.path)}"><code>{_e(row.name)}</code>'
            f"{tag}</th>"
            f'<td class="cell {verdict}" data-v="{int(row.failing)}">'
            f"{_e(row.verdict)}</td>"
            f'<td class="num" data-v="{row.pass_rate:.6f}">{row.passed}/{row.runs}'
            f"</td>{cells}</tr>"
        )
    controls = (
        '<div class="controls"><label>Filter scenarios '
        '<input type="search" id="matrix-filter" placeholder="name contains…">'
        '</label><label><input type="checkbox" id="matrix-failing"> only failing '
        f'or regressed</label><span class="note"><span id="matrix-shown">{len(rows)}'
        f"</span> of {len(rows)} shown</span></div>\n"
    )
    legend = (
        '<p class="note">Cells: <span class="ok">ok</span> every judged run passed, '
        '<span class="fail">FAIL</span> none did, <span class="mixed">k/n</span> '
        'k of n judged runs passed, <span class="none">-</span> nothing to judge. '
        "Click a column heading to sort.</p>\n"
    )
    table = _table("matrix-table", head, lines)
    return _section("matrix", "Scenarios &times; oracles", controls + legend + table)


def _cell_order(cell: view.Cell) -> str:
    """Sort key of a cell: failures first when sorting ascending, ``-`` last."""
    return "2" if not cell.judged else f"{cell.passed / cell.judged:.6f}"


def _pass_k(rows: Sequence[view.ScenarioRow]) -> str:
    repeated = [r for r in rows if r.runs > 1]
    if not repeated:
        note = "Every scenario ran once; run with several seeds for pass^k."
        return _section("passk", "pass^k", f'<p class="note">{note}</p>')
    ks = view.pass_k_columns(repeated)
    head = _head(
        ("scenario", ""),
        ("runs passed", "num"),
        *((f"pass^{k}", "num") for k in ks),
    )
    lines = []
    for row in repeated:
        cells = "".join(
            _rate_td(row.pass_hat_k[k]) if k in row.pass_hat_k else "<td></td>"
            for k in ks
        )
        lines.append(
            f'<tr><th scope="row"><code>{_e(row.name)}</code></th>'
            f'<td class="num" data-v="{row.pass_rate:.6f}">{row.passed}/{row.runs}'
            f"</td>{cells}</tr>"
        )
    note = (
        '<p class="note">pass^k: the chance that k runs drawn from those made all '
        "pass (τ-bench); a reliable agent keeps it high as k grows.</p>\n"
    )
    return _section("passk", "pass^k", note + _table("passk-table", head, lines))


def _rate_td(value: float) -> str:
    width = round(value * 48)
    return (
        f'<td class="num" data-v="{value:.6f}"><span class="bar" '
        f'style="width:{width}px"></span>{value:.2f}</td>'
    )


def _models(summary: Mapping[str, Any]) -> str:
    """Model calls, tokens and cost per scenario and in all; nothing when no
    run made a model call."""
    session = view.session_model(summary)
    if session is None:
        return ""
    head = _head(
        ("scenario", ""),
        ("model calls", "num"),
        ("tokens in", "num"),
        ("tokens out", "num"),
        ("tokens", "num"),
        ("cost (USD)", "num"),
    )
    rows = "".join(
        _model_row(f"<code>{_e(r.name)}</code>", r.usage)
        for r in view.model_rows(summary)
    )
    table = (
        f'<div class="scroll"><table class="sortable" id="models-table">{head}'
        f"<tbody>{rows}</tbody><tfoot>{_model_row('all scenarios', session)}</tfoot>"
        "</table></div>\n"
    )
    note = f'<p class="note">{_e(view.prices_note(summary))}</p>\n'
    return _section("models", "Model usage", table + note)


def _model_row(name: str, used: ModelUsage) -> str:
    return (
        f'<tr><th scope="row">{name}</th>'
        f'<td class="num" data-v="{used.calls}">{used.calls}</td>'
        f'<td class="num" data-v="{used.tokens_in}">{used.tokens_in:,}</td>'
        f'<td class="num" data-v="{used.tokens_out}">{used.tokens_out:,}</td>'
        f'<td class="num" data-v="{used.tokens}">{used.tokens:,}</td>'
        f"{_num_td(used.cost_usd, cost_text(used))}</tr>"
    )


def _escalation(summary: Mapping[str, Any]) -> str:
    stats = summary.get("escalation")
    if not stats or not stats.get("matrix"):
        note = '<p class="note">No run asserted an escalation decision.</p>'
        return _section("escalation", "Escalation", note)
    matrix: Mapping[str, Mapping[str, int]] = stats["matrix"]
    labels = view.escalation_labels(matrix)
    actual = [a for a in labels if any(a in row for row in matrix.values())]
    expected = [e for e in labels if e in matrix]
    head = (
        '<thead><tr><th scope="col">expected \\ actual</th>'
        + "".join(f'<th scope="col"><code>{_e(a)}</code></th>' for a in actual)
        + '<th scope="col" class="num">runs</th></tr></thead>'
    )
    lines = []
    for want in expected:
        row = matrix[want]
        cells = []
        for got in actual:
            count = int(row.get(got, 0))
            right = got == want or (want == "any" and got != "none")
            kind = "zero" if not count else "hit" if right else "miss"
            word = "" if not count or right else " wrong"
            cells.append(
                f'<td class="num {kind}" title="expected {_e(want)}, actual '
                f'{_e(got)}: {count}{word}">{count}</td>'
            )
        lines.append(
            f'<tr><th scope="row"><code>{_e(want)}</code></th>{"".join(cells)}'
            f'<td class="num">{sum(row.values())}</td></tr>'
        )
    confusion = (
        '<p class="note">Rows: the decision each run should have made; columns: '
        "the one it made. Green cells are right, red cells wrong.</p>\n"
        '<div class="scroll"><table id="escalation-matrix">'
        "<caption>Confusion matrix</caption>"
        f"{head}<tbody>{''.join(lines)}</tbody></table></div>\n"
    )
    precision, recall = stats.get("precision") or {}, stats.get("recall") or {}
    score_rows = [
        f'<tr><th scope="row"><code>{_e(label)}</code></th>'
        f"{_num_td(precision.get(label), view.fmt_ratio(precision.get(label)))}"
        f"{_num_td(recall.get(label), view.fmt_ratio(recall.get(label)))}</tr>"
        for label in labels
        if label in precision or label in recall
    ]
    scores = _table(
        "escalation-scores",
        _head(("reason", ""), ("precision", "num"), ("recall", "num")),
        score_rows,
    )
    return _section("escalation", "Escalation", confusion + "<p></p>" + scores)


def _faults(summary: Mapping[str, Any]) -> str:
    coverage = summary.get("fault_coverage") or {}
    total = int(coverage.get("faults") or 0)
    if not total:
        note = '<p class="note">No scenario injected a fault.</p>'
        return _section("faults", "Fault coverage", note)
    fired = int(coverage.get("fired") or 0)
    body = (
        f'<p><span class="meter" role="img" aria-label="{fired} of {total} fired">'
        f'<span style="width:{100 * fired / total:.1f}%"></span></span>'
        f"{fired} of {total} faults fired</p>\n"
    )
    idle = view.never_fired(summary)
    if idle:
        body += _list("Never fired (the scenario did not test what it says)", idle)
    return _section("faults", "Fault coverage", body)


def _trends(history: History, rows: Sequence[view.ScenarioRow]) -> str:
    series = (
        f'<p class="note">Sessions of {_e(history.series.label)}: the same agent on'
        " the same selection of scenarios.</p>\n"
        if history.series is not None and history.others
        else ""
    )
    others = _other_series(history)
    if len(history.runs) < 2:
        note = (
            '<p class="note">No history yet: trends appear once the results store '
            "holds earlier runs.</p>"
        )
        return _section("trends", "Trends across runs", series + note + others)
    chart = _suite_chart(history.runs, history.current)
    body = (
        f'{series}<h3>Suite pass rate per run</h3>\n<div class="scroll">{chart}</div>\n'
        '<p class="note">Each dot is a run (hover for its id, time and verdict), '
        f"coloured by verdict: {_legend()}; the ringed dot is this run.</p>\n"
    )
    body += _sparklines(history, rows) + others
    return _section("trends", "Trends across runs", body)


def _suite_chart(runs: Sequence[PastRun], current: str | None) -> str:
    points = [
        svg.ChartPoint(
            label=label,
            value=run.pass_rate,
            state=run.verdict or "none",
            tooltip=_tooltip(run),
            current=run.run_id == current,
        )
        for run, label in zip(runs, _run_labels(runs), strict=True)
    ]
    return svg.rate_chart(
        points, title=f"Suite pass rate over the last {len(points)} runs"
    )


def _other_series(history: History) -> str:
    """The other agents' and suites' sessions, one folded chart each."""
    if not history.others:
        return ""
    folds = "".join(
        f"<details><summary>{_e(s.label)}: {len(s.runs)} run"
        f'{"s" if len(s.runs) != 1 else ""}</summary><div class="scroll">'
        f"{_suite_chart(s.runs, None)}</div></details>\n"
        for s in history.others
    )
    return (
        '<h3>Other series</h3>\n<p class="note">Sessions of other agents or of'
        " other selections of scenarios, kept apart so a subset or another agent"
        " does not move this trend. Open one to see it.</p>\n" + folds
    )


def _run_labels(runs: Sequence[PastRun]) -> list[str]:
    """Short commits when they tell the runs apart, else start times (UTC)."""
    shas = [run.git_sha or "" for run in runs]
    if "" not in shas and len(set(shas)) == len(shas):
        return shas
    for width in (16, 19):  # 12-01 08:15, then 12-01 08:15:09
        labels = [
            f"{r.started[5:10]} {r.started[11:width]}" if len(r.started) >= 19 else ""
            for r in runs
        ]
        if len(set(labels)) == len(labels):
            break
    return [label or f"#{i + 1}" for i, label in enumerate(labels)]


def _legend() -> str:
    return ", ".join(
        f'<svg width="10" height="10" aria-hidden="true"><circle class="dot {key}" '
        f'cx="5" cy="5" r="4"/></svg> {word}'
        for key, word in view.VERDICT_WORDS.items()
        if key not in ("empty", "interrupted")
    )


def _tooltip(run: PastRun) -> str:
    rate = "n/a" if run.pass_rate is None else f"{run.pass_rate:.0%}"
    text = f"{run.run_id} · {run.started} · pass rate {rate}"
    if run.verdict:
        text += f" · {view.VERDICT_WORDS.get(run.verdict, run.verdict)}"
    if run.regressions:
        text += f" · {run.regressions} regressed"
    return text


def _sparklines(history: History, rows: Sequence[view.ScenarioRow]) -> str:
    regressed = {r.name for r in rows if r.regressed}
    changed = sorted(
        changed_rates(history),
        key=lambda c: (c.scenario not in regressed, -c.spread, c.scenario),
    )
    if not changed:
        return (
            '<p class="note">Every scenario kept its pass rate across these '
            f"{len(history.runs)} runs.</p>"
        )
    lines = []
    for series in changed[:SPARKLINES]:
        first, last = series.first, series.last
        label = (
            f"{series.scenario}: pass rate {first:.0%} to {last:.0%} "
            f"over {series.runs} runs"
        )
        tag = ""
        if series.scenario in regressed:
            tag = '<span class="tag regressed">regressed</span>'
        lines.append(
            f'<tr><th scope="row"><code>{_e(series.scenario)}</code>{tag}</th>'
            f"<td>{svg.sparkline(series.values, label=label)}</td>"
            f"{_num_td(first, f'{first:.2f}')}{_num_td(last, f'{last:.2f}')}"
            f"{_num_td(last - first, f'{last - first:+.2f}')}"
            f"{_num_td(series.spread, f'{series.low:.2f} to {series.high:.2f}')}</tr>"
        )
    more = len(changed) - SPARKLINES
    extra = (
        f'<p class="note">and {more} more scenarios changed.</p>' if more > 0 else ""
    )
    head = _head(
        ("scenario", ""),
        ("pass rate per run", ""),
        ("first", "num"),
        ("now", "num"),
        ("change", "num"),
        ("range", "num"),
    )
    steady = len(history.rates) - len(changed)
    return (
        f"<h3>Scenarios whose pass rate changed ({len(changed)}; {steady} steady)</h3>"
        + _table("sparklines", head, lines)
        + extra
    )


def _footer(summary: Mapping[str, Any]) -> str:
    finished = summary.get("finished")
    when = f"; finished {_e(finished)}" if finished else ""
    return (
        f"<footer>aqe-harness {_e(summary.get('harness', ''))}, summary version "
        f"{_e(summary.get('summary_version', '?'))}{when}. This file is "
        "self-contained and works offline.</footer>\n"
    )


def _head(*columns: tuple[str, str]) -> str:
    cells = "".join(
        f'<th scope="col" class="{cls}"><button type="button">{_e(name)}</button></th>'
        if cls
        else f'<th scope="col"><button type="button">{_e(name)}</button></th>'
        for name, cls in columns
    )
    return f"<thead><tr>{cells}</tr></thead>"


def _table(table_id: str, head: str, lines: Iterable[str]) -> str:
    return (
        f'<div class="scroll"><table class="sortable" id="{table_id}">{head}'
        f"<tbody>{''.join(lines)}</tbody></table></div>\n"
    )


def _num_td(value: float | None, text: str) -> str:
    sort = "" if value is None else f"{value:.6f}"
    return f'<td class="num" data-v="{sort}">{_e(text)}</td>'


def _list(heading: str, items: Iterable[str]) -> str:
    entries = "".join(f"<li><code>{_e(item)}</code></li>" for item in items)
    return f"<h3>{_e(heading)}</h3><ul>{entries}</ul>\n"
