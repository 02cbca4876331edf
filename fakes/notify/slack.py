"""Slack's Web API shapes for the chat side of notify: channels, messages, errors.

Slack answers HTTP 200 even when a call fails: ``{"ok": false, "error": "..."}``
with one of its error codes. Ids look like Slack's (``C…`` channels, ``U…`` users,
``B…`` bots) and are derived from names, so they are the same in every world.
"""

from __future__ import annotations

import base64
from typing import Any

from fakes import _schema as s
from fakes.base import Record, fingerprint

#: Errors of ``chat.postMessage`` this fake answers with.
POST_ERRORS = ("channel_not_found", "not_in_channel", "no_text", "is_archived")
#: Errors of ``conversations.list`` this fake answers with.
LIST_ERRORS = ("invalid_types", "invalid_cursor")
#: Conversation types ``conversations.list`` accepts (no DMs are simulated).
TYPES = ("public_channel", "private_channel", "mpim", "im")


def slack_id(prefix: str, name: str) -> str:
    """A Slack-style id (``C0A1B2C3D4E``) that depends only on ``name``."""
    return prefix + fingerprint({"slack": name})[:10].upper()


def channel(
    name: str,
    purpose: str,
    created: int,
    *,
    is_private: bool = False,
    is_archived: bool = False,
    is_member: bool = True,
    num_members: int = 12,
) -> Record:
    return {
        "id": slack_id("C", name),
        "name": name,
        "is_channel": True,
        "is_private": is_private,
        "is_archived": is_archived,
        "is_member": is_member,
        "created": created,
        "topic": {"value": ""},
        "purpose": {"value": purpose},
        "num_members": num_members,
    }


#: The seeded workspace: name, purpose and flags of each channel.
SEEDED_CHANNELS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("general", "Company-wide announcements.", {"num_members": 180}),
    ("ops", "Incidents, outages and on-call handovers.", {"num_members": 46}),
    ("finance-approvals", "Refund and payment approvals.", {"num_members": 14}),
    ("sales", "Deals, renewals and pricing questions.", {"num_members": 38}),
    ("it-helpdesk", "Laptops, access and passwords.", {"num_members": 95}),
    (
        "security-incidents",
        "Security incident response (private).",
        {"is_private": True, "num_members": 7},
    ),
    ("leadership", "Leadership team updates.", {"is_member": False, "num_members": 9}),
    (
        "billing-migration-2024",
        "The 2024 billing migration (finished).",
        {"is_archived": True, "num_members": 21},
    ),
)


def cursor_for(channel_id: str) -> str:
    """An opaque ``next_cursor`` pointing at ``channel_id``, in Slack's style."""
    return base64.b64encode(f"channel:{channel_id}".encode()).decode()


def channel_of_cursor(cursor: str) -> str | None:
    """The channel id a cursor points at, or None if it is not one of ours."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except ValueError:
        return None
    return text.removeprefix("channel:") if text.startswith("channel:") else None


def failure(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


CHANNEL = s.obj(
    {
        "id": s.string("Channel id (C…)."),
        "name": s.string("Channel name, without '#'."),
        "is_channel": s.boolean("Always true for channels."),
        "is_private": s.boolean("Private channels are visible to members only."),
        "is_archived": s.boolean("Archived channels are read-only."),
        "is_member": s.boolean("Whether the agent's bot is in the channel."),
        "created": s.integer("Unix time it was created."),
        "topic": s.obj({"value": s.string("Topic.")}, required=("value",)),
        "purpose": s.obj({"value": s.string("Purpose.")}, required=("value",)),
        "num_members": s.integer("How many members it has."),
    },
    required=("id", "name", "is_channel", "is_private", "is_archived", "is_member"),
)
BLOCKS = {
    "type": "array",
    "items": s.obj(
        {"type": s.string("Block type (section, divider, …).")},
        required=("type",),
        additional=True,
        description="A Block Kit block.",
    ),
    "description": "Block Kit layout blocks (text is then the notification text).",
}
_MESSAGE = s.obj(
    {
        "type": {"const": "message"},
        "text": s.string("The text."),
        "user": s.string("Who posted it (U…)."),
        "bot_id": s.string("The posting bot (B…)."),
        "ts": s.string("Message timestamp: its id within the channel."),
        "thread_ts": s.string("The thread's parent message, for replies."),
        "blocks": BLOCKS,
    },
    required=("type", "text", "user", "ts"),
)
POSTED = {
    "anyOf": [
        s.obj(
            {
                "ok": {"const": True},
                "channel": s.string("Channel id (C…)."),
                "ts": s.string("The message's timestamp."),
                "message": _MESSAGE,
            },
            required=("ok", "channel", "ts", "message"),
        ),
        s.obj(
            {
                "ok": {"const": False},
                "error": s.enum("Slack error code.", *POST_ERRORS),
            },
            required=("ok", "error"),
        ),
    ]
}
CHANNELS = {
    "anyOf": [
        s.obj(
            {
                "ok": {"const": True},
                "channels": {"type": "array", "items": CHANNEL},
                "response_metadata": s.obj(
                    {
                        "next_cursor": s.string(
                            "Cursor of the next page; '' at the end."
                        )
                    },
                    required=("next_cursor",),
                ),
            },
            required=("ok", "channels", "response_metadata"),
        ),
        s.obj(
            {
                "ok": {"const": False},
                "error": s.enum("Slack error code.", *LIST_ERRORS),
            },
            required=("ok", "error"),
        ),
    ]
}
