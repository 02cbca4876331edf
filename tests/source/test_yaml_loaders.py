"""Reading with libyaml's parser first gives what the pure-Python parser alone
gives: the same values, positions and problems, and for a text libyaml rejects
(or reads otherwise) the pure parser's syntax error, the message tests spell out."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.source import yamlpos
from harness.source.yamlpos import YamlDocument, YamlSyntaxError, read_yaml
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    yamlpos._CEventLoader is None, reason="PyYAML is built without libyaml"
)

LIBRARY = sorted((ROOT / "scenarios").rglob("*.yaml"))
#: Characters that break YAML in interesting ways when dropped into a file.
BREAKERS = [
    ":",
    ": ",
    "-",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    '"',
    "#",
    "&a",
    "*a",
    "!",
    "!!int ",
    "|",
    ">",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "  ",
    "\x07",
    "\u2028",
    "\x85",
    "\ufeff",
    "é",
    "\\",
    "%",
    "@",
    "`",
    "---\n",
    "...\n",
    "? ",
]


def _read(text: str, loader: type) -> YamlDocument | str:
    try:
        return yamlpos._document(yamlpos._compose(text, (loader,)))
    except YamlSyntaxError as err:
        return f"error: {err.problem}"


def _same_reading(text: str) -> None:
    assert _read_yaml(text) == _read(text, yamlpos._DepthLimitedLoader)


def _read_yaml(text: str) -> YamlDocument | str:
    try:
        return read_yaml(text)
    except YamlSyntaxError as err:
        return f"error: {err.problem}"


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_the_two_parsers_read_every_library_file_alike(path: Path) -> None:
    _same_reading(path.read_text(encoding="utf-8"))


@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(
    index=st.integers(0, len(LIBRARY) - 1),
    at=st.floats(0, 1),
    breaker=st.sampled_from(BREAKERS),
    cut=st.integers(0, 3),
)
def test_the_two_parsers_agree_on_a_broken_file(
    index: int, at: float, breaker: str, cut: int
) -> None:
    text = LIBRARY[index].read_text(encoding="utf-8")
    where = int(at * len(text))

    _same_reading(text[:where] + breaker + text[where + cut :])
