"""A hostile or broken file is one clear error at a line and column: nesting too
deep, aliases that expand past a limit, numbers too long to read."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.policy.loader import load_pack
from harness.scenario.loader import parse_scenario
from harness.source.yamlpos import MAX_DEPTH

HEAD = "name: x\nrationale: r\n"


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "x.yaml")
    return list(caught.value.problems)


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 2000])
def test_lists_nested_too_deep_are_an_error_at_the_first_level_too_many(
    levels: int,
) -> None:
    text = HEAD + "task: " + "[" * levels + "]" * levels + "\n"

    (problem,) = problems(text)

    column = len("task: ") + MAX_DEPTH + 1  # the first bracket past the limit
    assert problem == (
        f"x.yaml:3:{column}: lists and mappings nest deeper than {MAX_DEPTH} levels\n"
        "    fix: flatten the structure; no scenario or pack needs this depth"
    )


def test_a_hundred_thousand_open_lists_are_refused_at_the_first_too_deep() -> None:
    # PyYAML slows down with every open flow list: reading stops at the first
    # list past the limit (the file, broken at its end, is not read that far)
    text = HEAD + "task: " + "[" * 100_000 + "\n"
    started = time.monotonic()

    (problem,) = problems(text)

    # reading all of them is quadratic (minutes); a busy machine takes seconds
    assert time.monotonic() - started < 60
    column = len("task: ") + MAX_DEPTH + 1
    assert problem.startswith(f"x.yaml:3:{column}: lists and mappings nest deeper")


def test_mappings_nested_too_deep_are_an_error_not_a_recursion_crash() -> None:
    text = "name: x\nrationale:" + "".join(
        "\n" + "  " * i + f"k{i}:" for i in range(1, 1200)
    )

    (problem,) = problems(text + " 1\n")

    assert problem.startswith("x.yaml:")
    assert f"nest deeper than {MAX_DEPTH} levels" in problem


def test_the_depth_a_scenario_may_use_loads() -> None:
    text = HEAD + "tags: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"

    assert not any("nest deeper" in p for p in problems(text))


def test_a_billion_laughs_file_is_refused_quickly() -> None:
    rows = ["a: &a [x,x,x,x,x,x,x,x,x,x]"]
    for prev, name in zip("abcdef", "bcdefg", strict=True):
        rows.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 10)}]")
    tracemalloc.start()
    try:
        (problem,) = problems("\n".join(rows) + "\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # refused before the 10 million values are built (they would take gigabytes)
    assert peak < 64 * 2**20
    assert problem.startswith("x.yaml:1:")
    assert "holds more than 100,000 values once its aliases are expanded" in problem
    assert problem.endswith(
        "    fix: write the values out instead of repeating aliases (*name) of aliases"
    )


def test_a_number_too_long_to_read_is_an_error_naming_its_key() -> None:
    found = problems(HEAD + "seeds: " + "9" * 5000 + "\n")

    assert (
        "x.yaml:3:8: seeds: a number of 5,000 digits\n"
        "    fix: write at most 100 digits, or quote it to make it text"
    ) in found


def test_a_policy_pack_gets_the_same_limits(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text("name: p\nrules: " + "[" * 100 + "]" * 100 + "\n")

    with pytest.raises(ScenarioError) as caught:
        load_pack(pack)

    assert f"{pack}:2:" in str(caught.value)
    assert "nest deeper than 64 levels" in str(caught.value)
