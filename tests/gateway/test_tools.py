"""The function-call door: specs in four formats, calls through the same gateway."""

from __future__ import annotations

import jsonschema
import pytest

from harness.errors import HarnessError, ToolError, ToolTimeout
from harness.gateway.tools import tool_spec
from harness.run import RunSetup, prepare_run
from harness.scenario.model import Scenario
from tests.conftest import small_scenario


@pytest.fixture
def setup(small: Scenario) -> RunSetup:
    return prepare_run(small, seed=3)


def test_openai_specs_are_function_tools_with_json_schema_parameters(
    setup: RunSetup,
) -> None:
    specs = setup.tools.specs(format="openai")
    names = [s["function"]["name"] for s in specs]
    assert names == sorted(names)
    assert {"create_refund", "escalate", "request_approval", "get_approval"} <= set(
        names
    )
    refund = next(s for s in specs if s["function"]["name"] == "create_refund")
    assert refund["type"] == "function"
    params = refund["function"]["parameters"]
    jsonschema.Draft202012Validator.check_schema(params)
    assert params["required"] == ["charge"]
    assert "idempotency_key" in params["properties"]
    assert refund["function"]["description"].endswith(
        "(POST https://payments.sim/v1/refunds) Irreversible."
    )


def test_anthropic_and_mcp_specs_carry_the_same_schema(setup: RunSetup) -> None:
    openai = {
        s["function"]["name"]: s["function"]["parameters"]
        for s in setup.tools.specs(format="openai")
    }
    anthropic = {
        s["name"]: s["input_schema"] for s in setup.tools.specs(format="anthropic")
    }
    mcp = {s["name"]: s["inputSchema"] for s in setup.tools.specs(format="mcp")}
    responses = {
        s["name"]: s["parameters"] for s in setup.tools.specs(format="responses")
    }
    assert openai == anthropic == mcp == responses


def test_responses_specs_are_the_responses_apis_flat_function_tools(
    setup: RunSetup,
) -> None:
    chat = next(
        s for s in setup.tools.specs(format="openai")
        if s["function"]["name"] == "create_refund"
    )  # fmt: skip
    (refund,) = [
        s for s in setup.tools.specs(format="responses") if s["name"] == "create_refund"
    ]
    assert refund == {
        "type": "function",
        "name": "create_refund",
        "description": chat["function"]["description"],
        "parameters": chat["function"]["parameters"],
        "strict": False,
    }


def test_an_unknown_spec_format_says_which_exist(setup: RunSetup) -> None:
    with pytest.raises(HarnessError) as info:
        tool_spec(setup.tools._ops["create_refund"], "gemini")
    assert str(info.value) == (
        "unknown tool spec format 'gemini'\n    fix: use one of openai, responses, anthropic,"
        " mcp"
    )


def test_calling_an_unknown_tool_suggests_the_closest_name(setup: RunSetup) -> None:
    with pytest.raises(ToolError) as info:
        setup.tools.call("create_refnd", charge="x")
    assert str(info.value).startswith(
        "unknown tool 'create_refnd'; did you mean 'create_refund'?"
    )
    assert info.value.status == 404


def test_a_business_error_reaches_the_agent_as_a_tool_error(setup: RunSetup) -> None:
    with pytest.raises(ToolError) as info:
        setup.tools.call("create_refund", charge="ch_missing", amount=100)
    assert info.value.status == 404
    assert (
        str(info.value) == "create_refund failed with 404: No such charge: 'ch_missing'"
    )
    assert info.value.body["error"]["code"] == "resource_missing"


def test_a_contract_violation_is_rejected_before_the_fake_runs(setup: RunSetup) -> None:
    charge = setup.world.records["charge"]["id"]
    with pytest.raises(ToolError) as info:
        setup.tools.call("create_refund", charge=charge, amount="lots")
    assert info.value.body["error"]["code"] == "parameter_invalid_integer"
    assert len(setup.world.ledger) == 0


def test_a_timeout_fault_through_the_function_door_raises_tool_timeout() -> None:
    scenario = small_scenario(
        faults=[
            {
                "id": "t",
                "kind": "timeout",
                "commit": "after",
                "when": {"call": 1},
                "match": {"tool": "create_refund"},
            }
        ]
    )
    setup = prepare_run(scenario, seed=1)
    charge = setup.world.records["charge"]["id"]
    with pytest.raises(ToolTimeout):
        setup.tools.call(
            "create_refund", charge=charge, amount=100, idempotency_key="k"
        )
    assert len(setup.world.ledger) == 1  # committed, though the caller never heard
    replay = setup.tools.call(
        "create_refund", charge=charge, amount=100, idempotency_key="k"
    )
    assert replay["id"] == setup.world.ledger.by_key(f"refund:{charge}")[0].ref
