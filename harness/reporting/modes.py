"""The shadow and canary sections of the Markdown and HTML reports.

Both read ``summary["canary"]`` (a :class:`harness.modes.canary.CanaryReport` as
JSON) and ``summary["shadow"]`` (a :class:`harness.modes.shadow.ShadowSummary` as
JSON); a session in sim mode has neither and gets no section.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any


def canary_lines(data: Mapping[str, Any]) -> list[str]:
    """The canary in plain lines: verdict, kill switch, blast radius, stages."""
    lines = [
        f"canary {str(data['verdict']).upper()}: candidate {data['candidate']} vs"
        f" control {data['control']}, {data['cases_run']} of {data['cases']} cases"
    ]
    radius = data["blast_radius"]
    if data["killed"]:
        lines.append(f"kill switch: {data['kill_reason']}")
        lines.append(
            f"rolled back at {data['rollback_at']:.1f} s simulated,"
            f" {data['time_to_rollback']:.1f} s after the candidate's first case"
        )
    label = "blast radius" if data["killed"] else "candidate served"
    lines.append(
        f"{label}: {radius['cases']} candidate case(s), {radius['failed_cases']}"
        f" failed, {radius['side_effects']} side effect(s)"
    )
    lines += [f"critical: {c}" for c in radius["critical"]]
    for stage in data["stages"]:
        judgement = stage.get("judgement") or {}
        lines.append(
            f"stage {stage['percent']:g}%: {stage['cases']} case(s),"
            f" {stage['candidate_cases']} to the candidate; judge"
            f" {judgement.get('verdict', '-')}, score {judgement.get('score', 0):.0f}"
        )
    return lines


def shadow_lines(data: Mapping[str, Any]) -> list[str]:
    """The shadow comparison in plain lines: agreement, disagreements, and what
    the candidate would have done."""
    untouched = (
        "the shared world was not changed"
        if data.get("shared_untouched", True)
        else "THE SHARED WORLD CHANGED"
    )
    lines = [f"shadow: {data['explanation']}; {untouched}"]
    for field in data.get("fields", ()):
        if field.get("flagged"):
            lines.append(
                f"field {field['field']}: differs in {field['differences']} of"
                f" {field['cases']} case(s), noise {field['noise']}"
            )
    for case in data.get("disagreements", ()):
        diffs = "; ".join(str(d.get("text", d.get("field"))) for d in case["diffs"])
        lines.append(f"disagrees: {case['scenario']} (seed {case['seed']}): {diffs}")
    lines += [f"would have: {text}" for text in data.get("would_have", ())]
    return lines


def markdown_sections(summary: Mapping[str, Any]) -> str:
    parts = []
    if summary.get("canary"):
        parts.append(
            "### Canary\n\n"
            + "\n".join(f"- {line}" for line in canary_lines(summary["canary"]))
        )
    if summary.get("shadow"):
        parts.append(
            "### Shadow (the scores below are what the candidate would have done)\n\n"
            + "\n".join(f"- {line}" for line in shadow_lines(summary["shadow"]))
        )
    return "\n\n".join(parts)


def html_sections(summary: Mapping[str, Any]) -> str:
    parts = []
    for key, title, lines in (
        ("canary", "Canary", canary_lines),
        (
            "shadow",
            "Shadow (the runs' scores below are what the candidate would have done;"
            " nothing was changed)",
            shadow_lines,
        ),
    ):
        data = summary.get(key)
        if not data:
            continue
        items = "".join(f"<li>{escape(line)}</li>" for line in lines(data))
        parts.append(f'<section id="{key}"><h2>{title}</h2><ul>{items}</ul></section>')
    return "".join(parts)
