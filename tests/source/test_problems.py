"""A problem is always two lines, its ``file:line:col`` line and its fix line,
whatever the file's own names hold (found by tests/scenario/test_mutated_files.py)."""

from __future__ import annotations

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import parse_scenario
from harness.source.problems import choices_fix


def test_choices_holding_line_breaks_are_listed_as_quoted_text() -> None:
    text = (
        "name: x\nrationale: r\n"
        'task: {instructions: "{charge}", input: {"a\\nb": 1, "c\\u2028d": 2, e: 3}}\n'
    )

    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "x.yaml")

    assert caught.value.problems == (
        "x.yaml:3:22: task.instructions: placeholder {charge} is not a key of"
        " task.input\n"
        "    fix: valid input keys: 'a\\nb', 'c\\u2028d', e",
    )


def test_printable_choices_are_listed_as_they_are() -> None:
    assert choices_fix("timout", ["timeout", "two words", "ü"], "kinds") == (
        "did you mean 'timeout'? valid kinds: timeout, two words, ü"
    )
