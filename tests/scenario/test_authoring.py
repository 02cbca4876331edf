"""Authoring scenarios: ``aqe new scenario``, ``aqe validate``, and mutated files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import ScenarioError, load_scenario, parse_scenario, run_scenario
from harness.agents.reference import careful_refund_agent
from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = sorted((ROOT / "scenarios" / "payments").glob("*.yaml"))


def test_a_new_scenario_loads_and_passes_with_the_careful_agent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "scenarios"

    assert main(["new", "scenario", "refund_twice", "--dir", str(directory)]) == 0

    path = directory / "refund_twice.yaml"
    assert capsys.readouterr().out == f"wrote {path}\n"
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    scenario = load_scenario(path)
    assert scenario.name == "refund_twice"
    assert run_scenario(scenario, careful_refund_agent).passed


def test_new_never_overwrites_and_checks_the_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["new", "scenario", "mine", "--dir", str(tmp_path)])
    (tmp_path / "mine.yaml").write_text("edited")

    assert main(["new", "scenario", "mine", "--dir", str(tmp_path)]) == 2
    assert main(["new", "scenario", "Bad Name", "--dir", str(tmp_path)]) == 2

    err = capsys.readouterr().err
    assert f"{tmp_path / 'mine.yaml'} already exists" in err
    assert "invalid scenario name 'Bad Name'" in err
    assert (tmp_path / "mine.yaml").read_text() == "edited"


def test_validate_checks_scenarios_and_packs_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = ROOT / "scenarios"
    bad = tmp_path / "scenarios" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text(
        "name: bad\nrationale: x\ntask: {instructions: go, input: {}}\nx: 1\n"
    )

    assert main(["validate", str(good)]) == 0
    out = capsys.readouterr().out
    assert "ok " + str(good / "policies" / "refund_agent.yaml") in out
    assert "0 invalid" in out

    assert main(["validate", str(good / "payments"), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:4:1: <root>: unknown key 'x'" in out
    assert out.endswith("6 file(s) checked, 1 invalid\n")

    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2


# -- mutated files never crash the loader ---------------------------------------------

_DOCS = [yaml.safe_load(p.read_text()) for p in LIBRARY]
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100_000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(
        ["", "x", "2h", "-1s", "$charge.id", "$nope.id", "after", "timeout", "{x}"]
    ),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.sampled_from(["a", "kind", "when"]), st.integers(), max_size=2),
)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A library scenario with a few values replaced, keys dropped or added."""
    doc = yaml.safe_load(yaml.safe_dump(draw(st.sampled_from(_DOCS))))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p]
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]  # type: ignore[index]
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "drop" and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "kind", "when", "seconds"]))] = draw(
                _VALUES
            )
        else:
            parent[path[-1]] = draw(_VALUES)  # type: ignore[index]
    text = yaml.safe_dump(doc, sort_keys=False)
    if draw(st.booleans()):  # and sometimes broken YAML
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(["", ":", "\t", "[", "  - {"]))
    return text


#: The mutated scenarios of a default run; the slow CI job (``AQE_SLOW=1``) runs
#: the full 1,000 (``AQE_SLOW=1 pytest --hypothesis-profile=ci
#: tests/scenario/test_authoring.py``).
EXAMPLES = 1000 if os.environ.get("AQE_SLOW") == "1" else 200


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_a_mutated_scenario_is_accepted_or_gets_a_clean_error(text: str) -> None:
    problems: tuple[str, ...] = ()
    try:
        parse_scenario(text, "mutated.yaml")
    except ScenarioError as err:  # any other exception fails the test
        problems = err.problems or ("<no problems listed>",)
    for problem in problems:
        assert problem.startswith("mutated.yaml"), problem
        assert "\n    fix: " in problem, problem
        assert "Traceback" not in problem
