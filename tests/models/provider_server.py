"""A provider-compatible HTTP server on 127.0.0.1, for the record and live paths:
it speaks OpenAI's Chat Completions and Anthropic's Messages, answers from a
scripted model, and wants the user's own key (nothing here reaches a network)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from harness.models import ModelCall, complete
from harness.models.source import Script

ENDPOINTS = {
    "/v1/chat/completions": ("openai", "chat.completions"),
    "/v1/responses": ("openai", "responses"),
    "/v1/messages": ("anthropic", "messages"),
}


class ProviderServer:
    """What the server was asked, and by whom."""

    def __init__(self, script: Script, key: str, rate_limited: int = 0) -> None:
        self.script, self.key = script, key
        #: Answer this many first requests with a 429 (``retry-after: 7``).
        self.rate_limited = rate_limited
        self.requests: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.url = ""


@contextmanager
def provider_server(
    script: Script, *, key: str, rate_limited: int = 0
) -> Iterator[ProviderServer]:
    state = ProviderServer(script, key, rate_limited)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            provider, endpoint = ENDPOINTS[self.path]
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            given = self.headers.get("x-api-key") or self.headers.get(
                "authorization", ""
            ).removeprefix("Bearer ")
            state.keys.append(given)
            state.requests.append(body)
            if given != state.key:
                self._send(401, {"error": {"message": "bad key", "type": "auth"}})
                return
            if len(state.requests) <= state.rate_limited:
                slow = {"error": {"message": "slow down", "type": "requests"}}
                self._send(429, slow, {"retry-after": "7"})
                return
            call = ModelCall(
                provider=provider,  # type: ignore[arg-type]
                endpoint=endpoint,  # type: ignore[arg-type]
                body=body,
                seed=0,
                index=len(state.requests) - 1 - state.rate_limited,
            )
            answer, _ = complete(call, state.script(call))
            self._send(200, answer)

        def _send(self, status: int, body: dict[str, Any], headers: Any = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    # one thread, started before any run: a run counts threads it starts as its own
    server = HTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
