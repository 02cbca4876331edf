"""Cassettes: recorded model answers, replayed by a canonical key.

A cassette is a JSON Lines file, one recorded exchange a line, reviewed like
code::

    {"key": "…", "provider": "openai", "endpoint": "chat.completions",
     "request": {…the parts that decide the answer…},
     "status": 200, "response": {…the provider's whole, non-streaming body…}}

The key is a hash of the canonical request: provider, endpoint, and the body's
fields that change the answer (model, messages, system, tools, sampling
parameters, …), never ``stream`` (a streamed request replays from the whole body,
which is streamed again), never headers (the API key is never stored). A request
with no recorded match is a miss: :class:`NoRecordedAnswer` names the cassette and
shows the difference from the nearest recorded request; it never falls through to
a live call.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.files import write_atomic

#: Body fields that never change the answer (how it is delivered, who asks).
_DELIVERY = frozenset(
    {
        "stream",
        "stream_options",
        "user",
        "metadata",
        "store",
        "service_tier",
        "safety_identifier",
    }
)


class NoRecordedAnswer(HarnessError):
    """A replayed request that the cassette has no answer for."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One recorded request and the provider's answer."""

    provider: str
    endpoint: str
    request: Mapping[str, Any]
    status: int
    response: Mapping[str, Any]
    #: The answer's headers an SDK acts on (``retry-after``), when it had any.
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return request_key(self.provider, self.endpoint, self.request)

    def to_line(self) -> str:
        line = {
            "key": self.key,
            "provider": self.provider,
            "endpoint": self.endpoint,
            "request": self.request,
            "status": self.status,
            "response": self.response,
        }
        if self.headers:
            line["headers"] = dict(self.headers)
        return json.dumps(
            line,
            sort_keys=True,
            separators=(",", ":"),
        )


def canonical(body: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a request body that decide the answer."""
    return {k: v for k, v in sorted(body.items()) if k not in _DELIVERY}


def request_key(provider: str, endpoint: str, body: Mapping[str, Any]) -> str:
    text = json.dumps(
        [provider, endpoint, canonical(body)], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


class Cassette:
    """The recorded exchanges of one file, looked up by key, in order.

    The same request asked twice in a run (an agent that retries) gets the
    answers recorded for it in the order they were recorded; past the last, the
    last again.
    """

    def __init__(
        self, path: Path, exchanges: list[Exchange], *, exists: bool = True
    ) -> None:
        self.path = path
        self.exchanges = exchanges
        #: Whether the file was there when it was read.
        self.exists = exists
        self._asked: dict[str, int] = {}

    @classmethod
    def load(cls, path: Path) -> Cassette:
        """Read a cassette; a missing file is an empty cassette."""
        if not path.exists():
            return cls(path, [], exists=False)
        exchanges = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            exchanges.append(_read_line(path, number, line))
        return cls(path, exchanges)

    def answer(self, provider: str, endpoint: str, body: Mapping[str, Any]) -> Exchange:
        """The recorded answer to this request, or :class:`NoRecordedAnswer`."""
        key = request_key(provider, endpoint, body)
        matches = [e for e in self.exchanges if e.key == key]
        if not matches:
            raise NoRecordedAnswer(self._miss(provider, endpoint, body))
        asked = self._asked.get(key, 0)
        self._asked[key] = asked + 1
        return matches[min(asked, len(matches) - 1)]

    def record(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)

    def save(self) -> None:
        """Write the cassette atomically (a reader never sees half a file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(e.to_line() + "\n" for e in self.exchanges)
        write_atomic(self.path, text.encode())

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.exchanges)

    def _miss(self, provider: str, endpoint: str, body: Mapping[str, Any]) -> str:
        asked = canonical(body)
        head = (
            f"model: no recorded answer in {self.path} for this {provider} "
            f"{endpoint} request"
        )
        fix = (
            "    fix: record the run again (--aqe-model-mode record) and review the "
            "cassette's diff, or undo the change to the prompt"
        )
        same = [
            e
            for e in self.exchanges
            if (e.provider, e.endpoint) == (provider, endpoint)
        ]
        if not self.exists:
            return (
                f"{head}; there is no cassette at that path\n"
                "    fix: record it (--aqe-model-mode record), then review and"
                " commit it"
            )
        if not same:
            none = f"the cassette has no {provider} {endpoint} request at all"
            return f"{head}; {none}\n{fix}"
        nearest = max(same, key=lambda e: _likeness(e.request, asked))
        diff = difflib.unified_diff(
            _pretty(nearest.request),
            _pretty(asked),
            "recorded",
            "asked",
            lineterm="",
            n=2,
        )
        shown = "\n".join("    " + line for line in diff)
        return f"{head}; the nearest recorded request differs:\n{shown}\n{fix}"


def _likeness(recorded: Mapping[str, Any], asked: Mapping[str, Any]) -> float:
    return difflib.SequenceMatcher(None, _pretty(recorded), _pretty(asked)).ratio()


def _pretty(body: Mapping[str, Any]) -> list[str]:
    return json.dumps(body, sort_keys=True, indent=2).splitlines()


def _read_line(path: Path, number: int, line: str) -> Exchange:
    where = f"{path}:{number}"
    fix = (
        "    fix: record the cassette again (--aqe-model-mode record), or restore"
        " the line"
    )
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{where}: not a JSON line ({exc.msg})\n{fix}") from None
    if not isinstance(raw, dict):
        raise HarnessError(f"{where}: a recorded exchange is an object\n{fix}")
    missing = [
        k
        for k in ("provider", "endpoint", "request", "status", "response")
        if k not in raw
    ]
    if missing:
        raise HarnessError(f"{where}: the exchange has no {', '.join(missing)}\n{fix}")
    if not isinstance(raw["request"], dict) or not isinstance(raw["response"], dict):
        raise HarnessError(f"{where}: request and response are objects\n{fix}")
    headers = raw.get("headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise HarnessError(f"{where}: headers are an object of strings\n{fix}")
    exchange = Exchange(
        provider=str(raw["provider"]),
        endpoint=str(raw["endpoint"]),
        request=raw["request"],
        status=int(raw["status"]),
        response=raw["response"],
        headers=headers,
    )
    if raw.get("key") not in (None, exchange.key):
        raise HarnessError(
            f"{where}: the key does not match the request (the request was edited by"
            " hand?)\n    fix: record the cassette again (--aqe-model-mode record)"
        )
    return exchange
