"""Notify: email, chat and Slack-style posts, each sent message a ledgered effect."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fakes._company import world_domain
from fakes.base import fingerprint
from fakes.notify import Notify
from harness.run import RunSetup
from harness.world.world import World
from tests.fakes.conftest import RECORDS, SEED, Door, error

#: Slack's message timestamps: Unix seconds and six digits of microseconds.
TS = re.compile(r"\d{10}\.\d{6}")


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


# -- batches: send_messages -------------------------------------------------------------

BATCH = [
    {"channel": "email", "to": "a@example.com", "subject": "Refund", "body": "Done."},
    {"channel": "chat", "to": "#payments-ops", "body": "Refund issued."},
    {"channel": "email", "to": "b@example.com", "body": "Hello."},
]


def test_a_batch_sends_every_message_and_ledgers_each(
    door: Door, sim: RunSetup
) -> None:
    answer = door.call("send_messages", messages=BATCH)
    assert answer.status == 200
    body = answer.body
    assert (body["object"], body["succeeded"], body["failed"]) == ("batch", 3, 0)
    assert [(r["index"], r["status"]) for r in body["results"]] == [
        (0, "succeeded"),
        (1, "succeeded"),
        (2, "succeeded"),
    ]
    sent = [r["result"] for r in body["results"]]
    assert [(m["channel"], m["to"], m["subject"], m["body"]) for m in sent] == [
        (m["channel"], m["to"], m.get("subject"), m["body"]) for m in BATCH
    ]
    assert {m["status"] for m in sent} == {"sent"}
    ledger = list(sim.world.ledger)
    assert [(e.operation, e.ref, e.call) for e in ledger] == [
        ("send_messages", m["id"], 1) for m in sent
    ]
    assert [e.business_key for e in ledger] == [
        f"message:{m['channel']}:{m['to']}:"
        + fingerprint({"subject": m.get("subject"), "body": m["body"]})
        for m in BATCH
    ]
    assert all(e.reversible is False for e in ledger)
    assert set(sim.world.service("notify").state["messages"]) == {m["id"] for m in sent}
    assert door.call("get_message", message=sent[1]["id"]).body == sent[1]


def test_a_bad_item_fails_on_its_own_and_the_others_are_sent(
    door: Door, sim: RunSetup
) -> None:
    messages = [BATCH[0], {**BATCH[2], "to": "customer.example.com"}, BATCH[1]]
    answer = door.call("send_messages", messages=messages)
    assert answer.status == 200
    body = answer.body
    assert (body["succeeded"], body["failed"]) == (2, 1)
    assert body["results"][1] == {
        "index": 1,
        "status": "failed",
        "error": {
            "code": "invalid_recipient",
            "message": "'customer.example.com' is not an email address.",
            "param": "to",
        },
    }
    assert [r["status"] for r in body["results"]] == [
        "succeeded",
        "failed",
        "succeeded",
    ]
    assert [e.params["to"] for e in sim.world.ledger] == [
        "a@example.com",
        "#payments-ops",
    ]
    assert len(sim.world.service("notify").state["messages"]) == 2
    done = [h for h in sim.world.history if h.process == "agent" and h.type != "invoke"]
    assert [(h.type, h.value["status"], h.value["committed"]) for h in done] == [
        ("ok", 200, [1, 2])
    ]


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (
            [],
            error(
                "invalid_request", "messages must contain at least 1 items", "messages"
            ),
        ),
        (
            [BATCH[0], {"channel": "sms", "to": "+15550100", "body": "Hi."}],
            error(
                "invalid_request",
                "messages[1].channel must be one of ['email', 'chat']",
                "messages.1.channel",
            ),
        ),
    ],
    ids=["empty", "bad-channel"],
)
def test_a_batch_that_breaks_the_contract_is_refused_whole(
    door: Door,
    sim: RunSetup,
    messages: list[dict[str, Any]],
    expected: dict[str, Any],
) -> None:
    answer = door.call("send_messages", messages=messages)
    assert answer.status == 400
    assert answer.body == expected
    assert len(sim.world.ledger) == 0


# -- external recipients -------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "external"),
    [
        ("customer@example.com", True),
        ("ops@{domain}", False),
        ("billing@eu.{domain}", False),
        ("OPS@{upper}", False),
        ("ops@{domain}, someone@gmail.com", True),
        ("ops@{domain}.evil.com", True),
    ],
    ids=["customer", "colleague", "subdomain", "case", "one-outside", "lookalike"],
)
def test_an_email_outside_the_company_domain_is_marked_external(
    door: Door, sim: RunSetup, to: str, external: bool
) -> None:
    domain = world_domain(sim.world)
    address = to.format(domain=domain, upper=domain.upper())
    answer = door.call("send_message", channel="email", to=address, body="Hi.")
    assert answer.status == 201
    assert answer.body["external"] is external
    [message] = sim.world.service("notify").state["messages"].values()
    assert message["external"] is external


def test_a_chat_message_is_never_external(door: Door) -> None:
    answer = door.call("send_message", channel="chat", to="#ops", body="Hi.")
    assert answer.body["external"] is False


# -- Slack: chat.postMessage ------------------------------------------------------------


def channel_id(sim: RunSetup, name: str) -> str:
    channels = sim.world.service("notify").state["channels"].values()
    return next(str(c["id"]) for c in channels if c["name"] == name)


@pytest.mark.parametrize("ref", ["#ops", "ops", "id"])
def test_a_chat_post_answers_like_slack_and_is_ledgered(
    door: Door, sim: RunSetup, ref: str
) -> None:
    ops = channel_id(sim, "ops")
    answer = door.call(
        "chat_post_message", channel=ops if ref == "id" else ref, text="Deploying."
    )
    assert answer.status == 200
    body = answer.body
    assert (body["ok"], body["channel"]) == (True, ops)
    assert TS.fullmatch(body["ts"])
    assert body["message"] == {
        "type": "message",
        "text": "Deploying.",
        "user": body["message"]["user"],
        "bot_id": body["message"]["bot_id"],
        "ts": body["ts"],
    }
    assert body["message"]["user"].startswith("U")
    [entry] = list(sim.world.ledger)
    assert entry.business_key == f"chat:{ops}:{fingerprint({'text': 'Deploying.'})}"
    assert (entry.service, entry.operation, entry.ref) == (
        "notify",
        "chat_post_message",
        f"{ops}:{body['ts']}",
    )
    assert dict(entry.params) == {"channel": ops, "text": "Deploying."}
    stored = sim.world.service("notify").state["chat_messages"][f"{ops}:{body['ts']}"]
    assert (stored["channel_name"], stored["text"]) == ("ops", "Deploying.")


def test_the_same_chat_post_twice_is_two_messages_under_one_key(
    door: Door, sim: RunSetup
) -> None:
    first = door.call("chat_post_message", channel="#ops", text="Done.")
    again = door.call("chat_post_message", channel="#ops", text="Done.")
    assert first.body["ts"] != again.body["ts"]
    [key] = {e.business_key for e in sim.world.ledger}
    assert len(sim.world.ledger.by_key(key)) == 2


def test_posts_at_the_same_instant_get_distinct_timestamps(sim: RunSetup) -> None:
    notify = sim.world.service("notify")
    assert isinstance(notify, Notify)
    ops = channel_id(sim, "ops")
    notify.state["chat_messages"][f"{ops}:1767225600.000000"] = {"id": "taken"}
    assert notify._next_ts(ops) == "1767225600.000001"


def test_a_reply_in_a_thread_carries_the_thread_ts(door: Door) -> None:
    parent = door.call("chat_post_message", channel="#ops", text="Incident.").body
    reply = door.call(
        "chat_post_message", channel="#ops", text="Fixed.", thread_ts=parent["ts"]
    )
    assert reply.body["ok"] is True
    assert reply.body["message"]["thread_ts"] == parent["ts"]


def test_blocks_without_text_are_posted(door: Door, sim: RunSetup) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Done*"}}]
    answer = door.call("chat_post_message", channel="#sales", blocks=blocks)
    assert answer.body["ok"] is True
    assert answer.body["message"]["blocks"] == blocks
    [entry] = list(sim.world.ledger)
    assert entry.business_key.endswith(fingerprint({"blocks": blocks}))


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"channel": "#nowhere", "text": "Hi."}, "channel_not_found"),
        ({"text": "Hi."}, "channel_not_found"),
        ({"channel": "#billing-migration-2024", "text": "Hi."}, "is_archived"),
        ({"channel": "#leadership", "text": "Hi."}, "not_in_channel"),
        ({"channel": "#ops"}, "no_text"),
        ({"channel": "#ops", "text": "   "}, "no_text"),
    ],
    ids=["unknown", "no-channel", "archived", "not-member", "no-text", "blank"],
)
def test_a_failed_chat_post_is_http_200_with_slacks_error(
    door: Door, sim: RunSetup, params: dict[str, Any], error: str
) -> None:
    answer = door.call("chat_post_message", **params)
    assert answer.status == 200
    assert answer.body == {"ok": False, "error": error}
    assert len(sim.world.ledger) == 0
    assert sim.world.service("notify").state["chat_messages"] == {}


SECRET_CHANNEL = {
    **RECORDS,
    "secret": {
        "service": "notify",
        "kind": "channel",
        "name": "#board",
        "is_private": True,
        "is_member": False,
    },
}


@pytest.mark.parametrize("records", [SECRET_CHANNEL], ids=["private"])
def test_a_private_channel_the_bot_is_not_in_does_not_exist_for_it(
    door: Door, sim: RunSetup
) -> None:
    secret = sim.world.records["secret"]
    assert secret["name"] == "board"
    for ref in ("#board", secret["id"]):
        answer = door.call("chat_post_message", channel=ref, text="Hi.")
        assert answer.body == {"ok": False, "error": "channel_not_found"}
    listed = door.call("list_channels", types="public_channel,private_channel").body
    assert "board" not in {c["name"] for c in listed["channels"]}


# -- Slack: conversations.list ----------------------------------------------------------


def names(answer: Any) -> list[str]:
    return [c["name"] for c in answer.body["channels"]]


def test_listing_channels_answers_public_channels_like_slack(door: Door) -> None:
    answer = door.call("list_channels")
    assert answer.status == 200
    assert answer.body["ok"] is True
    assert answer.body["response_metadata"] == {"next_cursor": ""}
    assert names(answer) == [
        "billing-migration-2024",
        "finance-approvals",
        "general",
        "it-helpdesk",
        "leadership",
        "ops",
        "sales",
    ]
    flags = {
        c["name"]: (c["is_archived"], c["is_member"]) for c in answer.body["channels"]
    }
    assert flags["billing-migration-2024"] == (True, True)
    assert flags["leadership"] == (False, False)


def test_private_channels_are_listed_when_asked_for(door: Door) -> None:
    answer = door.call("list_channels", types="private_channel")
    assert names(answer) == ["security-incidents"]
    assert answer.body["channels"][0]["is_private"] is True


def test_archived_channels_can_be_left_out(door: Door) -> None:
    answer = door.call("list_channels", exclude_archived=True)
    assert "billing-migration-2024" not in names(answer)
    assert len(names(answer)) == 6


def test_channels_are_paged_with_slack_cursors(door: Door) -> None:
    everything = names(door.call("list_channels"))
    seen: list[str] = []
    cursor = ""
    for _ in range(len(everything)):
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = door.call("list_channels", **params)
        seen += names(page)
        cursor = page.body["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == everything


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"types": "public_channel,dm"}, "invalid_types"),
        ({"cursor": "nope"}, "invalid_cursor"),
    ],
    ids=["types", "cursor"],
)
def test_a_bad_channel_listing_is_http_200_with_slacks_error(
    door: Door, params: dict[str, Any], error: str
) -> None:
    answer = door.call("list_channels", **params)
    assert (answer.status, answer.body) == (200, {"ok": False, "error": error})


def test_the_seeded_channels_are_untouched_by_a_run(door: Door, sim: RunSetup) -> None:
    door.call("chat_post_message", channel="#ops", text="Hi.")
    door.call("send_message", channel="email", to="a@example.com", body="Hi.")
    fresh = World(seed=SEED).service("notify").state
    assert dict(fresh["chat_messages"]) == {}
    assert dict(fresh["messages"]) == {}
    assert len(sim.world.service("notify").state["chat_messages"]) == 1
