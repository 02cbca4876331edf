"""The run's own httpx clients: closed when the run ends, used or not."""

from __future__ import annotations

import asyncio

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
