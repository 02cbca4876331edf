"""The HTTP door: every request of an agent's HTTP clients is answered here.

Requests to a simulated host (``https://<service>.sim``, or a vendor host such as
``api.stripe.com``) are decoded (path, query, form or JSON body, bearer credential,
``Idempotency-Key``) and handed to the gateway. Any other host is blocked: the
client sees its own connection error and the history records a security
violation. The door works on plain values (:mod:`harness.gateway.exchange`) end
to end, so a call costs no client library's request and response objects; httpx
clients reach it through respx (:func:`harness.gateway.doors.httpx.router`),
every other client through its door.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx
import respx

from fakes.base import FakeService, Operation
from harness.gateway.contracts import coerce
from harness.gateway.core import Gateway, ToolRequest, Transport
from harness.gateway.doors.httpx import router
from harness.gateway.exchange import HttpReply, TransportFailure
from harness.gateway.formcodec import decode_form, decode_pairs

_JSON = (("content-type", "application/json"),)

#: An absolute http(s) URL that reads the same split here as through
#: ``httpx.URL`` (printable ASCII, a plain host name, no dot segments); any other
#: URL is read by ``httpx.URL`` itself.
_PLAIN_URL = re.compile(
    r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+)(?::[0-9]+)?"
    r'(?P<path>/[!-"$->@-~]*)?(?:\?(?P<query>[!-"$-~]*))?(?:#[!-~]*)?',
    re.IGNORECASE,
)


def _route_regex(op: Operation) -> re.Pattern[str]:
    pattern = re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", op.path)
    return re.compile(f"^{pattern}$")


def split_url(url: str) -> tuple[str, str, str, str]:
    """``url``'s scheme, host, path (decoded) and raw query, as httpx reads them."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None:
        scheme, host, path, query = plain.group("scheme", "host", "path", "query")
        if "/." not in (path or "") and "xn--" not in host.lower():
            path = unquote(path) if path and "%" in path else path
            return scheme.lower(), host.lower(), path or "/", query or ""
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.path, parsed.query.decode("ascii")


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """The query's pairs as ``httpx.URL.params`` lists them (grouped by name)."""
    return [
        (name, value)
        for name, values in parse_qs(query, keep_blank_values=True).items()
        for value in values
    ]


def _header_map(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers by lower-case name, repeats joined with ``", "`` (as httpx reads)."""
    found: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        found[key] = f"{found[key]}, {value}" if key in found else value
    return found


class HttpDoor:
    """Maps hosts and routes to operations and speaks HTTP for the gateway."""

    def __init__(self, gateway: Gateway, services: Iterable[FakeService]) -> None:
        self.gateway = gateway
        self._hosts: dict[str, list[tuple[str, re.Pattern[str], Operation]]] = {}
        self._static: dict[tuple[str, str, str], Operation] = {}
        #: Each service's name and its first host (``payments`` → ``payments.sim``).
        self.prefixes: dict[str, str] = {}
        for service in services:
            self.prefixes[service.name] = service.hosts[0]
            routes = [(op.method, _route_regex(op), op) for op in service.operations]
            for host in service.hosts:
                self._hosts[host] = routes
                for op in service.operations:
                    if not op.path_params:
                        self._static[(host, op.method, op.path)] = op

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(self._hosts)

    def router(self) -> respx.MockRouter:
        """A respx router sending every httpx request to :meth:`exchange`."""
        return router(self.exchange)

    def exchange(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        """One request as plain values (the interface every client door uses):
        the simulated host's answer, or :class:`TransportFailure`."""
        scheme, host, path, query = split_url(url)
        method = method.upper()
        if host not in self._hosts:
            self.gateway.block(
                method=method, url=f"{scheme}://{host}{path}", door="http"
            )
            raise TransportFailure(
                "blocked",
                f"aqe: blocked outbound request to {host}: only simulated hosts "
                f"are reachable during a run ({', '.join(sorted(self._hosts))})",
            )
        op = self._static.get((host, method, path))
        params: dict[str, Any] = {}
        if op is None:
            op, params = self._match(host, method, path)
            if op is None:
                self.gateway.unrouted(
                    method=method, url=f"https://{host}{path}", door="http"
                )
                return _not_found(method, path)
        if query:
            params.update(decode_pairs(_query_pairs(query)))
        named = _header_map(headers)
        if body:
            if named.get("content-type", "").startswith("application/json"):
                try:
                    decoded = json.loads(body)
                except ValueError:
                    return _bad_json()
                if isinstance(decoded, dict):
                    params.update(decoded)
            else:
                params.update(decode_form(body))
        coerce(op, params)
        if op.conditional:
            precondition = named.get("if-match")
            if precondition is not None:
                params["if_match"] = precondition.strip().removeprefix("W/").strip('"')
        auth = named.get("authorization", "")
        # a bearer token, or the key in Anthropic's own header
        credential = (
            auth[7:] if auth[:7].lower() == "bearer " else named.get("x-api-key")
        )
        response = self.gateway.call(
            ToolRequest(
                op=op,
                params=params,
                door="http",
                credential=credential,
                idempotency_key=named.get("idempotency-key"),
            )
        )
        if response.transport is Transport.TIMEOUT:
            raise TransportFailure("timeout", "timed out")
        if response.transport is Transport.RESET:
            raise TransportFailure("reset", "connection reset by peer")
        if response.transport is Transport.MALFORMED or response.raw is not None:
            # a malformed answer's bytes, or an answer sent as its own bytes
            return _reply(
                response.status, response.headers.items(), response.raw or b""
            )
        return _reply(
            response.status,
            {**dict(_JSON), **response.headers}.items(),
            json.dumps(response.body).encode(),
        )

    def _match(
        self, host: str, method: str, path: str
    ) -> tuple[Operation | None, dict[str, Any]]:
        for route_method, regex, op in self._hosts.get(host, ()):
            if route_method == method:
                found = regex.match(path)
                if found is not None:
                    return op, dict(found.groupdict())
        return None, {}


def _reply(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> HttpReply:
    """The answer as an httpx response would carry it: names in lower case, and
    a ``content-length`` for a body unless one is given."""
    pairs = [(name.lower(), value) for name, value in headers]
    if body and all(name != "content-length" for name, _ in pairs):
        pairs.append(("content-length", str(len(body))))
    return HttpReply(status=status, headers=tuple(pairs), body=body)


def _not_found(method: str, path: str) -> HttpReply:
    body = {
        "error": {
            "type": "invalid_request_error",
            "code": "route_not_found",
            "message": f"Unrecognized request URL ({method}: {path}).",
        }
    }
    return _reply(404, _JSON, json.dumps(body).encode())


def _bad_json() -> HttpReply:
    body = {"error": {"code": "invalid_json", "message": "The body is not valid JSON."}}
    return _reply(400, _JSON, json.dumps(body).encode())
