"""The wire between the harness and an agent's process: length-prefixed JSON.

Each message is a 4-byte big-endian length and that many bytes of UTF-8 JSON
(bytes travel as base64 strings). JSON, not pickle, on purpose: the harness reads
what the agent's process sends, and unpickling it would run the agent's code in
the harness. A frame over :data:`MAX_FRAME` is refused, so a hostile process
cannot make the harness allocate without bound.
"""

from __future__ import annotations

import base64
import json
import socket
import struct
from typing import Any

#: The largest message either side accepts (a tool call's body, an HTTP body).
MAX_FRAME = 64 * 1024 * 1024
_HEADER = struct.Struct(">I")


class WireError(Exception):
    """The other side sent something that is not a message, or went away."""

    def __init__(self, message: str, *, closed: bool = False) -> None:
        super().__init__(message)
        #: Whether the other side went away (else it sent something unreadable).
        self.closed = closed


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > MAX_FRAME:
        raise WireError(f"message of {len(data)} bytes is over {MAX_FRAME}")
    sock.sendall(_HEADER.pack(len(data)) + data)


def recv(sock: socket.socket) -> dict[str, Any]:
    """The next message; :class:`WireError` at end of stream or on a bad frame."""
    (size,) = _HEADER.unpack(_exactly(sock, _HEADER.size))
    if size > MAX_FRAME:
        raise WireError(f"a frame of {size} bytes is over the {MAX_FRAME} limit")
    try:
        message = json.loads(_exactly(sock, size))
    except ValueError as exc:
        raise WireError(f"a frame that is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise WireError(f"a frame that is a {type(message).__name__}, not an object")
    return message


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    missing = size
    while missing:
        try:
            chunk = sock.recv(min(missing, 1 << 20))
        except TimeoutError:
            raise WireError("no complete message in time") from None
        except OSError as exc:
            raise WireError(f"the connection failed: {exc}", closed=True) from None
        if not chunk:
            raise WireError("the other side closed the connection", closed=True)
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def pack_bytes(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unpack_bytes(text: object) -> bytes:
    if not isinstance(text, str):
        raise WireError(f"expected base64 text, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise WireError("invalid base64 text") from None
