"""A problem is always two lines, its ``file:line:col`` line and its fix line,
whatever the file's own names hold (found by tests/scenario/test_mutated_files.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
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


def test_a_placeholder_holding_a_line_break_or_a_lone_surrogate_is_escaped() -> None:
    text = (
        'name: x\nrationale: r\ntask: {instructions: "{a\\nb} {c\\ud800}", input: {}}\n'
    )

    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "x.yaml")

    assert caught.value.problems == (
        "x.yaml:3:22: task.instructions: placeholder {a\\nb} is not a key of"
        " task.input\n"
        "    fix: valid input keys: none",
        "x.yaml:3:22: task.instructions: placeholder {c\\ud800} is not a key of"
        " task.input\n"
        "    fix: valid input keys: none",
    )
    str(caught.value).encode("utf-8")  # printable on a UTF-8 terminal


def test_aqe_validate_prints_a_lone_surrogate_as_its_escape(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        'name: x\nrationale: r\ntask: {instructions: "{c\\ud800}", input: {}}\n'
    )

    assert main(["validate", str(path)]) == 1

    assert capfdbinary.readouterr().out.decode("utf-8") == (
        f"{path}:3:22: task.instructions: placeholder {{c\\ud800}} is not a key of"
        " task.input\n"
        "    fix: valid input keys: none\n"
        "1 file(s) checked, 1 invalid\n"
    )
