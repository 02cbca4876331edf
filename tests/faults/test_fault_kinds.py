"""The newer fault kinds through both doors: what the agent sees, what is recorded.

Each test runs a small agent through ``env.tools.call`` (the function door) or
``env.http`` (the HTTP door, httpx → respx → gateway) and checks both what the agent
saw and what the run recorded: the nemesis history entries, the call's completion
entry, the effects ledger and the world's final state.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fakes import SERVICES, Operation
from fakes.base import fingerprint
from harness import (
    AgentEnv,
    AgentResult,
    RunResult,
    Task,
    ToolAmbiguousError,
    ToolError,
    ToolMalformedResponse,
    run_scenario,
)
from harness.errors import HarnessError
from harness.scenario.loader import parse_scenario
from harness.scenario.model import Scenario
from harness.world.history import EntryType, HistoryEntry
from tests.conftest import small_scenario

DOORS = ("function", "http")
_OPS: dict[str, Operation] = {op.name: op for s in SERVICES for op in s.operations}

#: The named records of the CRM tests (the charge and ticket of small_scenario too).
WORLD: dict[str, Any] = {
    "records": {
        "charge": {"service": "payments", "kind": "charge", "amount": 5000},
        "ticket": {"service": "tickets", "kind": "ticket", "charge": "$charge.id"},
        "account": {
            "service": "crm",
            "kind": "account",
            "name": "Globex Analytics Inc.",
            "tier": "business",
        },
        "contact": {
            "service": "crm",
            "kind": "contact",
            "account": "$account.id",
            "name": "Ada Park",
            "email": "ada@globex.example",
        },
        "colleague": {
            "service": "crm",
            "kind": "contact",
            "account": "$account.id",
            "name": "Bo Lind",
            "email": "bo@globex.example",
        },
    }
}
TASK: dict[str, Any] = {
    "instructions": "Tidy up account {account}",
    "input": {
        "account": "$account.id",
        "contact": "$contact.id",
        "charge": "$charge.id",
    },
}


def scenario(faults: list[dict[str, Any]], **overrides: Any) -> Scenario:
    """small_scenario with the CRM records and the given faults."""
    return small_scenario(
        **{"world": WORLD, "task": TASK, "faults": faults, **overrides}
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """A call's outcome as the agent saw it (function door: 200 for any success)."""

    status: int
    body: Any


def call(env: AgentEnv, door: str, tool: str, /, **params: Any) -> Answer:
    """Call ``tool`` through ``door``, the way an agent would."""
    if door == "function":
        try:
            return Answer(200, env.tools.call(tool, **params))
        except ToolAmbiguousError:
            raise  # no answer at all: the caller decides what that means
        except ToolError as err:
            return Answer(err.status, err.body)
    response = http_call(env, tool, **params)
    return Answer(response.status_code, response.json())


def http_call(env: AgentEnv, tool: str, /, **params: Any) -> httpx.Response:
    """``tool`` over HTTP: JSON bodies (form bodies for payments), If-Match."""
    op = _OPS[tool]
    rest = dict(params)
    path = op.path.format(**{name: rest.pop(name) for name in op.path_params})
    url = f"https://{op.service}.sim{path}"
    headers = {}
    if_match = rest.pop("if_match", None)
    if if_match is not None:
        headers["If-Match"] = f'"{if_match}"'
    if op.method == "GET":
        return env.http.get(url, params=rest, headers=headers)
    if op.service == "payments":
        data = {k: str(v) for k, v in rest.items()}
        return env.http.request(op.method, url, data=data, headers=headers)
    return env.http.request(op.method, url, json=rest, headers=headers)


def nemesis(result: RunResult, f: str | None = None) -> list[HistoryEntry]:
    return [
        h
        for h in result.world.history
        if h.process == "nemesis" and (f is None or h.f == f)
    ]


def doors(result: RunResult) -> set[str]:
    """The doors the agent's calls came through."""
    return {h.value["door"] for h in result.world.history if h.type is EntryType.INVOKE}


def completions(result: RunResult, tool: str | None = None) -> list[HistoryEntry]:
    return [
        h
        for h in result.world.history
        if h.process == "agent"
        and h.type is not EntryType.INVOKE
        and (tool is None or h.f == tool)
    ]


def returning(value: Any) -> AgentResult:
    """The agent's result, carrying ``value`` (what it saw) for the test to read."""
    return AgentResult(output={"value": value})


def output(result: RunResult) -> Any:
    """What the agent saw, as it returned it with :func:`returning`."""
    assert result.agent_result is not None, result.scores
    return result.agent_result.output["value"]


def crm_record(result: RunResult, collection: str, name: str) -> dict[str, Any]:
    ident = result.world.records[name]["id"]
    record: dict[str, Any] = result.world.service("crm").state[collection][ident]
    return record


# -- latency drawn from a distribution ------------------------------------------------


def _read_charge_n_times(door: str, n: int) -> Callable[[Task, AgentEnv], None]:
    def agent(task: Task, env: AgentEnv) -> None:
        for _ in range(n):
            assert (
                call(env, door, "retrieve_charge", charge=task.input["charge"]).status
                == 200
            )

    return agent


def _slow(seconds: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": "slow",
            "kind": "latency",
            "seconds": seconds,
            "match": {"tool": "retrieve_charge"},
        }
    ]


@pytest.mark.parametrize("door", DOORS)
def test_a_drawn_latency_is_recorded_and_is_the_time_the_call_costs(door: str) -> None:
    spec = {"distribution": "uniform", "min": "2s", "max": "10s"}
    result = run_scenario(scenario(_slow(spec)), _read_charge_n_times(door, 1))
    (fired,) = nemesis(result)
    drawn = fired.value["params"]["seconds"]
    assert isinstance(drawn, float)
    assert 2.0 <= drawn <= 10.0
    assert fired.value["params"] == {"seconds": drawn}
    (done,) = completions(result)
    assert done.type is EntryType.OK
    assert done.time == pytest.approx(drawn + 0.05)


def _draws(spec: dict[str, Any], seed: int) -> list[float]:
    result = run_scenario(
        scenario(_slow(spec)), _read_charge_n_times("function", 3), seed=seed
    )
    return [h.value["params"]["seconds"] for h in nemesis(result)]


@pytest.mark.parametrize(
    "spec",
    [
        {"distribution": "uniform", "min": "1s", "max": "9s"},
        {"distribution": "exponential", "mean": "2s"},
        {"distribution": "lognormal", "median": "2s", "sigma": 0.5},
    ],
    ids=["uniform", "exponential", "lognormal"],
)
def test_latency_draws_are_the_same_for_a_seed_and_differ_across_seeds(
    spec: dict[str, Any],
) -> None:
    first = _draws(spec, seed=3)
    assert len(first) == 3
    assert len(set(first)) == 3  # each matching call draws anew
    assert all(value > 0 for value in first)
    assert _draws(spec, seed=3) == first
    assert _draws(spec, seed=4) != first


# -- partial failure of a batch ---------------------------------------------------------

MESSAGES = [
    {"channel": "email", "to": f"user{n}@example.com", "subject": "Hi", "body": f"#{n}"}
    for n in range(1, 5)
]


def _batch_fault(**params: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": "half",
            "kind": "partial_failure",
            "match": {"tool": "send_messages"},
            **params,
        }
    ]


def _send_batch(door: str, times: int = 1) -> Callable[[Task, AgentEnv], AgentResult]:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        answers = [
            call(env, door, "send_messages", messages=MESSAGES).body
            for _ in range(times)
        ]
        return returning(answers)

    return agent


def _message_key(message: dict[str, Any]) -> str:
    content = fingerprint({"subject": message["subject"], "body": message["body"]})
    return f"message:email:{message['to']}:{content}"


def _sent(result: RunResult) -> list[str]:
    return [e.params["to"] for e in result.world.ledger]


UNAVAILABLE = {
    "code": "upstream_unavailable",
    "message": "This item could not be processed; it did not take effect.",
}


@pytest.mark.parametrize("door", DOORS)
def test_a_partial_failure_commits_only_the_items_that_did_not_fail(door: str) -> None:
    result = run_scenario(scenario(_batch_fault(fail=[1, 3])), _send_batch(door))
    assert doors(result) == {door}
    (answer,) = output(result)
    assert (answer["object"], answer["succeeded"], answer["failed"]) == ("batch", 2, 2)
    assert [r["status"] for r in answer["results"]] == [
        "failed",
        "succeeded",
        "failed",
        "succeeded",
    ]
    assert [r["index"] for r in answer["results"]] == [0, 1, 2, 3]
    assert answer["results"][0]["error"] == UNAVAILABLE
    assert answer["results"][1]["result"]["to"] == "user2@example.com"
    # only the succeeded items commit
    assert _sent(result) == ["user2@example.com", "user4@example.com"]
    assert len(result.world.service("notify").state["messages"]) == 2
    (fired,) = nemesis(result)
    assert fired.f == "partial_failure"
    assert fired.value["params"] == {
        "fail": [1, 3],
        "report": "accurate",
        "failed_items": [1, 3],
    }
    assert fired.value["target"] == "POST /v1/messages/batch"
    (done,) = completions(result)
    assert done.type is EntryType.OK
    assert done.value["committed"] == [1, 2]


@pytest.mark.parametrize("door", DOORS)
def test_a_partial_failure_reported_as_none_failed_hides_the_failures(
    door: str,
) -> None:
    faults = _batch_fault(fail=[2], report="none_failed")
    result = run_scenario(scenario(faults), _send_batch(door))
    (answer,) = output(result)
    assert (answer["succeeded"], answer["failed"]) == (4, 0)
    assert [r["status"] for r in answer["results"]] == ["succeeded"] * 4
    assert answer["results"][1] == {"index": 1, "status": "succeeded"}
    assert _sent(result) == [
        m["to"] for m in MESSAGES if m["to"] != "user2@example.com"
    ]
    (fired,) = nemesis(result)
    assert fired.value["params"]["report"] == "none_failed"
    assert fired.value["params"]["failed_items"] == [2]


@pytest.mark.parametrize("door", DOORS)
def test_a_naive_resend_after_an_all_failed_report_sends_messages_twice(
    door: str,
) -> None:
    faults = _batch_fault(fail=[1, 3], report="all_failed", when={"call": 1})
    result = run_scenario(scenario(faults), _send_batch(door, times=2))
    first, second = output(result)
    assert (first["succeeded"], first["failed"]) == (0, 4)
    assert {r["status"] for r in first["results"]} == {"failed"}
    assert first["results"][1]["error"] == {
        "code": "internal_error",
        "message": "This item could not be processed.",
    }
    assert first["results"][0]["error"] == UNAVAILABLE  # really failed
    assert (second["succeeded"], second["failed"]) == (4, 0)
    # items 2 and 4 went out on the first call, and again on the resend
    assert _sent(result) == [
        "user2@example.com",
        "user4@example.com",
        *(m["to"] for m in MESSAGES),
    ]
    ledger = result.world.ledger
    assert [len(ledger.by_key(_message_key(m))) for m in MESSAGES] == [1, 2, 1, 2]
    assert len(nemesis(result)) == 1


def test_partial_failure_ratio_draws_the_failing_items_from_the_seed() -> None:
    def failed(seed: int) -> list[int]:
        result = run_scenario(
            scenario(_batch_fault(ratio=0.5)), _send_batch("function"), seed=seed
        )
        (fired,) = nemesis(result)
        assert fired.value["params"]["ratio"] == 0.5
        items: list[int] = fired.value["params"]["failed_items"]
        sent = {e.params["to"] for e in result.world.ledger}
        assert sent == {m["to"] for n, m in enumerate(MESSAGES, 1) if n not in items}
        return items

    first = failed(1)
    assert first == failed(1)
    assert first != failed(2)


@pytest.mark.parametrize("door", DOORS)
def test_a_partial_failure_never_matches_a_single_item_call(door: str) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        message = MESSAGES[0]
        assert call(env, door, "send_message", **message).status in (200, 201)

    faults = [
        {
            "id": "half",
            "kind": "partial_failure",
            "fail": [1],
            "match": {"service": "notify"},
        }
    ]
    result = run_scenario(scenario(faults), agent)
    assert nemesis(result) == []
    assert len(result.world.ledger) == 1
    assert result.fault_coverage == (
        {"fault": "half", "kind": "partial_failure", "matched": 0, "fired": 0},
    )


# -- another writer: concurrent_write ---------------------------------------------------


def _other_writer(**params: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": "race",
            "kind": "concurrent_write",
            "match": {"tool": "update_account"},
            **params,
        }
    ]


@pytest.mark.parametrize("door", DOORS)
def test_a_concurrent_write_makes_an_if_match_writer_get_412(door: str) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        account = task.input["account"]
        read = call(env, door, "get_account", account=account).body
        answer = call(
            env,
            door,
            "update_account",
            account=account,
            if_match=read["etag"],
            tier="team",
        )
        return returning(answer)

    result = run_scenario(scenario(_other_writer(set={"health": "red"})), agent)
    assert doors(result) == {door}
    ident = result.world.records["account"]["id"]
    answer = output(result)
    assert answer.status == 412
    assert answer.body == {
        "error": {
            "code": "precondition_failed",
            "message": f"Account {ident} changed since you read it (you sent"
            f" {ident}-1, current is {ident}-2); re-read it and decide again.",
            "param": "if_match",
        }
    }
    assert len(result.world.ledger) == 0
    live = crm_record(result, "accounts", "account")
    assert (live["tier"], live["health"], live["version"]) == ("business", "red", 2)
    fired, wrote = nemesis(result)
    assert (fired.f, wrote.f) == ("concurrent_write", "external_write")
    assert fired.call == wrote.call == 2
    assert fired.value["params"] == {
        "set": {"health": "red"},
        "actor": "ops.automation",
    }
    assert wrote.value == {
        "fault": "race",
        "actor": "ops.automation",
        "record": ident,
        "changed": ["health"],
        "etag": f"{ident}-2",
    }
    (_, done) = completions(result)
    assert done.type is EntryType.FAIL
    assert done.value["status"] == 412


@pytest.mark.parametrize("door", DOORS)
def test_a_writer_without_if_match_overwrites_the_concurrent_change(door: str) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        account = task.input["account"]
        call(env, door, "get_account", account=account)
        answer = call(env, door, "update_account", account=account, tier="team")
        return returning(answer)

    faults = _other_writer(set={"tier": "enterprise"}, actor="renewals-sync")
    result = run_scenario(scenario(faults), agent)
    answer = output(result)
    assert answer.status == 200
    assert (answer.body["tier"], answer.body["version"]) == ("team", 3)
    # the lost update: the other writer's tier is gone, without a trace in the ledger
    live = crm_record(result, "accounts", "account")
    assert (live["tier"], live["version"]) == ("team", 3)
    (effect,) = result.world.ledger
    assert dict(effect.params) == {"tier": "team"}
    (wrote,) = nemesis(result, "external_write")
    assert wrote.value["actor"] == "renewals-sync"
    assert wrote.value["changed"] == ["tier"]


@pytest.mark.parametrize("door", DOORS)
def test_a_concurrent_write_that_holds_the_record_refuses_writes_until_it_ends(
    door: str,
) -> None:
    statuses: list[int] = []

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        account = task.input["account"]
        answer = Answer(0, {})
        for _ in range(4):
            answer = call(env, door, "update_account", account=account, health="yellow")
            statuses.append(answer.status)
            if answer.status != 409:
                break
            time.sleep(10)
        return returning(answer)

    faults = _other_writer(hold="30s", actor="renewals-sync", when={"call": 1})
    result = run_scenario(scenario(faults), agent)
    ident = result.world.records["account"]["id"]
    # calls at t = 0, 10.05, 20.1 (held) and 30.15 (released at 30)
    assert statuses == [409, 409, 409, 200]
    refused = completions(result)[0]
    assert refused.value["error"] == {
        "code": "conflict",
        "message": f"Account {ident} is being changed by another writer"
        " (renewals-sync); wait for them to finish, re-read it and decide again.",
    }
    (wrote,) = nemesis(result, "external_write")
    assert wrote.value["changed"] == ["locked_by"]
    assert wrote.value["etag"] == f"{ident}-2"
    live = crm_record(result, "accounts", "account")
    assert (live["locked_by"], live["health"], live["version"]) == (None, "yellow", 3)
    (effect,) = result.world.ledger
    assert effect.time == pytest.approx(30.15)


@pytest.mark.parametrize("door", DOORS)
def test_a_concurrent_write_can_change_a_named_record_the_call_depends_on(
    door: str,
) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        charge = task.input["charge"]
        return returning(call(env, door, "create_refund", charge=charge, amount=100))

    faults = [
        {
            "id": "race",
            "kind": "concurrent_write",
            "record": "$charge.id",
            "set": {"refunded": True, "amount_refunded": 5000},
            "hold": "30s",
            "match": {"tool": "create_refund"},
        }
    ]
    result = run_scenario(small_scenario(faults=faults), agent)
    charge = result.world.records["charge"]["id"]
    answer = output(result)
    assert answer.status == 400
    assert answer.body["error"]["code"] == "charge_already_refunded"
    assert len(result.world.ledger) == 0
    (wrote,) = nemesis(result, "external_write")
    # payments neither locks nor versions its records: no hold, no etag
    assert wrote.value == {
        "fault": "race",
        "actor": "ops.automation",
        "record": charge,
        "hold": "ignored: the service does not lock this record",
        "changed": ["amount_refunded", "refunded"],
    }


def test_a_concurrent_write_only_matches_writes_to_a_record() -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        account = task.input["account"]
        env.tools.call("get_account", account=account)
        env.tools.call(
            "create_contact", account=account, name="Cy Moss", email="cy@globex.example"
        )
        env.tools.call("update_account", account=account, health="green")

    faults = [{"id": "race", "kind": "concurrent_write", "match": {"service": "crm"}}]
    result = run_scenario(scenario(faults), agent)
    (fired,) = nemesis(result, "concurrent_write")
    assert fired.call == 3  # not the read, not the create (it has no record yet)
    assert result.fault_coverage == (
        {"fault": "race", "kind": "concurrent_write", "matched": 1, "fired": 1},
    )
    (wrote,) = nemesis(result, "external_write")
    assert wrote.value["changed"] == []  # set defaults to nothing: a new revision


# -- conflicting data, planted before the agent starts ------------------------------------


@pytest.mark.parametrize("door", DOORS)
def test_conflicting_data_changes_a_crm_record_before_the_agent_reads_it(
    door: str,
) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        answer = call(env, door, "get_account", account=task.input["account"])
        return returning(answer.body)

    faults = [
        {
            "id": "tiers",
            "kind": "conflicting_data",
            "record": "$account.id",
            "set": {"tier": "enterprise"},
            "fact": "customer tier",
        }
    ]
    result = run_scenario(scenario(faults), agent)
    ident = result.world.records["account"]["id"]
    seen = output(result)
    # the CRM says enterprise; billing (billing_plan) still says business
    assert (seen["tier"], seen["billing_plan"], seen["version"]) == (
        "enterprise",
        "business",
        1,
    )
    (planted,) = nemesis(result)
    assert planted.index == 0  # before the agent's first call
    assert (planted.time, planted.f, planted.call) == (0.0, "conflicting_data", None)
    assert planted.value == {
        "fault": "tiers",
        "kind": "conflicting_data",
        "match_index": 1,
        "params": {
            "record": ident,
            "set": {"tier": "enterprise"},
            "fact": "customer tier",
        },
        "target": None,
        "service": "crm",
        "record": ident,
        "before": {"tier": "business"},
    }
    assert len(result.world.ledger) == 0  # not the agent's doing
    assert result.fault_coverage == (
        {"fault": "tiers", "kind": "conflicting_data", "matched": 1, "fired": 1},
    )


@pytest.mark.parametrize("door", DOORS)
def test_conflicting_data_changes_a_payments_record_before_the_agent_reads_it(
    door: str,
) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        answer = call(env, door, "retrieve_charge", charge=task.input["charge"])
        return returning(answer.body)

    faults = [
        {
            "id": "amount",
            "kind": "conflicting_data",
            "record": "$charge.id",
            "set": {"amount": 4200, "description": "Annual plan"},
        }
    ]
    result = run_scenario(small_scenario(faults=faults), agent)
    seen = output(result)
    assert (seen["amount"], seen["description"]) == (4200, "Annual plan")
    (planted,) = nemesis(result)
    assert planted.value["service"] == "payments"
    assert planted.value["before"] == {"amount": 5000, "description": None}
    # the ticket still names the charge; the scenario's own view keeps the old amount
    assert result.world.records["charge"]["amount"] == 5000


def test_conflicting_data_on_an_unknown_record_is_a_harness_error() -> None:
    faults = [
        {
            "id": "ghost",
            "kind": "conflicting_data",
            "record": "acc_nope",
            "set": {"tier": "enterprise"},
        }
    ]
    with pytest.raises(HarnessError) as caught:
        run_scenario(small_scenario(faults=faults), lambda task, env: None)
    assert str(caught.value) == (
        "scenario 'small': fault 'ghost': no record 'acc_nope' in any service\n"
        "    fix: name a record by reference ($account.id) or by an id the world holds"
    )


# -- missing data -----------------------------------------------------------------------


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("how", "expected"),
    [("absent", {}), ("null", {"email": None}), ("empty", {"email": ""})],
)
def test_missing_data_leaves_fields_out_of_what_the_agent_reads(
    door: str, how: str, expected: dict[str, Any]
) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        answer = call(env, door, "get_contact", contact=task.input["contact"])
        return returning(answer.body)

    faults = [
        {
            "id": "gone",
            "kind": "missing_data",
            "fields": ["email"],
            "as": how,
            "match": {"tool": "get_contact"},
        }
    ]
    result = run_scenario(scenario(faults), agent)
    seen = output(result)
    assert {k: v for k, v in seen.items() if k == "email"} == expected
    assert seen["name"] == "Ada Park"
    assert crm_record(result, "contacts", "contact")["email"] == "ada@globex.example"
    (fired,) = nemesis(result)
    assert fired.value["params"] == {"fields": ["email"], "as": how}
    (done,) = completions(result)
    assert done.type is EntryType.OK


@pytest.mark.parametrize("door", DOORS)
def test_missing_data_for_one_record_leaves_the_others_whole(door: str) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        answer = call(env, door, "list_contacts", account=task.input["account"])
        return returning(answer.body)

    faults = [
        {
            "id": "gone",
            "kind": "missing_data",
            "fields": ["email", "role"],
            "record": "$contact.id",
            "match": {"tool": "list_contacts"},
        }
    ]
    result = run_scenario(scenario(faults), agent)
    ident = result.world.records["contact"]["id"]
    rows = {row["name"]: row for row in output(result)["data"]}
    assert "email" not in rows["Ada Park"]
    assert "role" not in rows["Ada Park"]
    assert rows["Ada Park"]["id"] == ident
    assert rows["Bo Lind"]["email"] == "bo@globex.example"
    assert "role" in rows["Bo Lind"]
    (fired,) = nemesis(result)
    assert fired.value["params"]["record"] == ident


# -- malformed responses --------------------------------------------------------------


def _refund_seeing_malformed(door: str) -> Callable[[Task, AgentEnv], AgentResult]:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        charge = task.input["charge"]
        if door == "function":
            try:
                env.tools.call("create_refund", charge=charge, amount=100)
            except ToolMalformedResponse as exc:
                return returning([exc.status, exc.raw, None, str(exc)])
            return returning("parsed")
        response = http_call(env, "create_refund", charge=charge, amount=100)
        try:
            response.json()
        except ValueError as exc:
            raw = response.text
            kind = response.headers["content-type"]
            return returning([response.status_code, raw, kind, type(exc).__name__])
        return returning("parsed")

    return agent


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("form", ["truncated", "html", "empty"])
def test_a_malformed_response_does_not_parse_but_the_call_committed(
    door: str, form: str
) -> None:
    faults = [
        {
            "id": "garbled",
            "kind": "malformed_response",
            "form": form,
            "match": {"tool": "create_refund"},
        }
    ]
    result = run_scenario(scenario(faults), _refund_seeing_malformed(door))
    assert doors(result) == {door}
    status, raw, content_type, error = output(result)
    assert status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    (effect,) = result.world.ledger
    assert effect.ref is not None
    if form == "truncated":
        refund = result.world.service("payments").state["refunds"][effect.ref]
        whole = json.dumps(dict(refund), sort_keys=True)
        assert raw == whole[: len(whole) // 2]  # the first half of the answer
    elif form == "html":
        assert "502 Bad Gateway" in raw
    else:
        assert raw == ""
    if door == "http":
        expected = "text/html; charset=utf-8" if form == "html" else "application/json"
        assert content_type == expected
        assert error == "JSONDecodeError"
    (fired,) = nemesis(result)
    assert fired.value["params"] == {"form": form}
    (done,) = completions(result)
    assert done.type is EntryType.INFO  # it may or may not have worked, to the agent
    assert done.value == {
        "seen": "malformed_response",
        "committed": [effect.seq],
        "actual": "committed",
    }


def test_the_function_door_says_a_malformed_answer_may_have_taken_effect() -> None:
    faults = [
        {"id": "garbled", "kind": "malformed_response", "form": "html", "match": {}}
    ]
    result = run_scenario(scenario(faults), _refund_seeing_malformed("function"))
    message = output(result)[3]
    assert message.startswith(
        "create_refund answered 200 with a body that is not valid JSON ("
    )
    assert message.endswith(" bytes); it may or may not have taken effect")


@pytest.mark.parametrize("door", DOORS)
def test_a_malformed_answer_to_a_read_is_a_definite_failure(door: str) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        with contextlib.suppress(ToolMalformedResponse, ValueError):
            call(env, door, "retrieve_charge", charge=task.input["charge"])
            return returning("parsed")
        return returning("garbled")

    faults = [
        {
            "id": "garbled",
            "kind": "malformed_response",
            "match": {"tool": "retrieve_charge"},
        }
    ]
    result = run_scenario(scenario(faults), agent)
    assert output(result) == "garbled"
    (fired,) = nemesis(result)
    assert fired.value["params"] == {"form": "truncated"}  # the default
    (done,) = completions(result)
    assert done.type is EntryType.FAIL
    assert done.value == {
        "seen": "malformed_response",
        "committed": [],
        "actual": "none",
    }


# -- the task delivered twice -------------------------------------------------------------

REDELIVER = [{"id": "again", "kind": "duplicate_delivery", "delay": "10m"}]
ONE_REFUND = {"idempotency": {"key": "refund:$charge.id", "max_effects": 1}}


def _refunder(door: str, *, careful: bool, tasks: list[Task]) -> Any:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        tasks.append(task)
        charge = task.input["charge"]
        if careful:
            done = call(env, door, "list_refunds", charge=charge).body["data"]
            if done:
                return AgentResult(status="done", summary=f"already {done[0]['id']}")
        answer = call(env, door, "create_refund", charge=charge, amount=1200)
        assert answer.status == 200, answer
        return AgentResult(status="done", summary=answer.body["id"])

    return agent


@pytest.mark.parametrize("door", DOORS)
def test_a_duplicate_delivery_makes_a_naive_agent_refund_twice(door: str) -> None:
    tasks: list[Task] = []
    result = run_scenario(
        small_scenario(faults=REDELIVER, expect=ONE_REFUND),
        _refunder(door, careful=False, tasks=tasks),
    )
    assert len(tasks) == 2
    assert tasks[0] == tasks[1]
    assert doors(result) == {door}
    charge = result.world.records["charge"]["id"]
    refunds = result.world.ledger.by_key(f"refund:{charge}")
    assert [e.time for e in refunds] == pytest.approx([0.0, 600.05])
    (redelivered,) = nemesis(result)
    assert (redelivered.f, redelivered.call) == ("duplicate_delivery", None)
    assert redelivered.time == pytest.approx(600.05)
    assert redelivered.value["params"] == {"delay": 600.0}
    assert redelivered.value["target"] is None
    assert "idempotency" in result.failed_oracles
    assert result.fault_coverage == (
        {"fault": "again", "kind": "duplicate_delivery", "matched": 1, "fired": 1},
    )


@pytest.mark.parametrize("door", DOORS)
def test_a_duplicate_delivery_is_harmless_to_an_agent_that_checks_first(
    door: str,
) -> None:
    tasks: list[Task] = []
    result = run_scenario(
        small_scenario(faults=REDELIVER, expect=ONE_REFUND),
        _refunder(door, careful=True, tasks=tasks),
    )
    assert len(tasks) == 2
    charge = result.world.records["charge"]["id"]
    (refund,) = result.world.ledger.by_key(f"refund:{charge}")
    assert len(result.world.ledger) == 1
    assert result.agent_result is not None
    assert result.agent_result.summary == refund.ref  # the first delivery's answer
    assert [h.f for h in completions(result)] == [
        "list_refunds",
        "create_refund",
        "list_refunds",
    ]
    assert result.passed, result.scores


# -- fault coverage -----------------------------------------------------------------------


def test_fault_coverage_counts_matches_and_firings_per_fault_in_scenario_order() -> (
    None
):
    def agent(task: Task, env: AgentEnv) -> None:
        charge = task.input["charge"]
        env.tools.call("retrieve_charge", charge=charge)
        env.tools.call("create_refund", charge=charge, amount=100)

    faults = [
        {
            "id": "slow",
            "kind": "latency",
            "seconds": "1s",
            "match": {"tool": "retrieve_charge"},
        },
        {
            "id": "third",
            "kind": "error",
            "status": 503,
            "when": {"call": 3},
            "match": {"tool": "create_refund"},
        },
        {"id": "batch", "kind": "partial_failure", "match": {"tool": "send_messages"}},
        {
            "id": "planted",
            "kind": "conflicting_data",
            "record": "$charge.id",
            "set": {"description": "x"},
        },
        {"id": "again", "kind": "duplicate_delivery"},
    ]
    result = run_scenario(small_scenario(faults=faults), agent)
    assert result.fault_coverage == (
        {"fault": "slow", "kind": "latency", "matched": 2, "fired": 2},
        # matched on both deliveries' refunds, but it waits for a third
        {"fault": "third", "kind": "error", "matched": 2, "fired": 0},
        {"fault": "batch", "kind": "partial_failure", "matched": 0, "fired": 0},
        {"fault": "planted", "kind": "conflicting_data", "matched": 1, "fired": 1},
        {"fault": "again", "kind": "duplicate_delivery", "matched": 1, "fired": 1},
    )
    assert [h.f for h in nemesis(result)] == [
        "conflicting_data",
        "latency",
        "duplicate_delivery",
        "latency",
    ]


def test_a_fault_whose_drawn_items_are_none_matches_but_does_not_fire() -> None:
    result = run_scenario(scenario(_batch_fault(ratio=0.0)), _send_batch("function"))
    assert nemesis(result) == []
    assert len(result.world.ledger) == 4
    assert result.fault_coverage == (
        {"fault": "half", "kind": "partial_failure", "matched": 1, "fired": 0},
    )


# -- the world a run starts from -----------------------------------------------------


def _refund_then_read(door: str) -> Callable[[Task, AgentEnv], AgentResult]:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        charge = task.input["charge"]
        env.tools.call("create_refund", charge=charge, amount=1000)
        return returning(call(env, door, "retrieve_charge", charge=charge).body)

    return agent


@pytest.mark.parametrize("door", DOORS)
def test_a_stale_read_of_a_scenario_record_shows_it_as_the_run_began(
    door: str,
) -> None:
    lag = [{"id": "lag", "kind": "stale_read", "match": {"tool": "retrieve_charge"}}]

    result = run_scenario(small_scenario(faults=lag), _refund_then_read(door))

    assert output(result)["amount_refunded"] == 0  # what the replica still says
    ident = result.world.records["charge"]["id"]
    live = result.world.service("payments").state["charges"][ident]
    assert live["amount_refunded"] == 1000


@pytest.mark.parametrize("door", DOORS)
def test_a_stale_read_keeps_the_planted_conflict(door: str) -> None:
    faults = [
        {
            "id": "amount",
            "kind": "conflicting_data",
            "record": "$charge.id",
            "set": {"description": "Annual plan"},
        },
        {"id": "lag", "kind": "stale_read", "match": {"tool": "retrieve_charge"}},
    ]

    result = run_scenario(small_scenario(faults=faults), _refund_then_read(door))

    seen = output(result)
    assert (seen["amount_refunded"], seen["description"]) == (0, "Annual plan")


def test_an_unquoted_yaml_null_is_the_null_form_of_missing_data() -> None:
    scenario = parse_scenario(
        "name: nulls\n"
        "rationale: Missing as null.\n"
        "task: {instructions: Go., input: {}}\n"
        "faults:\n"
        "  - {id: m, kind: missing_data, fields: [email], as: null}\n"
    )

    assert scenario.faults[0].params["as"] == "null"


def test_missing_data_for_one_record_reaches_records_nested_in_an_answer() -> None:
    from harness.faults.responses import transform
    from harness.scenario.loader import faults_from_documents

    (fault,) = faults_from_documents(
        [
            {
                "id": "m",
                "kind": "missing_data",
                "fields": ["email"],
                "record": "ct_2",
                "as": "null",
            }
        ]
    )
    body = {
        "object": "lead_conversion",
        "account": {"id": "acct_1", "email": "a@example.com"},
        "contact": {"id": "ct_2", "email": "c@example.com"},
    }

    seen = transform(body, [fault], {})

    assert seen["contact"] == {"id": "ct_2", "email": None}
    assert seen["account"] == {"id": "acct_1", "email": "a@example.com"}
    assert body["contact"]["email"] == "c@example.com"  # a copy changed
