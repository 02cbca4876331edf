"""Scenarios written in Python, and assertions on their results.

A builder makes the same validated :class:`~harness.scenario.model.Scenario` a YAML
file does (errors name the JSON path), so a pytest test can run an agent and
assert on its scores::

    from harness.authoring import ScenarioBuilder, assert_oracle

    def test_refund_lands_once(aqe_run):
        scenario = (
            ScenarioBuilder("refund_lost_answer", "A lost answer must not repeat.")
            .task("Refund {amount} {currency} on {charge}", ticket_id="$ticket.id",
                  charge="$charge.id", amount=1200, currency="usd")
            .record("charge", "payments", "charge", amount=5000)
            .record("ticket", "tickets", "ticket", charge="$charge.id")
            .fault("timeout", commit="after", match={"tool": "create_refund"},
                   when={"call": 1})
            .expect(idempotency={"key": "refund:$charge.id", "max_effects": 1})
            .build()
        )
        result = aqe_run(scenario)          # the agent given by --aqe-agent
        assert_oracle(result, "idempotency", passed=True)

The ``aqe_run`` fixture runs a scenario (a :class:`Scenario`, a dict, or a file) with
the session's agent and seed, writes its trace and adds it to the session summary.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.scenario.loader import scenario_from_dict

if TYPE_CHECKING:
    from harness.run import RunResult
    from harness.scenario.model import Scenario


class ScenarioBuilder:
    """Builds a scenario step by step; :meth:`build` validates it."""

    def __init__(self, name: str, rationale: str) -> None:
        self._data: dict[str, Any] = {"name": name, "rationale": rationale}

    def task(self, instructions: str, **task_input: Any) -> ScenarioBuilder:
        self._data["task"] = {"instructions": instructions, "input": task_input}
        return self

    def record(
        self, name: str, service: str, kind: str, **fields: Any
    ) -> ScenarioBuilder:
        """A named record on top of the seeded world (``$name.id`` refers to it)."""
        world = self._data.setdefault("world", {})
        world.setdefault("records", {})[name] = {
            "service": service,
            "kind": kind,
            **fields,
        }
        return self

    def world(self, **options: Any) -> ScenarioBuilder:
        """World options: ``seed``, ``scale``."""
        self._data.setdefault("world", {}).update(options)
        return self

    def fault(
        self, kind: str, *, id: str | None = None, **spec: Any
    ) -> ScenarioBuilder:
        faults = self._data.setdefault("faults", [])
        faults.append({"id": id or f"{kind.replace('_', '-')}-{len(faults) + 1}",
                       "kind": kind, **spec})  # fmt: skip
        return self

    def policy(
        self, pack: str | dict[str, Any] | None = None, **parts: Any
    ) -> ScenarioBuilder:
        """A pack file path (relative to the working directory), or the pack's
        parts inline (``approvals=[...]``, ``mode="enforce"``, …)."""
        self._data["policy"] = pack if pack is not None else parts
        return self

    def humans(self, **humans: Any) -> ScenarioBuilder:
        """Scripted humans: ``approver={"decision": "approve", "after": "2h"}``."""
        self._data["humans"] = humans
        return self

    def expect(self, **expectations: Any) -> ScenarioBuilder:
        """Expectations per oracle: ``idempotency=``, ``escalation=``,
        ``outcome=[...]``, ``trajectory=``, ``changes=[...]``."""
        self._data.setdefault("expect", {}).update(expectations)
        return self

    def tags(self, *tags: str) -> ScenarioBuilder:
        self._data["tags"] = list(tags)
        return self

    def severity(self, level: str | dict[str, str]) -> ScenarioBuilder:
        self._data["severity"] = level
        return self

    def seeds(self, runs: int) -> ScenarioBuilder:
        """Runs per session, each with its own derived seed."""
        self._data["seeds"] = runs
        return self

    def thresholds(
        self,
        *,
        pass_rate: float | None = None,
        pass_hat_k: dict[str, Any] | None = None,
    ) -> ScenarioBuilder:
        """What the runs must reach together: ``pass_rate=0.8``,
        ``pass_hat_k={"k": 3, "min": 0.5}``."""
        given = {"pass_rate": pass_rate, "pass_hat_k": pass_hat_k}
        self._data["thresholds"] = {k: v for k, v in given.items() if v is not None}
        return self

    def to_dict(self) -> dict[str, Any]:
        """The scenario as a YAML file would hold it."""
        return copy.deepcopy(self._data)

    def build(self) -> Scenario:
        """The validated scenario (raises ScenarioError naming each problem)."""
        return scenario_from_dict(self.to_dict())


def as_scenario(
    spec: Scenario | ScenarioBuilder | dict[str, Any] | str | Path,
) -> Scenario:
    """A scenario from a Scenario, a builder, a dict as YAML would hold it, or a
    file path."""
    from harness.scenario.loader import load_scenario
    from harness.scenario.model import Scenario

    if isinstance(spec, Scenario):
        return spec
    if isinstance(spec, ScenarioBuilder):
        return spec.build()
    if isinstance(spec, dict):
        return scenario_from_dict(spec)
    return load_scenario(spec)


def assert_passed(result: RunResult) -> None:
    """Fail, with the evidence a scenario item shows, unless the run passed."""
    if not result.passed:
        raise AssertionError(_failure(result))


def assert_oracle(
    result: RunResult, oracle: str, *, passed: bool = True, says: str | None = None
) -> None:
    """The oracle's verdict is ``passed`` (and its explanation contains ``says``)."""
    score = result.score(oracle)
    said = result.world.secrets.redact(score.explanation)  # as the trace shows it
    if score.passed is not passed:
        want = "pass" if passed else "fail"
        raise AssertionError(
            f"expected {oracle} to {want}; it said: {said}\n" + _failure(result)
        )
    if says is not None and says not in score.explanation:
        raise AssertionError(
            f"expected {oracle}'s explanation to say {says!r}; it said: {said}"
        )


def _failure(result: RunResult) -> str:
    from harness.reporting.text import render_failure

    return render_failure(result, reproduce="(a Python-authored scenario)", trace=None)


__all__ = ["ScenarioBuilder", "as_scenario", "assert_oracle", "assert_passed"]
