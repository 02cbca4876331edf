"""The report's run viewer: every run of the session, each opening to its story.

A run's story is read from its trace (:mod:`harness.reporting.trace`): the task, the
history (tool calls with what the agent saw and what really happened, fault and
human decisions, model calls), the ledger of effects, the faults' coverage and each
oracle's score with the evidence it cites. Traces are written with the run's secrets
as their aliases, and the story keeps only what the trace holds, so the page shows
exactly what the terminal and JUnit show, never a secret in clear.

Each story is embedded once, as compact JSON in an inert
``<script type="application/json">`` block, and the page's script parses and renders
it only when the run is opened: a page of hundreds of runs costs the browser the
bytes of their stories, not the work of drawing them.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from harness.reporting._viewer_assets import CSS as CSS
from harness.reporting._viewer_assets import JS as JS
from harness.reporting.text import coverage_text

#: Bumped when the embedded story changes shape (the page's script reads it).
STORY_VERSION = 1
#: History entry fields, in the order a story holds them (a row, not an object).
HISTORY_FIELDS = ("index", "time", "process", "type", "f", "call", "value")
#: The key of a reference to a shared value (no trace or tool spec uses it).
REF = "@aqe:shared"
#: Repeated values at least this long (as JSON) are stored once in a story...
SHARED_CHARS = 64
#: ... of a history at least this long (a model's conversation, repeated at every
#: turn; a run of plain tool calls has little to share).
SHARING_CHARS = 16_384

_JSON = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)
#: A value's identity when sharing: a trace's objects come with sorted keys, so
#: this quicker encoder gives equal values equal texts.
_CANONICAL = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, check_circular=False, default=str
)
#: What a JSON text may not hold inside a ``<script>`` element: ``</script>``,
#: ``<!--`` and the line separators old parsers choke on.
_UNSAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
     "\u2029": "\\u2029"}
)  # fmt: skip


def load_stories(
    summary: Mapping[str, Any], run_dir: Path | None
) -> list[dict[str, Any]]:
    """The story of each run of ``summary["results"]``, in their order, read from
    its trace under ``run_dir``; a run whose trace cannot be read gets a story
    that says why (the report is still written)."""
    return [read_story(record, run_dir) for record in summary.get("results") or ()]


def read_story(record: Mapping[str, Any], run_dir: Path | None) -> dict[str, Any]:
    """One run's story from its record and the trace the record names."""
    name = record.get("trace")
    if not name:
        return _story_without_trace(record, "the run wrote no trace")
    if run_dir is None:
        return _story_without_trace(record, f"trace {name} was not read")
    path = run_dir / str(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return _story_without_trace(record, f"cannot read trace {name}: {err}")
    try:
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as err:
        return _story_without_trace(record, f"trace {name} is not JSON lines: {err}")
    if not lines or not isinstance(lines[0], dict) or lines[0].get("type") != "header":
        # a canary stream's report, say: its own section shows it
        return _story_without_trace(record, f"{name} is not a run's trace")
    told = story(lines, record)
    told["replay"] = shlex.join(["aqe", "replay", str(path)])
    return told


def story(
    lines: Iterable[Mapping[str, Any]], record: Mapping[str, Any]
) -> dict[str, Any]:
    """The story of a run from its trace lines (as :func:`trace_lines` writes
    them, parsed) and its record. Values are the trace's own, never recomputed:
    the evidence texts are the oracles', the times the simulated clock's."""
    out = _story_without_trace(record, None)
    history: list[list[Any]] = []
    effects: list[dict[str, Any]] = []
    for line in lines:
        kind = line.get("type")
        if kind == "header":
            out["world_seed"] = line.get("world_seed")
            out["policy_pack"] = line.get("policy_pack")
            out["mode"] = line.get("mode", out["mode"])
        elif kind == "task":
            out["task"] = {
                "instructions": line.get("instructions"),
                "input": line.get("input") or {},
            }
        elif kind in ("invoke", "ok", "fail", "info"):
            history.append([line.get(f) for f in HISTORY_FIELDS])
        elif kind == "effect":
            effects.append({k: v for k, v in line.items() if k != "type"})
        elif kind == "fault":
            fault = {k: v for k, v in line.items() if k != "type"}
            fault["text"] = _coverage(fault)
            out["faults"].append(fault)
        elif kind == "score":
            out["scores"].append(_score(line))
        elif kind == "output":
            out["output"] = line.get("text")
        elif kind == "warning":
            out["warnings"].append({k: v for k, v in line.items() if k != "type"})
        elif kind == "warnings_dropped":
            out["warnings_dropped"] = line.get("count")
        elif kind == "model":
            out["model"] = {k: v for k, v in line.items() if k != "type"}
        elif kind == "verdict":
            out["verdict"] = {k: v for k, v in line.items() if k != "type"}
    for effect in effects:
        effect["at"] = _position(effect, history)
    if len(_CANONICAL.encode(history)) >= SHARING_CHARS:
        out["history"], out["shared"] = shared_values(history)
    else:  # a few tool calls: too little repeats to be worth the time
        out["history"], out["shared"] = history, []
    out["effects"] = effects
    out["missing"] = None
    return out


def _story_without_trace(record: Mapping[str, Any], why: str | None) -> dict[str, Any]:
    """What the record alone tells of a run (``missing``: why there is no more)."""
    return {
        "v": STORY_VERSION,
        "scenario": record.get("scenario"),
        "path": record.get("path"),
        "agent": record.get("agent"),
        "seed": record.get("seed"),
        "seed_index": record.get("seed_index"),
        "mode": record.get("mode", "sim"),
        "passed": bool(record.get("passed")),
        "failed": list(record.get("failed") or ()),
        "trace": record.get("trace"),
        "replay": None,
        "task": None,
        "history": [],
        "effects": [],
        "faults": [],
        "scores": [],
        "warnings": [],
        "missing": why,
    }


def _coverage(fault: Mapping[str, Any]) -> str | None:
    """The terminal's words for a fault's coverage (None for a kind this
    version does not know: the page then shows the counts)."""
    try:
        return coverage_text(fault)
    except (KeyError, ValueError):
        return None


def _score(line: Mapping[str, Any]) -> dict[str, Any]:
    """A score as the story keeps it: a passing oracle's details are left out
    (its explanation says what it saw), a failing one's kept."""
    keep = ("oracle", "passed", "value", "severity", "explanation", "evidence")
    score = {k: line.get(k) for k in keep}
    if not line.get("passed") and line.get("details"):
        score["details"] = line["details"]
    return score


def _position(effect: Mapping[str, Any], history: Sequence[Sequence[Any]]) -> int:
    """Where an effect goes in the timeline: before the first history entry that
    reports committing it or comes later in simulated time (after everything
    else, when none does)."""
    seq, time = effect.get("seq"), effect.get("time") or 0.0
    for position, (_, at, _, _, _, _, value) in enumerate(history):
        committed = value.get("committed") if isinstance(value, Mapping) else None
        if (at or 0.0) > time or (committed and seq in committed):
            return position
    return len(history)


def shared_values(value: Any) -> tuple[Any, list[Any]]:
    """``value`` with each object or list it holds more than once (of at least
    :data:`SHARED_CHARS` as JSON) replaced by ``{REF: n}``, and the list of those
    values (each may refer to earlier ones). A model's requests repeat the whole
    conversation and the tool specs at every turn: stored once each, the story
    of an LLM run shrinks several times, and the page's script puts them back."""
    texts: dict[int, str] = {}
    counts: dict[str, int] = {}
    _measure(value, texts, counts)  # ids stay valid: ``value`` holds them all
    table: dict[str, int] = {}
    shared: list[Any] = []
    rebuilt = _rebuild(value, texts, counts, table, shared)
    return rebuilt, shared


def _measure(value: Any, texts: dict[int, str], counts: dict[str, int]) -> None:
    """Note the canonical JSON of ``value`` and of what it holds, where long
    enough (what a repeated value holds is counted once: it goes with it)."""
    if not isinstance(value, dict | list):
        return
    text = _CANONICAL.encode(value)
    if len(text) < SHARED_CHARS:
        return  # nor is anything inside it
    texts[id(value)] = text
    counts[text] = counts.get(text, 0) + 1
    if counts[text] == 1:
        for inner in value.values() if isinstance(value, dict) else value:
            _measure(inner, texts, counts)


def _rebuild(
    value: Any,
    texts: Mapping[int, str],
    counts: Mapping[str, int],
    table: dict[str, int],
    shared: list[Any],
) -> Any:
    if not isinstance(value, dict | list):
        return value
    text = texts.get(id(value))
    if text is None:
        return value  # short: nothing inside it is shared
    if text in table:
        return {REF: table[text]}
    new: Any
    if isinstance(value, dict):
        new = {k: _rebuild(v, texts, counts, table, shared) for k, v in value.items()}
    else:
        new = [_rebuild(v, texts, counts, table, shared) for v in value]
    if counts[text] < 2:
        return new
    table[text] = len(shared)
    shared.append(new)
    return {REF: table[text]}


def story_json(data: Mapping[str, Any]) -> str:
    """``data`` as JSON text that is safe inside a ``<script>`` element."""
    return _JSON.encode(data).translate(_UNSAFE)


def run_anchor(index: int) -> str:
    """The page's id of the run at ``index`` of ``summary["results"]``."""
    return f"run-{index}"


def run_index(summary: Mapping[str, Any]) -> dict[tuple[str, int, Any], int]:
    """Where each run is in ``summary["results"]``, by nodeid, seed index and
    seed (what a failed run of the report's other sections names)."""
    return {
        (str(r.get("nodeid") or r.get("scenario")), int(r.get("seed_index") or 0),
         r.get("seed")): i
        for i, r in enumerate(summary.get("results") or ())
    }  # fmt: skip


def render_runs(
    summary: Mapping[str, Any], stories: Sequence[Mapping[str, Any]] | None
) -> str:
    """The ``Runs`` section: a row per run (filterable), each opening to its story
    (embedded as JSON, rendered by the page's script on open)."""
    records = list(summary.get("results") or ())
    heading = '<h2 id="runs-h">Runs</h2>\n'
    if not records:
        return (
            f'<section id="runs" aria-labelledby="runs-h">{heading}'
            '<p class="note">No run to show.</p></section>'
        )
    failing = sum(1 for r in records if not r.get("passed", True))
    rows = "".join(_run_row(i, r) for i, r in enumerate(records))
    blobs = ""
    if stories is not None:
        blobs = "".join(
            f'<script type="application/json" id="{run_anchor(i)}-data">'
            f"{story_json(s)}</script>\n"
            for i, s in enumerate(stories)
        )
    note = (
        '<p class="note">Open a run for its story: the task, every tool call with '
        "what the agent saw and what really happened, the faults injected, policy "
        "decisions, the effects ledger with business keys, human steps and model "
        "calls, and each failing oracle's evidence linked to the timeline. Times "
        "are simulated, from the start of the run.</p>\n"
    )
    if stories is None:
        note += (
            '<p class="note">This report was written without the run folder\'s '
            "traces: runs open to their records only.</p>\n"
        )
    controls = (
        '<div class="controls"><label>Filter runs '
        '<input type="search" id="runs-filter" placeholder="scenario contains…">'
        '</label><label><input type="checkbox" id="runs-failing"> only failing'
        f'</label><span class="note"><span id="runs-shown">{len(records)}</span> '
        f"of {len(records)} runs shown; {failing} failed</span></div>\n"
    )
    head = (
        '<thead><tr><th scope="col">run</th><th scope="col">scenario</th>'
        '<th scope="col" class="num">seed</th><th scope="col">verdict</th>'
        '<th scope="col">failed oracles</th><th scope="col" class="num">tool calls'
        '</th><th scope="col" class="num">simulated</th></tr></thead>'
    )
    table = (
        f'<div class="scroll"><table id="runs-table">{head}<tbody>{rows}</tbody>'
        "</table></div>\n"
    )
    return (
        f'<section id="runs" aria-labelledby="runs-h">{heading}{note}{controls}'
        f"{table}{blobs}</section>"
    )


def _run_row(index: int, record: Mapping[str, Any]) -> str:
    anchor = run_anchor(index)
    passed = bool(record.get("passed", True))
    failed = ", ".join(str(o) for o in record.get("failed") or ()) or (
        "" if passed else "an error"
    )
    verdict = (
        '<span class="cell ok">pass</span>'
        if passed
        else '<span class="cell fail">FAIL</span>'
    )
    seed = record.get("seed")
    seconds = record.get("simulated_seconds")
    simulated = "" if not isinstance(seconds, int | float) else f"{seconds:g}s"
    return (
        f'<tr id="{anchor}" data-run="{index}" data-name="{_e(record.get("scenario"))}"'
        f' data-bad="{int(not passed)}"><td><button type="button" class="open-run" '
        f'aria-expanded="false" aria-controls="{anchor}-story">open</button></td>'
        f'<th scope="row"><code>{_e(record.get("scenario"))}</code>'
        f'{_mode(record)}</th><td class="num">[{_e(record.get("seed_index") or 0)}]'
        f" {_e(seed if seed is not None else '')}</td><td>{verdict}</td>"
        f'<td>{_e(failed)}</td><td class="num">{_e(record.get("tool_calls", ""))}'
        f'</td><td class="num">{_e(simulated)}</td></tr>'
    )


def _mode(record: Mapping[str, Any]) -> str:
    mode = record.get("mode") or "sim"
    return "" if mode == "sim" else f' <span class="note">({_e(mode)})</span>'


def _e(value: object) -> str:
    return escape(str(value), quote=True)
