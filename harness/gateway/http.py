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
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote

import httpx

from fakes.base import FakeService, Operation
from harness.gateway.contracts import coerce
from harness.gateway.core import Gateway, ToolRequest, Transport
from harness.gateway.doors.httpx import Routing, router
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


class _Target(NamedTuple):
    """Where a URL goes: its parts as httpx reads them, and its operation (None:
    a simulated host with no such route) with the path's parameters."""

    scheme: str
    host: str
    path: str
    query: str
    op: Operation | None
    path_params: tuple[tuple[str, str], ...]


class _Routes:
    """The routes of one set of services, built once per process (a run's door
    shares them): each host's operations by method, the static paths, and a
    memo of the URLs already routed."""

    #: The most URLs the memo keeps (it starts over when full).
    MEMO = 4096

    def __init__(self, services: Sequence[FakeService]) -> None:
        self.hosts: dict[str, dict[str, list[tuple[re.Pattern[str], Operation]]]] = {}
        self.static: dict[tuple[str, str, str], Operation] = {}
        self.prefixes: dict[str, str] = {}
        self.memo: dict[tuple[str, str], _Target] = {}
        for service in services:
            self.prefixes[service.name] = service.hosts[0]
            by_method: dict[str, list[tuple[re.Pattern[str], Operation]]] = {}
            for op in service.operations:
                by_method.setdefault(op.method, []).append((_route_regex(op), op))
            for host in service.hosts:
                self.hosts[host] = by_method
                for op in service.operations:
                    if not op.path_params:
                        self.static[(host, op.method, op.path)] = op

    def target(self, method: str, url: str) -> _Target | None:
        """Where ``method url`` goes; None for a host outside the simulation."""
        key = (method, url)
        found = self.memo.get(key)
        if found is not None:
            return found
        scheme, host, path, query = split_url(url)
        routes = self.hosts.get(host)
        if routes is None:
            return None
        op = self.static.get((host, method, path))
        params: tuple[tuple[str, str], ...] = ()
        if op is None:
            for regex, candidate in routes.get(method, ()):
                matched = regex.match(path)
                if matched is not None:
                    op, params = candidate, tuple(matched.groupdict().items())
                    break
        found = _Target(scheme, host, path, query, op, params)
        if len(self.memo) >= self.MEMO:
            self.memo.clear()
        self.memo[key] = found
        return found


#: Route tables by the services they serve (name, hosts, operations), with the
#: operations kept alive so their ids stay theirs.
_TABLES: dict[tuple[tuple[str, tuple[str, ...], int], ...], tuple[object, _Routes]] = {}


def _routes(services: Iterable[FakeService]) -> _Routes:
    """The route table of ``services``: built the first time, shared after."""
    listed = tuple(services)
    key = tuple((s.name, tuple(s.hosts), id(s.operations)) for s in listed)
    found = _TABLES.get(key)
    if found is None:
        found = _TABLES[key] = (tuple(s.operations for s in listed), _Routes(listed))
    return found[1]


class HttpDoor:
    """Maps hosts and routes to operations and speaks HTTP for the gateway."""

    def __init__(self, gateway: Gateway, services: Iterable[FakeService]) -> None:
        self.gateway = gateway
        self._routes = _routes(services)
        #: Each service's name and its first host (``payments`` → ``payments.sim``).
        self.prefixes: dict[str, str] = dict(self._routes.prefixes)
        #: The simulated hosts.
        self.hosts: tuple[str, ...] = tuple(self._routes.hosts)

    def router(self) -> Routing:
        """Every httpx request sent to :meth:`exchange`, while entered (the
        process's respx router, serving this door)."""
        return router(self.exchange)

    def exchange(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        """One request as plain values (the interface every client door uses):
        the simulated host's answer, or :class:`TransportFailure`."""
        method = method.upper()
        target = self._routes.target(method, url)
        if target is None:
            scheme, host, path, _ = split_url(url)
            self.gateway.block(
                method=method, url=f"{scheme}://{host}{path}", door="http"
            )
            raise TransportFailure(
                "blocked",
                f"aqe: blocked outbound request to {host}: only simulated hosts "
                f"are reachable during a run ({', '.join(sorted(self.hosts))})",
            )
        op, query = target.op, target.query
        if op is None:
            self.gateway.unrouted(
                method=method, url=f"https://{target.host}{target.path}", door="http"
            )
            return _not_found(method, target.path)
        params: dict[str, Any] = dict(target.path_params)
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
        response = self.gateway.call(  # positional: this is the hot path
            ToolRequest(op, params, "http", credential, named.get("idempotency-key"))
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
        sent = json.dumps(response.body).encode()
        if not response.headers:  # what _reply makes of the JSON type alone
            return HttpReply(
                status=response.status,
                headers=(*_JSON, ("content-length", str(len(sent)))),
                body=sent,
            )
        return _reply(
            response.status, {**dict(_JSON), **response.headers}.items(), sent
        )


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
