"""Server-sent events, as model providers stream them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any


def event(data: Any, *, name: str | None = None) -> bytes:
    """One event: ``event: NAME`` (when given) and one ``data:`` line of JSON."""
    head = f"event: {name}\n" if name else ""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"{head}data: {payload}\n\n".encode()


def stream(events: Iterable[bytes]) -> bytes:
    return b"".join(events)


_PIECE = re.compile(r"\S*\s*")


def pieces(text: str, *, size: int = 24) -> Iterator[str]:
    """``text`` cut as a model streams it: a few words at a time, never empty,
    the same cuts every time; joined, the pieces are ``text``."""
    piece = ""
    for word in _PIECE.findall(text):
        if piece and len(piece) + len(word) > size:
            yield piece
            piece = ""
        piece += word
        while len(piece) > size:
            yield piece[:size]
            piece = piece[size:]
    if piece:
        yield piece
