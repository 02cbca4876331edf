"""Model providers as simulated services: their wire formats, and the scripted
models that answer in them (:class:`ModelCall` is the scripts' contract)."""

from __future__ import annotations

from harness.models.call import ENDPOINTS, ModelCall
from harness.models.wire import EVENT_STREAM, complete

__all__ = ["ENDPOINTS", "EVENT_STREAM", "ModelCall", "complete"]
