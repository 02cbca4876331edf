"""The Markdown report for CI (a GitHub step summary), from ``summary.json``.

Short by design: the verdict first, then what regressed against the baseline and
what failed, then the scenario-by-oracle table (folded into ``<details>`` past
:data:`FOLD_AFTER` scenarios; failing and regressed scenarios are always listed
above it), pass^k, model usage (calls, tokens and cost per scenario and in all,
when some run made model calls), fault coverage and escalation precision and
recall.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from harness.models.usage import cost_text
from harness.reporting import _view as view
from harness.reporting.modes import markdown_sections
from harness.reporting.summary import unsandboxed_line

#: Past this many scenarios the full table is folded into ``<details>``.
FOLD_AFTER = 30
#: At most this many seed indexes are listed per scenario and failure.
SEEDS_LISTED = 10

_ICONS = {
    "pass": "✅",
    "fail": "❌",
    "regression": "📉",
    "error": "💥",
    "empty": "⚪",
    "interrupted": "⏹",
}


def render_markdown(summary: Mapping[str, Any]) -> str:
    """The report of ``summary`` (contract version 2) as GitHub-flavoured Markdown."""
    rows = view.scenario_rows(summary)
    parts = [
        _verdict(summary),
        markdown_sections(summary),
        _regressions(summary),
        _failing(rows),
        _table(summary, rows),
        _pass_k(rows),
        _models(summary),
        _faults(summary),
        _escalation(summary),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _verdict(summary: Mapping[str, Any]) -> str:
    icon = _ICONS.get(view.verdict_key(summary), "")
    title = " ".join(p for p in (icon, "aqe ·", _text(view.headline(summary))) if p)
    lines = [f"## {title}"]
    reason = view.incomplete_reason(summary)
    if reason is not None:
        lines += ["", f"> **INCOMPLETE: {_text(reason)}**"]
        lines += ["> The verdict covers only the runs that finished."]
    loose = unsandboxed_line(dict(summary))
    if loose is not None:
        lines += ["", f"> {_text(loose[0].upper() + loose[1:])}"]
    pairs = view.provenance(summary)
    if pairs:
        lines += ["", " · ".join(f"{label} {_code(v)}" for label, v in pairs)]
    return "\n".join(lines)


def _regressions(summary: Mapping[str, Any]) -> str:
    compared = view.comparison(summary)
    gate = view.gate_failures(summary)
    if compared is None:
        if not gate:
            return "### Regressions\n\nNo baseline compared."
        return "### Gate failures\n\n" + "\n".join(f"- {_text(f)}" for f in gate)
    lines = ["### Regressions vs the baseline", ""]
    base = compared.get("baseline") or {}
    against = []
    if base.get("run_id"):
        against.append(f"run {_code(str(base['run_id']))}")
    sha = view.short_sha(base.get("git_sha"))
    if sha:
        against.append(f"git {_code(sha)}")
    if base.get("created"):
        against.append(f"created {_text(str(base['created']))}")
    rules = view.gate_rules(summary)
    if rules:
        against.append("gate " + ", ".join(_code(r) for r in rules))
    if against:
        lines += ["Baseline: " + " · ".join(against), ""]
    if compared.get("counts"):
        lines += [_text(view.counts_text(compared)), ""]
    changes = view.changes(summary)
    if changes:
        lines += [
            "| scenario | metric | status | baseline | now | delta | 95% CI | p | n |",
            "| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
        ]
        lines += [
            f"| {_code(c.scenario)} | {_code(c.metric)} | "
            f"{'**regressed**' if c.status == 'regressed' else c.status} | "
            f"{view.fmt_value(c.base, c.metric)} | "
            f"{view.fmt_value(c.cand, c.metric)} | "
            f"{view.fmt_delta(c.delta, c.metric)} | {view.fmt_interval(c.interval)} | "
            f"{view.fmt_p(c.p_value)} | {view.fmt_n(c)} |"
            for c in changes
        ]
    else:
        lines.append("No metric moved beyond its rule.")
    for status in ("new", "missing"):
        names = view.scenarios_with_status(summary, status)
        if names:
            lines += ["", f"{status.capitalize()}: " + ", ".join(map(_code, names))]
    note = view.selection_text(summary)
    if note:
        lines += ["", f"> {_text(note[0].upper() + note[1:])}."]
    return "\n".join(lines)


def _failing(rows: Sequence[view.ScenarioRow]) -> str:
    failing = [r for r in rows if r.failing or r.regressed]
    if not failing:
        return ""
    lines = ["### Failing and regressed scenarios", ""]
    for row in failing:
        marks = [f"{row.passed} of {row.runs} runs passed"]
        if row.regressed:
            marks.append("**regressed**")
        if row.thresholds:
            marks.append(_text(row.thresholds))
        lines.append(f"- {_code(row.name)}: " + ", ".join(marks))
        lines.extend(f"  - {line}" for line in _failed_runs(row.failed_runs))
    return "\n".join(lines)


def _failed_runs(runs: Sequence[view.FailedRun]) -> list[str]:
    """One line per set of failed oracles: which seeds, and the first one's trace."""
    lines = []
    for found in view.failure_groups(runs):
        group = found.runs
        failed = ", ".join(map(_code, found.oracles)) or "an error"
        seeds = ", ".join(f"`[seed={r.seed_index}]`" for r in group[:SEEDS_LISTED])
        if len(group) > SEEDS_LISTED:
            seeds += f" and {len(group) - SEEDS_LISTED} more"
        first = group[0]
        where = [f"seed {first.seed}"] if first.seed is not None else []
        if first.trace:
            where.append(f"trace {_code(first.trace)}")
        line = f"{failed} failed in {seeds}"
        if where:
            first_of = "first: " if len(group) > 1 else ""
            line += f" ({first_of}{', '.join(where)})"
        lines.append(line)
    return lines


def _table(summary: Mapping[str, Any], rows: Sequence[view.ScenarioRow]) -> str:
    if not rows:
        return "No scenario ran."
    oracles = view.oracle_names(summary)
    head = ["scenario", "verdict", "runs", *oracles]
    lines = [
        "| " + " | ".join(_text(h) for h in head) + " |",
        "| --- | --- | ---: |" + " :---: |" * len(oracles),
    ]
    for row in rows:
        verdict = "**FAIL**" if row.failing else "pass"
        if row.regressed:
            verdict += " (regressed)"
        cells = [
            c.text if c.state in ("ok", "none") else f"**{c.text}**" for c in row.cells
        ]
        lines.append(
            f"| {_code(row.name)} | {verdict} | {row.passed}/{row.runs} | "
            + " | ".join(cells)
            + " |"
        )
    table = "\n".join(lines)
    if len(rows) <= FOLD_AFTER:
        return "### Scenarios\n\n" + table
    return (
        f"### Scenarios\n\n<details><summary>All {len(rows)} scenarios by oracle"
        f"</summary>\n\n{table}\n\n</details>"
    )


def _pass_k(rows: Sequence[view.ScenarioRow]) -> str:
    repeated = [r for r in rows if r.runs > 1]
    if not repeated:
        return ""
    ks = view.pass_k_columns(repeated)
    lines = [
        "### pass^k (all of k runs pass)",
        "",
        "| scenario | runs | " + " | ".join(f"pass^{k}" for k in ks) + " |",
        "| --- | ---: |" + " ---: |" * len(ks),
    ]
    for row in repeated:
        cells = [f"{row.pass_hat_k[k]:.2f}" if k in row.pass_hat_k else "" for k in ks]
        lines.append(
            f"| {_code(row.name)} | {row.passed}/{row.runs} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def _models(summary: Mapping[str, Any]) -> str:
    session = view.session_model(summary)
    if session is None:
        return ""
    lines = [
        "### Model usage",
        "",
        "| scenario | model calls | tokens in | tokens out | tokens | cost |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    named = [(_code(r.name), r.usage) for r in view.model_rows(summary)]
    for name, used in [*named, ("**all**", session)]:
        lines.append(
            f"| {name} | {used.calls} | {used.tokens_in:,} | {used.tokens_out:,} |"
            f" {used.tokens:,} | {_text(cost_text(used))} |"
        )
    return "\n".join([*lines, "", _text(view.prices_note(summary))])


def _faults(summary: Mapping[str, Any]) -> str:
    coverage = summary.get("fault_coverage")
    if not coverage or not coverage.get("faults"):
        return ""
    line = f"{coverage.get('fired', 0)} of {coverage['faults']} faults fired"
    idle = view.never_fired(summary)
    if idle:
        line += "; never fired: " + ", ".join(map(_code, idle))
    return "### Fault coverage\n\n" + line + "."


def _escalation(summary: Mapping[str, Any]) -> str:
    stats = summary.get("escalation")
    if not stats or not stats.get("matrix"):
        return ""
    matrix: Mapping[str, Mapping[str, int]] = stats["matrix"]
    precision, recall = stats.get("precision") or {}, stats.get("recall") or {}
    lines = [
        "### Escalation",
        "",
        "| reason | precision | recall | runs expecting it |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label in view.escalation_labels(matrix):
        if label not in precision and label not in recall:
            continue
        support = sum(matrix.get(label, {}).values())
        lines.append(
            f"| {_code(label)} | {view.fmt_ratio(precision.get(label))} | "
            f"{view.fmt_ratio(recall.get(label))} | {support} |"
        )
    return "\n".join(lines)


def _text(text: str) -> str:
    """Plain text for Markdown: HTML and Markdown syntax shown, not interpreted."""
    flat = " ".join(str(text).split())
    escaped = re.sub(r"([\\`*\[\]|#~])", r"\\\1", html.escape(flat, quote=False))
    # an underscore inside a word never emphasises (GFM), so only edges need it
    return re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", escaped)


def _code(text: str) -> str:
    """A code span holding ``text`` verbatim (pipes escaped for tables)."""
    flat = " ".join(str(text).split()).replace("|", "\\|")
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"
