"""Outbound notifications: email, chat, and a Slack-compatible chat API.

Every sent message is a ledgered side effect. ``send_message`` delivers email and
simple chat messages, ``send_messages`` up to 100 of them in one batch (each sent
on its own; the answer reports each by index); an email to an address outside the
company's domain is marked ``external`` (data handling rules read it).
``chat.postMessage`` and ``conversations.list`` speak Slack's Web API at
``https://notify.sim/api/…``: HTTP 200 with ``{"ok": true, …}``, or HTTP 200 with
``{"ok": false, "error": "…"}`` using Slack's error codes (``channel_not_found``,
``not_in_channel``, ``no_text``, ``is_archived``), so an agent must check ``ok`` as
it would with Slack.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from fakes import _schema as s
from fakes._company import is_internal, world_domain
from fakes.base import (
    CallContext,
    FakeService,
    IdGenerator,
    Operation,
    Record,
    Reply,
    Seed,
    WorldScale,
    fingerprint,
    operation,
)
from fakes.notify.slack import (
    BLOCKS,
    CHANNEL,
    CHANNELS,
    POSTED,
    SEEDED_CHANNELS,
    TYPES,
    channel,
    channel_of_cursor,
    cursor_for,
    failure,
    slack_id,
)

if TYPE_CHECKING:
    from faker import Faker

#: The seeded channels were created a year before the seeded world's today.
_CHANNELS_CREATED = 1_767_225_600 - 365 * 86_400
_RECIPIENTS = re.compile(r"[,;]")

MESSAGE = s.obj(
    {
        "id": s.string("Message id (msg_…)."),
        "object": {"const": "message"},
        "channel": s.enum("Delivery channel.", "email", "chat"),
        "to": s.string("Recipient: an email address or a chat channel."),
        "subject": s.nullable(s.string("Subject (email).")),
        "body": s.string("Text."),
        "status": s.enum("Delivery status.", "sent"),
        "external": s.boolean(
            "Whether an email recipient is outside the company's domain."
        ),
        "created": {"type": "integer"},
    },
    required=("id", "object", "channel", "to", "body", "status", "created"),
)


_MESSAGE_REQUEST = s.obj(
    {
        "channel": s.enum("Delivery channel.", "email", "chat"),
        "to": s.string("Recipient email address or chat channel.", minLength=1),
        "subject": s.string("Subject line (email)."),
        "body": s.string("Message text.", minLength=1),
    },
    required=("channel", "to", "body"),
)


class Notify(FakeService):
    """Email and chat delivery."""

    name: ClassVar[str] = "notify"
    #: notify.sim, and Slack's Web API host (its chat routes speak that wire format)
    hosts: ClassVar[tuple[str, ...]] = ("notify.sim", "slack.com")
    wire_format: ClassVar[str] = (
        "chat: Slack's Web API (`chat.postMessage`, `conversations.list`; "
        "`slack_sdk` works unchanged at slack.com); email: the harness's own"
    )
    record_kinds: ClassVar[tuple[str, ...]] = ("channel",)
    record_fields: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "channel": s.scenario_fields(
            CHANNEL,
            ("name", "purpose", "is_private", "is_archived", "is_member"),
            purpose=s.string("What the channel is for."),
        )
    }
    collections: ClassVar[tuple[str, ...]] = ("messages", "channels", "chat_messages")

    @classmethod
    def populate(
        cls,
        faker: Faker,
        rng: random.Random,
        ids: IdGenerator,
        peers: Mapping[str, Seed],
        scale: WorldScale,
    ) -> Seed:
        channels = [
            channel(name, purpose, _CHANNELS_CREATED, **flags)
            for name, purpose, flags in SEEDED_CHANNELS
        ]
        return {
            "messages": {},
            "channels": {c["id"]: c for c in channels},
            "chat_messages": {},
        }

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        if kind != "channel":
            raise self.unknown_kind(kind)
        self.check_record_fields(kind, fields)
        name = str(fields.get("name", "")).removeprefix("#")
        if not name:
            raise ValueError("a channel needs a name (e.g. name: payments-ops)")
        if self._channel(name) is not None:
            raise ValueError(f"channel #{name} already exists")
        flags = {
            k: bool(fields[k])
            for k in ("is_private", "is_archived", "is_member")
            if k in fields
        }
        record = channel(
            name,
            str(fields.get("purpose", "")),
            int(self.world.clock.epoch()) - 30 * 86_400,
            **flags,
        )
        self.state["channels"][record["id"]] = record
        return record

    # -- email and simple chat -----------------------------------------------------
    @operation(
        "POST",
        "/v1/messages",
        tool="send_message",
        summary="Send an email or a chat message. Sent messages cannot be recalled.",
        request=_MESSAGE_REQUEST,
        response=MESSAGE,
        status=201,
        action="notify.send",
        write=True,
        approval_params=("channel", "to", "subject", "body"),
        reversible=False,
    )
    def send_message(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(status=201, body=self._send(ctx, params))

    @operation(
        "POST",
        "/v1/messages/batch",
        tool="send_messages",
        summary="Send up to 100 emails or chat messages in one call. Each message is"
        " sent on its own: some may go out while others fail, and the answer says"
        " which, by index. Sent messages cannot be recalled.",
        request=s.batch_request(
            "messages",
            _MESSAGE_REQUEST,
            most=100,
            description="The messages, each as send_message takes it.",
        ),
        response=s.batch_of(MESSAGE),
        action="notify.send",
        write=True,
        reversible=False,
        batch="messages",
    )
    def send_messages(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return self.batch(ctx, params["messages"], self._send)

    def _send(self, ctx: CallContext, params: dict[str, Any]) -> Record:
        if params["channel"] == "email" and "@" not in params["to"]:
            raise self.error(
                422,
                "invalid_recipient",
                f"'{params['to']}' is not an email address.",
                param="to",
            )
        message: Record = {
            "id": ctx.new_id("msg", 14),
            "object": "message",
            "channel": params["channel"],
            "to": params["to"],
            "subject": params.get("subject"),
            "body": params["body"],
            "status": "sent",
            "external": params["channel"] == "email" and self._external(params["to"]),
            "created": ctx.now,
        }
        self.state["messages"][message["id"]] = message
        content = fingerprint({"subject": message["subject"], "body": message["body"]})
        ctx.commit(
            business_key=f"message:{message['channel']}:{message['to']}:{content}",
            params=params,
            ref=message["id"],
        )
        return message

    def effective_params(self, op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        """Sends carry ``external``: whether any recipient is outside the company."""
        if op.name == "send_message":
            return {**params, "external": self._outside(params)}
        if op.name == "send_messages":
            items = params.get("messages")
            outside = isinstance(items, list) and any(
                isinstance(m, dict) and self._outside(m) for m in items
            )
            return {**params, "external": outside}
        return params

    def _outside(self, message: Mapping[str, Any]) -> bool:
        to = message.get("to")
        return (
            message.get("channel") == "email"
            and isinstance(to, str)
            and (self._external(to))
        )

    @cached_property
    def _domain(self) -> str:
        return world_domain(self.world)

    def _external(self, to: str) -> bool:
        """Whether any of the (comma-separated) recipients is outside the company."""
        domain = self._domain
        recipients = [r for r in _RECIPIENTS.split(to) if r.strip()]
        return any(not is_internal(r, domain) for r in recipients)

    @operation(
        "GET",
        "/v1/messages/{message}",
        tool="get_message",
        summary="Read a sent message.",
        request=s.by_id("message", "Message id (msg_…)."),
        response=MESSAGE,
    )
    def get_message(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(status=200, body=self.get_or_404("messages", params["message"]))

    # -- Slack ---------------------------------------------------------------------
    def _channel(self, ref: str) -> Record | None:
        """A channel by id (C…) or name (with or without '#'), if the bot sees it."""
        channels = self.state["channels"]
        found = channels.get(ref)
        if found is None:
            name = ref.removeprefix("#")
            found = channels.get(slack_id("C", name))
            if found is not None and found["name"] != name:
                found = None
        if found is None or (found["is_private"] and not found["is_member"]):
            return None
        return found

    @operation(
        "POST",
        "/api/chat.postMessage",
        tool="chat_post_message",
        summary=(
            "Post a message to a chat channel, Slack-style. Always HTTP 200: check "
            "ok; on failure error is channel_not_found, not_in_channel, no_text or "
            "is_archived. Posted messages cannot be recalled."
        ),
        request=s.obj(
            {
                "channel": s.string("Channel id (C…) or name (#ops)."),
                "text": s.string("Message text (Slack mrkdwn)."),
                "thread_ts": s.string("Reply in the thread of this message's ts."),
                "blocks": BLOCKS,
            }
        ),
        response=POSTED,
        action="notify.send",
        write=True,
        reversible=False,
    )
    def chat_post_message(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        found = self._channel(str(params.get("channel", "")))
        text = str(params.get("text", ""))
        blocks = params.get("blocks")
        if found is None:
            return Reply(status=200, body=failure("channel_not_found"))
        if found["is_archived"]:
            return Reply(status=200, body=failure("is_archived"))
        if not found["is_member"]:
            return Reply(status=200, body=failure("not_in_channel"))
        if not text.strip() and not blocks:
            return Reply(status=200, body=failure("no_text"))
        ts = self._next_ts(found["id"])
        message: Record = {
            "type": "message",
            "text": text,
            "user": slack_id("U", ctx.identity),
            "bot_id": slack_id("B", ctx.identity),
            "ts": ts,
        }
        if "thread_ts" in params:
            message["thread_ts"] = params["thread_ts"]
        if blocks:
            message["blocks"] = blocks
        self.state["chat_messages"][f"{found['id']}:{ts}"] = {
            "id": f"{found['id']}:{ts}",
            "object": "chat_message",
            "channel": found["id"],
            "channel_name": found["name"],
            "ts": ts,
            "thread_ts": params.get("thread_ts"),
            "text": text,
            "blocks": blocks,
            "user": message["user"],
            "created": ctx.now,
        }
        effect = {"channel": found["id"], "text": text}
        if "thread_ts" in params:
            effect["thread_ts"] = params["thread_ts"]
        content = fingerprint({"text": text} if text else {"blocks": blocks})
        ctx.commit(
            business_key=f"chat:{found['id']}:{content}",
            params=effect,
            ref=f"{found['id']}:{ts}",
        )
        return Reply(
            status=200,
            body={"ok": True, "channel": found["id"], "ts": ts, "message": message},
        )

    def _next_ts(self, channel_id: str) -> str:
        """Slack's message timestamp: the time in microseconds, unique per channel."""
        micros = round(self.world.clock.epoch() * 1_000_000)
        while (
            f"{channel_id}:{micros // 1_000_000}.{micros % 1_000_000:06d}"
            in (self.state["chat_messages"])
        ):
            micros += 1
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    @operation(
        "GET",
        "/api/conversations.list",
        tool="list_channels",
        summary=(
            "List chat channels, Slack-style (conversations.list): names, ids, "
            "whether archived and whether the bot is a member. Check ok."
        ),
        request=s.obj(
            {
                "exclude_archived": s.boolean("Leave archived channels out."),
                "types": s.string(
                    "Comma-separated: public_channel (default), private_channel."
                ),
                "limit": s.integer(
                    "Channels per page, 1 to 1000 (default 100).",
                    minimum=1,
                    maximum=1000,
                ),
                "cursor": s.string("next_cursor of the previous page."),
            }
        ),
        response=CHANNELS,
    )
    def list_channels(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        types = [
            t.strip() for t in str(params.get("types", "public_channel")).split(",")
        ]
        if any(t not in TYPES for t in types):
            return Reply(status=200, body=failure("invalid_types"))
        rows = sorted(
            (
                c
                for c in self.state["channels"].values()
                if ("private_channel" if c["is_private"] else "public_channel") in types
                and (c["is_member"] or not c["is_private"])
                and not (params.get("exclude_archived") and c["is_archived"])
            ),
            key=lambda c: c["name"],
        )
        if params.get("cursor"):
            start = channel_of_cursor(params["cursor"])
            ids = [c["id"] for c in rows]
            if start not in ids:
                return Reply(status=200, body=failure("invalid_cursor"))
            rows = rows[ids.index(start) :]
        limit = int(params.get("limit", 100))
        page, rest = rows[:limit], rows[limit:]
        return Reply(
            status=200,
            body={
                "ok": True,
                "channels": page,
                "response_metadata": {
                    "next_cursor": cursor_for(rest[0]["id"]) if rest else ""
                },
            },
        )
