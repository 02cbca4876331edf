"""slack_sdk's WebClient, exactly as its docs show it, posts into the simulation:
notify answers at slack.com with Slack's Web API envelope."""

from __future__ import annotations

from typing import Any

import pytest

from harness import AgentEnv, AgentResult, Task, run_scenario
from tests.conftest import small_scenario

slack_sdk = pytest.importorskip("slack_sdk")
from slack_sdk.errors import SlackApiError  # noqa: E402


def post(task: Task, env: AgentEnv) -> AgentResult:
    client = slack_sdk.WebClient(token=env.identity.api_key)
    response = client.chat_postMessage(channel="#ops", text="Refund queued.")
    try:
        client.chat_postMessage(channel="#nowhere", text="Lost.")
    except SlackApiError as exc:
        error = exc.response["error"]
    return AgentResult(summary=f"{response['ok']} {response['channel']} {error}")


def test_a_slack_sdk_post_lands_in_notifys_ledger(where: Any) -> None:
    result = run_scenario(small_scenario(), post, seed=1, isolation=where)

    assert result.agent_result is not None, result.scores
    ok, channel, error = result.agent_result.summary.split()
    assert (ok, error) == ("True", "channel_not_found")
    assert channel.startswith("C")
    posted = [e for e in result.world.ledger if e.operation == "chat_post_message"]
    assert len(posted) == 1
    assert posted[0].params["text"] == "Refund queued."
    assert "security" not in result.failed_oracles
