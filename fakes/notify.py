"""Outbound notifications: email and chat messages, each a ledgered side effect."""

from __future__ import annotations

from typing import Any, ClassVar

from fakes import _schema as s
from fakes.base import CallContext, FakeService, Record, Reply, fingerprint, operation

MESSAGE = s.obj(
    {
        "id": s.string("Message id (msg_…)."),
        "object": {"const": "message"},
        "channel": s.enum("Delivery channel.", "email", "chat"),
        "to": s.string("Recipient: an email address or a chat channel."),
        "subject": s.nullable(s.string("Subject (email).")),
        "body": s.string("Text."),
        "status": s.enum("Delivery status.", "sent"),
        "created": {"type": "integer"},
    },
    required=("id", "object", "channel", "to", "body", "status", "created"),
)


class Notify(FakeService):
    """Email and chat delivery."""

    name: ClassVar[str] = "notify"
    hosts: ClassVar[tuple[str, ...]] = ("notify.sim",)
    collections: ClassVar[tuple[str, ...]] = ("messages",)

    @operation(
        "POST",
        "/v1/messages",
        tool="send_message",
        summary="Send an email or a chat message. Sent messages cannot be recalled.",
        request=s.obj(
            {
                "channel": s.enum("Delivery channel.", "email", "chat"),
                "to": s.string("Recipient email address or chat channel.", minLength=1),
                "subject": s.string("Subject line (email)."),
                "body": s.string("Message text.", minLength=1),
            },
            required=("channel", "to", "body"),
        ),
        response=MESSAGE,
        status=201,
        action="notify.send",
        write=True,
    )
    def send_message(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
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
            "created": ctx.now,
        }
        self.state["messages"][message["id"]] = message
        content = fingerprint({"subject": message["subject"], "body": message["body"]})
        ctx.commit(
            business_key=f"message:{message['channel']}:{message['to']}:{content}",
            params=params,
            ref=message["id"],
        )
        return Reply(status=201, body=message)

    @operation(
        "GET",
        "/v1/messages/{message}",
        tool="get_message",
        summary="Read a sent message.",
        request=s.by_id("message", "Message id (msg_…)."),
        response=MESSAGE,
    )
    def get_message(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        message = self.state["messages"].get(params["message"])
        if message is None:
            raise self.error(
                404, "not_found", f"No such message: '{params['message']}'"
            )
        return Reply(status=200, body=message)
