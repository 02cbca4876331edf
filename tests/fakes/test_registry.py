"""Users' own simulated services join every world through the registry."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from fakes import registry
from fakes._schema import by_id, integer, obj, string
from fakes.base import CallContext, FakeService, Reply, operation
from harness import AgentEnv, AgentResult, Task, run_scenario
from tests.conftest import small_scenario


class Inventory(FakeService):
    name: ClassVar[str] = "inventory"
    hosts: ClassVar[tuple[str, ...]] = ("inventory.sim",)
    collections: ClassVar[tuple[str, ...]] = ("items",)

    @operation(
        "GET",
        "/v1/items/{sku}",
        tool="get_stock",
        summary="How many of an item are in stock.",
        request=by_id("sku", "Stock keeping unit."),
        response=obj(
            {"sku": string("SKU."), "stock": integer("Units.")},
            required=("sku", "stock"),
        ),
    )
    def get_stock(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(status=200, body={"sku": params["sku"], "stock": 7})


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


@pytest.mark.usefixtures("isolated_registry")
def test_a_registered_service_answers_through_both_doors() -> None:
    registry.register_service(Inventory)

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        http = env.http.get("https://inventory.sim/v1/items/SKU-1").json()["stock"]
        tool = env.tools.call("get_stock", sku="SKU-1")["stock"]
        names = [s["name"] for s in env.tools.specs(format="anthropic")]
        return AgentResult(summary=f"{http} {tool} {'get_stock' in names}")

    result = run_scenario(small_scenario(), agent, seed=1)
    assert result.agent_result is not None
    assert result.agent_result.summary == "7 7 True"
    assert result.passed


@pytest.mark.usefixtures("isolated_registry")
def test_a_registered_service_is_known_to_the_scenario_loader() -> None:
    registry.register_service(Inventory)
    scenario = small_scenario(
        expect={"outcome": [{"service": "inventory", "count": "items", "equals": 0}]}
    )
    assert scenario.expect.outcome[0].service == "inventory"


@pytest.mark.usefixtures("isolated_registry")
def test_a_service_may_not_take_another_service_s_host() -> None:
    class FakeStripe(Inventory):
        name: ClassVar[str] = "fakestripe"
        hosts: ClassVar[tuple[str, ...]] = ("api.stripe.com",)

    with pytest.raises(
        ValueError, match=r"^host 'api.stripe.com' already belongs to 'payments'$"
    ):
        registry.register_service(FakeStripe)


@pytest.mark.usefixtures("isolated_registry")
def test_a_service_may_not_reuse_a_tool_name() -> None:
    class Other(Inventory):
        name: ClassVar[str] = "other"
        hosts: ClassVar[tuple[str, ...]] = ("other.sim",)

    registry.register_service(Inventory)
    with pytest.raises(
        ValueError,
        match=r"^tool 'get_stock' of 'other' is already a tool of 'inventory'$",
    ):
        registry.register_service(Other)
