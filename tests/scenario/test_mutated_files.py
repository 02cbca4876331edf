"""Mutated scenario and policy pack files: ``aqe validate`` reads each one to an
``ok`` or to errors that name the file, never a traceback and never a hang.

The library's own files are mutated at the text level (lines deleted, duplicated,
swapped, re-indented, tabs, truncation, bad bytes, YAML syntax dropped in) and at
the YAML level (values of other types, huge numbers, long strings, deep nesting,
unknown and misspelt keys, aliases and alias bombs, wrong enum values, references
to missing records, parts of other files). The test runs 200 mutations by default;
``AQE_SLOW=1`` runs the issue's full 10,000, as the slow CI job does
(``AQE_SLOW=1 pytest --hypothesis-profile=ci tests/scenario/test_mutated_files.py``,
in four shards of the files that pytest-xdist's workers share). The mutations are
derandomized: every run tries the same ones.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import io
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from harness.cli import main
from tests.conftest import ROOT

#: The issue's full count runs only when asked (the slow CI job).
EXAMPLES = 10_000 if os.environ.get("AQE_SLOW") == "1" else 200
#: The examples are split over shards (each its own files), so pytest-xdist's
#: workers share the sweep.
SHARDS = 4

LIBRARY = ROOT / "scenarios"
#: Every part a scenario may have (the library uses some of them nowhere).
KITCHEN_SINK = """\
name: kitchen_sink
rationale: Every part a scenario may have, for the mutation test to break.
tags: [payments, sink]
severity: {default: block, budget: warn, trajectory: warn}
seeds: 3
thresholds: {pass_rate: 0.6, pass_hat_k: {k: 2, min: 0.5}}
mode: shadow
task:
  instructions: Refund {amount} {currency} on charge {charge} for ticket {ticket_id}.
  input: {ticket_id: $ticket.id, charge: $charge.id, amount: 1200, currency: usd}
world:
  seed: 11
  scale: small
  records:
    charge: {service: payments, kind: charge, amount: 5000, currency: usd, status: succeeded}
    ticket: {service: tickets, kind: ticket, subject: "Charged twice", charge: $charge.id}
policy:
  name: inline-pack
  mode: enforce
  identity: {agent: sink-bot, owner: qa, scope: tests}
  permissions:
    payments: {charges: [read], refunds: [read, refund]}
    tickets: [read, comment, update]
  approvals:
    - {action: payments.refund, when: "amount > 50000"}
  stop: [conflicting_records, missing_data]
  budgets: {tool_calls: 40, retries: 4, duration: 30h}
  data:
    - {name: card-numbers, detect: card_number}
humans:
  approver: {decision: approve, after: 2h}
faults:
  - id: slow
    match: {service: payments, method: GET, path: "/v1/charges/{id}", params: {id: $charge.id}}
    when: {after_call: 1, from: 10m, until: 2h, probability: 0.5}
    kind: latency
    seconds: 2s
  - id: lost-response
    match: {tool: create_refund}
    when: {call: 1}
    kind: timeout
    commit: after
    after: 30s
canary:
  vary:
    input.amount: {min: 100, max: 2000}
    records.charge.amount: {choices: [5000, 9000]}
shadow:
  reference:
    outcome: done
    escalation: none
    actions:
      - {operation: create_refund, key: "refund:$charge.id"}
expect:
  idempotency:
    - {key: "refund:$charge.id", max_effects: 1, min_effects: 1}
  escalation: {rule: forbidden}
  outcome:
    - {service: payments, count: refunds, where: {charge: $charge.id, amount: 1200}, equals: 1}
    - {service: tickets, record: tickets, id: $ticket.id, field: status, at_least: 0}
  trajectory:
    uses: [retrieve_charge, create_refund]
    avoids: [void_invoice]
    order: [retrieve_charge, create_refund]
    args: {create_refund: {charge: $charge.id}}
  changes: [payments.refunds, tickets.comments]
"""
_TEXTS = {
    **{
        path.relative_to(LIBRARY): path.read_text(encoding="utf-8")
        for path in sorted(LIBRARY.rglob("*.yaml"))
    },
    Path("payments", "kitchen_sink.yaml"): KITCHEN_SINK,
}
ORIGINALS = tuple(sorted(_TEXTS))
Draw = Callable[[st.SearchStrategy[Any]], Any]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml, when built
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_DATA = {path: yaml.load(text, Loader=_LOADER) for path, text in _TEXTS.items()}


def _strings(value: Any) -> Iterator[str]:
    """Every key and string value in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


#: The library's own words: kinds, services, verbs, record names, keys.
_WORDS = tuple(sorted({s for data in _DATA.values() for s in _strings(data)}))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path in ``value`` below the document itself, down to 12 levels (a
    mutated file may nest deeper, or hold itself through an alias)."""
    children: Any = ()
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    for key, child in children:
        yield (*prefix, key)
        if len(prefix) < 11:
            yield from _paths(child, (*prefix, key))


# -- raw YAML dropped into a dumped document ----------------------------------------


def _bomb(levels: int) -> str:
    """A flow list of ``10 ** levels`` values once its aliases are expanded."""
    parts = ["&a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        parts.append(f"&a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "[" + ", ".join(parts) + "]"


#: YAML text no Python value dumps to: put in place of a placeholder string.
RAW = (
    "[" * 70 + "]" * 70,
    "[" * 2000 + "]" * 2000,
    "{a: " * 70 + "1" + "}" * 70,
    _bomb(4),
    _bomb(6),
    "&self [*self]",
    "*undefined",
    "!!python/object/apply:os.system [echo]",
    "!!binary zz",
    "!!timestamp nonsense",
    "!!int abc",
    "!!float abc",
    "!!set {a, b}",
    "!!omap [a: 1, b: 2]",
    "!!map [1, 2]",
    "!unknown tag",
    "2026-02-30",
    "2026-01-01T10:00:00Z",
    "1:30",
    "0x1F",
    "0o17",
    "1_000",
    "1e400",
    "-.inf",
    ".nan",
    "9" * 5000,
    "0." + "1" * 200,
    '"\\ud800"',
    '"{x\\ud800}"',
    '"{a\\nb} {c\\u2028d}"',
    '"\\0\\x07\\x1b"',
    '"\\U0010FFFF"',
    "yes",
    "~",
    "{<<: {a: 1}}",
    "[a, {b: [c, {d: e}]}]",
    "|\n  block\n  text",
    "? [complex, key]\n: value",
)


# -- values put in place of others --------------------------------------------------


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


_REFERENCES = (
    "$missing.id",
    "$charge.nope",
    "$charge",
    "$",
    "$$",
    "$ticket.id.extra",
    "${ticket}",
    "{missing}",
    "refund:$missing.id",
    "$charge.id $ticket.id",
)
#: Files a ``policy:`` may name instead of a pack.
_FILES = (
    "../payments/refund_ok.yaml",
    "refund_ok.yaml",
    "../policies",
    "../policies/refund_agent.yml",
    "/dev/null",
    "x" * 300 + ".yaml",
    "../../README.md",
    "",
    ".",
)
_DURATIONS = ("30", "30x", "-5s", "1e9h", "99999999999999999999d", "0s", "PT1H", "1.5m")
_SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, -1, 1, 2**31, 2**63, -(2**63), 10**30, 10**150]),
    st.sampled_from([0.5, -0.0, 1e308, float("inf"), float("-inf"), float("nan")]),
    st.sampled_from(["", " ", "\t", "ü", "\u202e", "\ufeff", "😀", "a\nb", "\x00"]),
    st.sampled_from([1000, 100_000]).map(lambda n: "x" * n),
    st.text(max_size=12),
    st.sampled_from(_WORDS),
    st.sampled_from(_REFERENCES),
    st.sampled_from(_FILES),
    st.sampled_from(_DURATIONS),
    st.just(datetime.date(2026, 1, 1)),
    st.just(datetime.datetime(2026, 1, 1, 10, 0, tzinfo=datetime.UTC)),
    st.just(b"\x00\xff"),
    st.sampled_from(range(len(RAW))).map(lambda i: f"__RAW_{i}__"),
)
_VALUES: st.SearchStrategy[Any] = st.one_of(
    _SCALARS,
    st.sampled_from([[], {}, [1, 2], {"a": 1}, [{}], [[]]]).map(copy.deepcopy),
    st.sampled_from([70, 300]).map(_deep),
    st.recursive(
        _SCALARS,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(_WORDS) | st.text(max_size=4), inner, max_size=3
            )
        ),
        max_leaves=5,
    ),
)


def _subtree(draw: Draw) -> Any:
    """A part of another file (records of another domain, a pack's rules)."""
    other = _DATA[draw(st.sampled_from(ORIGINALS))]
    paths = list(_paths(other))
    if not paths:
        return copy.deepcopy(other)
    value = other
    for key in draw(st.sampled_from(paths)):
        value = value[key]
    return copy.deepcopy(value)


# -- YAML-level mutations ------------------------------------------------------------


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _mutate_data(draw: Draw, data: Any) -> Any:
    """``data`` (a parsed file) changed one way; the caller dumps it back."""
    paths = list(_paths(data))
    how = draw(
        st.sampled_from(
            [
                "replace",
                "replace",
                "replace",
                "delete",
                "unknown_key",
                "rename_key",
                "swap",
                "share",
                "wrap",
                "unwrap",
                "duplicate_item",
                "subtree",
                "policy",
                "document",
            ]
        )
    )
    if how == "document" or not paths:
        return _subtree(draw) if draw(st.booleans()) else draw(_VALUES)
    event(f"yaml: {how}")
    if how == "policy" and isinstance(data, dict):  # a pack file that is not one
        data["policy"] = draw(st.sampled_from(_FILES))
        return data
    path = draw(st.sampled_from(paths))
    parent, key = _at(data, path[:-1]), path[-1]
    if how == "replace":
        parent[key] = draw(_VALUES)
    elif how == "subtree":
        parent[key] = _subtree(draw)
    elif how == "delete":
        del parent[key]
    elif how in ("unknown_key", "rename_key"):
        target = parent if isinstance(parent, dict) else _at(data, path)
        if not isinstance(target, dict) or not target:
            return data
        name = draw(st.sampled_from(_WORDS) | st.text(min_size=1, max_size=8))
        if how == "rename_key":
            old = draw(st.sampled_from(sorted(target, key=str)))
            typo = draw(st.sampled_from(["drop", "double", "word", "case"]))
            text = str(old)
            name = {
                "drop": text[1:],
                "double": text + text[-1:],
                "word": name,
                "case": text.upper(),
            }[typo]
            target[name] = target.pop(old)
        else:
            target[name] = draw(_VALUES)
    elif how in ("swap", "share"):
        other = draw(st.sampled_from(paths))
        if other[: len(path)] == path or path[: len(other)] == other:
            return data  # one holds the other
        other_parent, other_key = _at(data, other[:-1]), other[-1]
        if how == "swap":
            parent[key], other_parent[other_key] = other_parent[other_key], parent[key]
        else:  # the same object twice: dumped as an anchor and an alias
            parent[key] = other_parent[other_key]
    elif how == "wrap":
        parent[key] = [parent[key]] if draw(st.booleans()) else {"value": parent[key]}
    elif how == "unwrap":
        value = parent[key]
        if isinstance(value, list) and value:
            parent[key] = value[0]
        elif isinstance(value, dict) and value:
            parent[key] = list(value.values())
    elif how == "duplicate_item":
        value = parent[key]
        if isinstance(value, list) and value:
            value.append(copy.deepcopy(draw(st.sampled_from(value))))
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(value))
    return data


def _dump(draw: Draw, data: Any) -> str:
    try:
        text = yaml.dump(
            data,
            Dumper=_DUMPER,
            sort_keys=False,
            allow_unicode=draw(st.booleans()),
            default_flow_style=draw(st.sampled_from([False, None, True])),
            width=draw(st.sampled_from([80, 10_000])),
        )
    except (yaml.YAMLError, RecursionError, ValueError, UnicodeError):
        return str(data)
    for index, raw in enumerate(RAW):
        text = text.replace(f"__RAW_{index}__", raw)
    return text


# -- text-level mutations ------------------------------------------------------------

_SNIPPETS = (
    "---\n",
    "...\n",
    "&a ",
    "*a",
    "*a ",
    "<<: *a\n",
    "!!python/name:os.system ",
    "!!binary ",
    "? ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "|",
    ">-",
    "'",
    '"',
    "#",
    ": ",
    ":",
    ",",
    "\t",
    "\ufeff",
    "\x85",
    "\u2028",
    "\x07",
    "\x00",
    "\r",
    "\\",
    "\n  ",
    "@",
    "`",
    "&" + "a" * 200 + " ",
)


def _mutate_text(draw: Draw, text: str) -> str:
    lines = text.split("\n")
    how = draw(
        st.sampled_from(
            [
                "delete_line",
                "duplicate_line",
                "swap_lines",
                "move_line",
                "indent",
                "tab",
                "snippet",
                "snippet",
                "char",
                "truncate",
                "join_lines",
                "comment",
                "crlf",
                "cr",
                "other_file",
                "empty",
            ]
        )
    )
    event(f"text: {how}")
    index = draw(st.integers(0, len(lines) - 1))
    line = lines[index]
    if how == "delete_line":
        del lines[index]
    elif how == "duplicate_line":
        lines.insert(index, line)
    elif how in ("swap_lines", "move_line"):
        other = draw(st.integers(0, len(lines) - 1))
        if how == "swap_lines":
            lines[index], lines[other] = lines[other], line
        else:
            lines.insert(other, lines.pop(index))
    elif how == "indent":
        shift = draw(st.sampled_from([-4, -2, -1, 1, 2, 4]))
        lines[index] = " " * shift + line if shift > 0 else line[-shift:]
    elif how == "tab":
        stripped = line.lstrip(" ")
        lines[index] = "\t" * draw(st.integers(1, 2)) + stripped
    elif how in ("snippet", "char"):
        at = draw(st.integers(0, len(text)))
        new = draw(st.sampled_from(_SNIPPETS) if how == "snippet" else st.characters())
        return text[:at] + new + text[at:]
    elif how == "truncate":
        return text[: draw(st.integers(0, max(len(text) - 1, 0)))]
    elif how == "join_lines" and index + 1 < len(lines):
        lines[index : index + 2] = [line + lines[index + 1]]
    elif how == "comment":
        lines[index] = "# " + line
    elif how == "crlf":
        return text.replace("\n", "\r\n")
    elif how == "cr":
        return text.replace("\n", "\r")
    elif how == "other_file":  # a pack where a scenario belongs, and the reverse
        return _TEXTS[draw(st.sampled_from(ORIGINALS))]
    elif how == "empty":
        return draw(st.sampled_from(["", "\n", "# only a comment\n", "   ", "null"]))
    return "\n".join(lines)


def _mutate_bytes(draw: Draw, data: bytes) -> bytes:
    how = draw(st.sampled_from(["invalid", "truncate", "utf16", "latin1", "bom"]))
    event(f"bytes: {how}")
    if how == "invalid":
        at = draw(st.integers(0, len(data)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80"]))
        return data[:at] + bad + data[at:]
    if how == "truncate":  # possibly inside a multi-byte character
        return data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    text = data.decode("utf-8", errors="replace")
    if how == "utf16":
        return text.encode("utf-16")
    if how == "latin1":
        return text.encode("latin-1", errors="replace")
    return b"\xef\xbb\xbf" + data


def mutate(draw: Draw, original: Path) -> bytes:
    """The library file ``original`` mutated one to three times."""
    text = _TEXTS[original]
    data: Any = None
    for step in range(draw(st.integers(1, 3))):
        level = draw(st.sampled_from(["yaml", "yaml", "text"]))
        if level == "yaml":
            if step == 0:
                data = copy.deepcopy(_DATA[original])
            else:
                try:
                    data = yaml.load(text, Loader=_LOADER)
                except Exception:  # PyYAML fails in many ways on broken text
                    level = "text"
        if level == "yaml":
            text = _dump(draw, _mutate_data(draw, data))
        else:
            text = _mutate_text(draw, text)
    raw = text.encode("utf-8", errors="surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        raw = _mutate_bytes(draw, raw)
    return raw


# -- the test ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Validated:
    code: int
    out: str
    took: float


def validate(path: Path) -> Validated:
    """``aqe validate PATH``: its exit code, its output and how long it took."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")  # as a terminal's
    started = time.monotonic()
    with contextlib.redirect_stdout(out):
        code = main(["validate", str(path)])
    took = time.monotonic() - started
    out.flush()
    return Validated(code=code, out=raw.getvalue().decode("utf-8"), took=took)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the library: a mutated file sits beside the files it names."""
    root = tmp_path_factory.mktemp("library") / "scenarios"
    shutil.copytree(LIBRARY, root)
    return root


@settings(
    max_examples=EXAMPLES // SHARDS,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@pytest.mark.parametrize("shard", range(SHARDS))
@given(data=st.data())
def test_a_mutated_scenario_or_pack_file_validates_or_names_itself(
    library: Path, shard: int, data: st.DataObject
) -> None:
    original = data.draw(st.sampled_from(ORIGINALS[shard::SHARDS]), label="original")
    path = library / original.parent / f"mutant{original.suffix}"
    path.write_bytes(mutate(data.draw, original))
    result = validate(path)
    event(f"exit {result.code}")
    assert result.took < 10, f"aqe validate took {result.took:.1f} s"
    if result.code == 0:
        assert result.out == f"ok {path}\n1 file(s) checked, 0 invalid\n"
    else:
        assert result.code == 1, result
        assert_each_problem_names_its_file(result.out, path)


#: The line a scenario's problems start with when the pack file it names is bad.
_BAD_PACK = re.compile(
    r": policy: the policy pack file (.+) has \d+ problems? \(below\)$"
)


def assert_each_problem_names_its_file(out: str, path: Path) -> None:
    """``file:line:col: path: what`` lines, each followed by its fix line."""
    *lines, summary, end = out.split("\n")
    assert (summary, end) == ("1 file(s) checked, 1 invalid", ""), out
    assert lines, out
    files = [f"{path}:"]
    if bad_pack := _BAD_PACK.search(lines[0]):
        files.append(f"{bad_pack[1]}:")
    for index, line in enumerate(lines):
        if index % 2:
            assert line.startswith("    fix: "), out
        else:
            assert line.startswith(tuple(files)), out
    assert len(lines) % 2 == 0, out
    assert "Traceback" not in out


def test_the_kitchen_sink_scenario_is_valid(library: Path) -> None:
    path = library / "payments" / "kitchen_sink.yaml"
    path.write_text(KITCHEN_SINK, encoding="utf-8")

    assert validate(path).out == f"ok {path}\n1 file(s) checked, 0 invalid\n"
