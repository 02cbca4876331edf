"""Notify: email and chat messages, each sent message a ledgered effect."""

from __future__ import annotations

import pytest

from fakes.base import fingerprint
from harness.modes.sim import RunSetup
from tests.fakes.conftest import Door


@pytest.mark.parametrize(
    ("channel", "to", "subject"),
    [
        ("email", "customer@example.com", "Your refund"),
        ("chat", "#payments-ops", None),
    ],
    ids=["email", "chat"],
)
def test_a_message_is_sent_and_ledgered(
    door: Door, sim: RunSetup, channel: str, to: str, subject: str | None
) -> None:
    params = {"channel": channel, "to": to, "body": "Refund issued."}
    if subject is not None:
        params["subject"] = subject
    answer = door.call("send_message", **params)
    assert answer.status == 201
    message = answer.body
    assert {k: message[k] for k in ("object", "channel", "to", "subject", "body")} == {
        "object": "message",
        "channel": channel,
        "to": to,
        "subject": subject,
        "body": "Refund issued.",
    }
    assert message["status"] == "sent"
    [entry] = list(sim.world.ledger)
    content = fingerprint({"subject": subject, "body": "Refund issued."})
    assert entry.business_key == f"message:{channel}:{to}:{content}"
    assert (entry.service, entry.operation, entry.ref) == (
        "notify",
        "send_message",
        message["id"],
    )
    assert door.call("get_message", message=message["id"]).body == message


def test_the_same_email_sent_twice_is_two_effects_under_one_key(
    door: Door, sim: RunSetup
) -> None:
    params = {"channel": "email", "to": "a@example.com", "body": "Hello."}
    door.call("send_message", **params)
    door.call("send_message", **params)
    [key] = {e.business_key for e in sim.world.ledger}
    assert len(sim.world.ledger.by_key(key)) == 2


def test_an_email_to_an_address_without_an_at_sign_is_a_422_invalid_recipient(
    door: Door, sim: RunSetup
) -> None:
    answer = door.call(
        "send_message", channel="email", to="customer.example.com", body="Hello."
    )
    assert answer.status == 422
    assert answer.body == {
        "error": {
            "code": "invalid_recipient",
            "message": "'customer.example.com' is not an email address.",
            "param": "to",
        }
    }
    assert len(sim.world.ledger) == 0
    assert sim.world.service("notify").state["messages"] == {}


def test_a_chat_message_needs_no_email_address(door: Door) -> None:
    answer = door.call("send_message", channel="chat", to="payments-ops", body="Hi.")
    assert answer.status == 201


def test_an_unknown_channel_is_a_400_invalid_request(door: Door, sim: RunSetup) -> None:
    answer = door.call("send_message", channel="sms", to="+15550100", body="Hi.")
    assert answer.status == 400
    assert answer.body == {
        "error": {
            "code": "invalid_request",
            "message": "channel must be one of ['email', 'chat']",
            "param": "channel",
        }
    }
    assert len(sim.world.ledger) == 0


def test_a_message_without_a_body_is_a_400_invalid_request(door: Door) -> None:
    answer = door.call("send_message", channel="email", to="a@example.com")
    assert answer.status == 400
    assert answer.body == {
        "error": {
            "code": "invalid_request",
            "message": "missing required parameter 'body'",
            "param": "body",
        }
    }


def test_reading_an_unknown_message_is_a_404_not_found(door: Door) -> None:
    answer = door.call("get_message", message="msg_x")
    assert answer.status == 404
    assert answer.body == {
        "error": {"code": "not_found", "message": "No such message: 'msg_x'"}
    }
