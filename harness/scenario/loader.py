"""Load scenarios from YAML (or Python dicts) into validated :class:`Scenario` values.

Validation reports every problem of a scenario at once, in line order, each as
``file:line:col: json.path: what is wrong`` with a fix line; see
:mod:`harness.source.problems`. The JSON Schema checks shapes; the checks in
:mod:`harness.scenario._checks` do what a schema cannot (references, services).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from harness.errors import ScenarioError
from harness.faults.registry import kind_of, registry
from harness.policy.build import pack_from_data
from harness.policy.model import PolicyPack
from harness.scenario._checks import semantic_problems
from harness.scenario.model import (
    ApproverSpec,
    CanarySpec,
    Decision,
    DecisionOutcome,
    EscalationExpectation,
    EscalationRule,
    Expectations,
    FaultKind,
    FaultMatch,
    FaultSpec,
    FaultWhen,
    HumansSpec,
    IdempotencyExpectation,
    Mode,
    ModelSpec,
    OutcomeAssertion,
    RecordSpec,
    ReferenceAction,
    ReferenceDecision,
    Scenario,
    Severity,
    ShadowSpec,
    TaskSpec,
    Thresholds,
    TrajectoryExpectation,
    Variation,
    WorldSpec,
)
from harness.source.durations import parse_duration
from harness.source.problems import (
    Problem,
    SourceMap,
    check_document,
    document_error,
    unreadable,
)
from harness.source.yamlpos import YamlSyntaxError, read_yaml

SCHEMA_PATH = Path(__file__).parent / "schema" / "scenario.schema.json"


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate the scenario file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise unreadable(err, str(path), "scenario") from None
    return parse_scenario(text, path)


def parse_scenario(text: str, path: Path | str = "<string>") -> Scenario:
    """Validate scenario YAML ``text``; ``path`` names it in error messages."""
    origin = str(path)
    try:
        document = read_yaml(text)
    except YamlSyntaxError as err:
        raise document_error([err.problem], origin, SourceMap()) from None
    scenario = _validated(
        document.data, document.source_map, origin, list(document.problems)
    )
    return replace(
        scenario,
        path=None if origin == "<string>" else Path(path),
        source_sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def scenario_from_dict(
    data: Mapping[str, Any], *, path: Path | str | None = None
) -> Scenario:
    """Validate a Python-authored scenario; errors name json paths, not lines.

    Messages start with ``path`` when given, else ``<scenario NAME>``.
    """
    plain = _plain(data)
    name = plain.get("name") if isinstance(plain, dict) else None
    origin = str(path) if path is not None else f"<scenario {name}>"
    if not isinstance(name, str) and path is None:
        origin = "<scenario>"
    scenario = _validated(plain, SourceMap.of_data(plain), origin, [])
    return replace(scenario, path=None if path is None else Path(path))


def faults_from_documents(documents: list[dict[str, Any]]) -> tuple[FaultSpec, ...]:
    """Faults as a scenario file writes them, validated and built.

    They are checked as the faults of an otherwise empty scenario, so they may
    not reference records (``$charge.id``); put such faults in the scenario.
    """
    scenario = scenario_from_dict(
        {
            "name": "faults",
            "rationale": "fault documents",
            "task": {"instructions": "-", "input": {}},
            "faults": documents,
        }
    )
    return scenario.faults


@functools.cache
def _validator() -> Draft202012Validator:
    """Built once per process; the schema's own validity is a test's job
    (``check_schema`` costs more than validating every scenario of the library)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def _validated(
    data: Any, source_map: SourceMap, origin: str, problems: list[Problem]
) -> Scenario:
    check_document(data, source_map, origin, problems, _validator(), semantic_problems)
    scenario = _build(data)
    if isinstance(data.get("model"), dict):
        scenario = replace(scenario, model=_model(data["model"], origin, source_map))
    policy = data.get("policy")
    if isinstance(policy, str):
        scenario = replace(scenario, policy=_pack_file(policy, origin, source_map))
    return scenario


def _model(data: dict[str, Any], origin: str, source_map: SourceMap) -> ModelSpec:
    turns = data.get("turns")
    script_at = source_map.position(
        ("model", "script") if "script" in data else ("model",)
    )
    at = origin if script_at is None else f"{origin}:{script_at.line}"
    return ModelSpec(
        script=data.get("script"),
        turns=None if turns is None else tuple(turns),
        cassettes=data.get("cassettes"),
        at=at,
    )


def _pack_file(name: str, origin: str, source_map: SourceMap) -> PolicyPack:
    """The policy pack file a scenario names, relative to the scenario."""
    from harness.policy.loader import load_pack

    base = Path(origin).parent if not origin.startswith("<") else Path.cwd()
    path = Path(os.path.normpath(base / name))
    try:
        missing = "" if path.is_file() else f"no policy pack file at {path}"
    except OSError as err:  # a name too long, say
        missing = f"no policy pack file at {path} ({err.strerror})"
    if missing:
        problem = Problem(
            path=("policy",),
            message=missing,
            fix="name a pack file relative to this scenario, e.g."
            " ../policies/refund_agent.yaml, or write the pack inline",
        )
        raise document_error([problem], origin, source_map)
    try:
        return load_pack(path)
    except ScenarioError as err:  # the pack's problems, after the line naming it
        count = len(err.problems)
        problem = Problem(
            path=("policy",),
            message=f"the policy pack file {path} has"
            f" {count} problem{'s' if count != 1 else ''} (below)",
            fix="fix the pack, or name another pack file relative to this scenario",
        )
        (first,) = document_error([problem], origin, source_map).problems
        problems = (first, *err.problems)
        raise ScenarioError("\n".join(problems), problems=problems) from None


def _plain(value: Any) -> Any:
    """Python-authored data as JSON-like values: dicts, lists, plain strings."""
    if isinstance(value, Mapping):
        return {
            str(k) if isinstance(k, str) else k: _plain(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


# -- building the model from validated data --------------------------------------


def _build(data: dict[str, Any]) -> Scenario:
    task = data["task"]
    world = data.get("world", {})
    policy = data.get("policy")
    humans = data.get("humans", {})
    approver = humans.get("approver")
    return Scenario(
        name=data["name"],
        rationale=data["rationale"].strip(),
        task=TaskSpec(instructions=task["instructions"], input=task["input"]),
        tags=tuple(data.get("tags", ())),
        severity=_severity(data.get("severity")),
        seeds=int(data.get("seeds", 1)),
        thresholds=Thresholds.from_json(data.get("thresholds")),
        severities={
            name: Severity(level)
            for name, level in _dict(data.get("severity")).items()
            if name != "default"
        },
        world=WorldSpec(
            seed=None if world.get("seed") is None else int(world["seed"]),
            scale=str(world.get("scale", "small")),
            records={
                name: RecordSpec(
                    service=record["service"],
                    kind=record["kind"],
                    fields={
                        k: v for k, v in record.items() if k not in ("service", "kind")
                    },
                )
                for name, record in world.get("records", {}).items()
            },
        ),
        faults=tuple(_fault(fault) for fault in data.get("faults", ())),
        policy=pack_from_data(policy) if isinstance(policy, dict) else PolicyPack(),
        humans=HumansSpec(
            approver=None
            if approver is None
            else ApproverSpec(
                decision=Decision(approver["decision"]),
                after=parse_duration(approver.get("after", 0)),
            )
        ),
        expect=_expectations(data.get("expect", {})),
        shadow=_shadow(data.get("shadow")),
        mode=Mode(data["mode"]) if data.get("mode") else None,
        canary=_canary(data.get("canary")),
    )


def _fault(fault: dict[str, Any]) -> FaultSpec:
    kind = FaultKind(fault["kind"])
    info = kind_of(kind)
    params: dict[str, Any] = {k: fault[k] for k in info.params if k in fault}
    durations = registry().durations()
    for name in params:
        if name in durations:
            params[name] = parse_duration(params[name])
    info.load(params)  # the kind's own parsing and defaults
    match = fault.get("match", {})
    when = fault.get("when", {})
    return FaultSpec(
        id=fault["id"],
        kind=kind,
        match=FaultMatch(
            service=match.get("service"),
            method=match.get("method"),
            path=match.get("path"),
            tool=match.get("tool"),
            params=dict(match.get("params", {})),
        ),
        when=FaultWhen(
            call=None if when.get("call") is None else int(when["call"]),
            after_call=(
                None if when.get("after_call") is None else int(when["after_call"])
            ),
            start=None if when.get("from") is None else parse_duration(when["from"]),
            end=None if when.get("until") is None else parse_duration(when["until"]),
            probability=(
                None if when.get("probability") is None else float(when["probability"])
            ),
        ),
        params=params,
    )


def _shadow(shadow: dict[str, Any] | None) -> ShadowSpec | None:
    if shadow is None:
        return None
    reference = shadow["reference"]
    escalation = reference.get("escalation")
    return ShadowSpec(
        reference=ReferenceDecision(
            outcome=DecisionOutcome(reference["outcome"]),
            escalation=None if escalation in (None, "none") else str(escalation),
            actions=tuple(
                ReferenceAction(operation=item["operation"], key=item["key"])
                for item in reference.get("actions", ())
            ),
        )
    )


def _canary(data: Any) -> CanarySpec | None:
    if not isinstance(data, dict):
        return None
    return CanarySpec(
        vary={
            path: Variation(
                low=spec.get("min"),
                high=spec.get("max"),
                choices=tuple(spec.get("choices", ())),
            )
            for path, spec in data.get("vary", {}).items()
        }
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _severity(value: Any) -> Severity:
    """The default severity: ``severity: warn``, or ``severity: {default: warn}``."""
    if isinstance(value, dict):
        value = value.get("default")
    return Severity(value or Severity.BLOCK)


def _expectations(expect: dict[str, Any]) -> Expectations:
    idempotency = expect.get("idempotency", [])
    if isinstance(idempotency, dict):
        idempotency = [idempotency]
    escalation = expect.get("escalation")
    if isinstance(escalation, str):
        escalation = {"rule": escalation}
    return Expectations(
        idempotency=tuple(_idempotency(item) for item in idempotency),
        escalation=None
        if escalation is None
        else EscalationExpectation(
            rule=EscalationRule(escalation["rule"]), reason=escalation.get("reason")
        ),
        outcome=tuple(
            OutcomeAssertion(
                service=item["service"],
                kind=item.get("count", item.get("record")),
                where=item.get("where", {}),
                id=item.get("id"),
                field=item.get("field"),
                equals=item.get("equals"),
                at_least=item.get("at_least"),
                at_most=item.get("at_most"),
            )
            for item in expect.get("outcome", ())
        ),
        trajectory=None
        if "trajectory" not in expect
        else TrajectoryExpectation(
            uses=tuple(expect["trajectory"].get("uses", ())),
            avoids=tuple(expect["trajectory"].get("avoids", ())),
            order=tuple(expect["trajectory"].get("order", ())),
            args=dict(expect["trajectory"].get("args", {})),
        ),
        changes=None if "changes" not in expect else tuple(expect["changes"]),
    )


def _idempotency(item: dict[str, Any]) -> IdempotencyExpectation:
    max_effects = int(item.get("max_effects", 1))
    return IdempotencyExpectation(
        key=item["key"],
        max_effects=max_effects,
        min_effects=int(item.get("min_effects", min(1, max_effects))),
    )
