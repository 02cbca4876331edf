"""The run's own httpx clients: closed when the run ends, used or not."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest

from harness import AgentEnv, Task, run_scenario
from harness.scenario.model import Scenario


@pytest.mark.parametrize("use_it", [False, True], ids=["unused", "used"])
def test_the_run_s_async_client_is_closed_when_the_run_ends(
    small: Scenario, use_it: bool
) -> None:
    kept: list[httpx.AsyncClient] = []

    async def agent(task: Task, env: AgentEnv) -> None:
        kept.append(env.ahttp)
        if use_it:
            await env.ahttp.get("https://api.stripe.com/v1/charges")

    run_scenario(small, agent, seed=1)
    assert kept[0].is_closed
    with pytest.raises(RuntimeError, match="the client has been closed"):
        asyncio.run(kept[0].get("https://example.com"))


def test_an_async_client_first_asked_for_after_the_run_is_closed(
    small: Scenario,
) -> None:
    kept: list[AgentEnv] = []

    def agent(task: Task, env: AgentEnv) -> None:
        kept.append(env)  # never touches env.ahttp during the run

    run_scenario(small, agent, seed=1)
    assert kept[0].ahttp.is_closed
    assert kept[0].ahttp is kept[0].ahttp


def test_the_run_s_env_reads_and_prints_as_an_agent_env(small: Scenario) -> None:
    seen: dict[str, object] = {}

    def agent(task: Task, env: AgentEnv) -> None:
        seen["repr"] = repr(env)
        seen["replaced"] = dataclasses.replace(env, tools=env.tools)
        with pytest.raises(dataclasses.FrozenInstanceError):
            env.ahttp = None  # type: ignore[misc]
        seen["env"] = env

    run_scenario(small, agent, seed=1)
    env = seen["env"]
    assert isinstance(env, AgentEnv)
    assert str(seen["repr"]).startswith(f"AgentEnv(http={env.http!r}, ahttp=")
    replaced = seen["replaced"]
    assert isinstance(replaced, AgentEnv)
    assert replaced.ahttp is env.ahttp


def test_the_run_s_clients_build_requests_as_default_clients_do(
    small: Scenario,
) -> None:
    seen: list[tuple[object, ...]] = []
    url = "https://payments.sim/v1/charges?limit=3"

    def agent(task: Task, env: AgentEnv) -> None:
        for client in (env.http, env.ahttp):
            request = client.build_request("GET", url, params={"page": "2"})
            seen.append((client.base_url, client.params, str(request.url)))

    run_scenario(small, agent, seed=1)
    with httpx.Client() as plain:
        expected = (
            plain.base_url,
            plain.params,
            str(plain.build_request("GET", url, params={"page": "2"}).url),
        )
    assert seen == [expected, expected]
