"""A pack's model budgets (``model_tokens``, ``model_cost``): read from the file,
and every mistake in them named by file:line with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import ScenarioError
from harness.policy.loader import load_pack


def test_a_pack_reads_its_model_budgets(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(
        "name: llm-agent\nbudgets: {model_tokens: 50000, model_cost: 0.25}\n"
    )

    budgets = load_pack(path).budgets

    assert (budgets.model_tokens, budgets.model_cost) == (50000, 0.25)
    assert budgets.any


def test_bad_model_budgets_name_file_line_what_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nbudgets:\n  model_tokens: 0\n  model_cost: lots\n  model_cots: 1\n"
    )

    with pytest.raises(ScenarioError) as caught:
        load_pack(path)

    assert caught.value.problems == (
        f"{path}:3:17: budgets.model_tokens: must be at least 1, got 0\n"
        "    fix: the most model tokens (in + out) the run's model calls may use,"
        " e.g. 50000",
        f"{path}:4:15: budgets.model_cost: expected number, got string ('lots')\n"
        "    fix: write a number: the most USD the run's model calls may cost, e.g."
        " 0.25, at the prices of harness/models/prices.json (a call to a model it"
        " does not list fails the budget)",
        f"{path}:5:3: budgets: unknown key 'model_cots'\n"
        "    fix: did you mean 'model_cost'? valid keys: cost, duration, model_cost,"
        " model_tokens, retries, tool_calls",
    )
