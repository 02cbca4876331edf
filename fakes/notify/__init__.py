"""Email, chat and Slack; importing this package registers the service."""

from __future__ import annotations

from fakes.notify.service import MESSAGE, Notify
from fakes.registry import register_service

register_service(Notify)

__all__ = ["MESSAGE", "Notify"]
