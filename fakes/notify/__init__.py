"""Outbound notifications: email, chat, and a Slack-compatible chat API.

The service is :class:`Notify` (:mod:`fakes.notify.service`); importing this package
registers it with :mod:`fakes.registry`.
"""

from __future__ import annotations

from fakes.notify.service import (
    MESSAGE,
    Notify,
)
from fakes.registry import register_service

register_service(Notify)

__all__ = [
    "MESSAGE",
    "Notify",
]
