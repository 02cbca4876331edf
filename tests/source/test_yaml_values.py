"""Text YAML cannot hold and values PyYAML cannot build are one error each, at
their line and column, naming the file: never a traceback (found by
tests/scenario/test_mutated_files.py)."""

from __future__ import annotations

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import parse_scenario

HEAD = "name: x\nrationale: r\n"


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "x.yaml")
    return list(caught.value.problems)


def test_a_control_character_is_an_error_at_its_line_and_column() -> None:
    assert problems(HEAD + "task: a\x07b\n") == [
        "x.yaml:3:8: invalid YAML: the special character U+0007 is not allowed\n"
        '    fix: delete it, or write it as "\\x07" in a double-quoted string'
    ]


def test_a_special_character_is_placed_counting_line_breaks_as_yaml_does() -> None:
    # \r\n is one break, and YAML reads NEL (U+0085) as a line break too
    text = "name: x\r\nrationale: r\x85task: \ud7ff\x86\n"

    assert problems(text) == [
        "x.yaml:3:8: invalid YAML: the special character U+0086 is not allowed\n"
        '    fix: delete it, or write it as "\\x86" in a double-quoted string'
    ]


def test_a_character_past_ff_is_written_as_a_u_escape() -> None:
    assert problems(HEAD + "task: \ufffe\n") == [
        "x.yaml:3:7: invalid YAML: the special character U+FFFE is not allowed\n"
        '    fix: delete it, or write it as "\\ufffe" in a double-quoted string'
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-02-30", "day is out of range for month"),
        ("0000-01-01", "year 0 is out of range"),
        ("!!timestamp nonsense", "not a valid !!timestamp"),
        ("!!int abc", "invalid literal for int() with base 10: 'abc'"),
        ("!!binary zz", "failed to decode base64 data: Incorrect padding"),
    ],
)
def test_a_value_pyyaml_cannot_build_is_an_error_naming_its_key(
    value: str, reason: str
) -> None:
    shown = repr(value.split()[-1])

    found = problems(HEAD + f"seeds: {value}\ntask: {{}}\n")

    assert found[0] == (
        f"x.yaml:3:8: seeds: cannot read value {shown} ({reason})\n"
        "    fix: remove the tag or quote the value"
    )


def test_an_unknown_tag_names_the_tag_without_pyyaml_marks() -> None:
    found = problems(HEAD + "seeds: !!binar\ntask: {}\n")

    assert found[0] == (
        "x.yaml:3:8: seeds: cannot read value '' (could not determine a constructor"
        " for the tag 'tag:yaml.org,2002:binar')\n"
        "    fix: remove the tag or quote the value"
    )
