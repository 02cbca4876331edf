"""The HTTP door: every httpx client in a run is routed here by respx.

Requests to a simulated host (``https://<service>.sim``, or a vendor host such as
``api.stripe.com``) are decoded (path, query, form or JSON body, bearer credential,
``Idempotency-Key``) and handed to the gateway. Any other host is blocked: the agent
sees ``httpx.ConnectError`` and the history records a security violation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import httpx
import respx

from fakes.base import FakeService, Operation
from harness.gateway.contracts import coerce
from harness.gateway.core import Gateway, ToolRequest, Transport
from harness.gateway.exchange import HttpReply, TransportFailure
from harness.gateway.formcodec import decode_form, decode_pairs

_JSON = {"content-type": "application/json"}


def _route_regex(op: Operation) -> re.Pattern[str]:
    pattern = re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", op.path)
    return re.compile(f"^{pattern}$")


class HttpDoor:
    """Maps hosts and routes to operations and speaks HTTP for the gateway."""

    def __init__(self, gateway: Gateway, services: Iterable[FakeService]) -> None:
        self.gateway = gateway
        self._hosts: dict[str, list[tuple[str, re.Pattern[str], Operation]]] = {}
        self._static: dict[tuple[str, str, str], Operation] = {}
        for service in services:
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
        """A respx router sending simulated hosts here and blocking every other."""
        router = respx.MockRouter(
            assert_all_called=False, assert_all_mocked=False, using="httpx"
        )
        # one catch-all route: building a route per host costs milliseconds a run
        router.route().mock(side_effect=self.dispatch)
        return router

    def dispatch(self, request: httpx.Request) -> httpx.Response:
        """A simulated host's answer; any other host is blocked."""
        if request.url.host in self._hosts:
            return self.handle(request)
        return self.block(request)

    def exchange(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        """One request as plain values (the interface every client door uses):
        the simulated host's answer, or :class:`TransportFailure`."""
        request = httpx.Request(method, url, headers=headers, content=body)
        try:
            if request.url.host in self._hosts:
                response = self.handle(request)
            else:
                self.block(request)  # raises
                raise AssertionError("unreachable")  # pragma: no cover
        except httpx.ReadTimeout as exc:
            raise TransportFailure("timeout", str(exc)) from None
        except httpx.RemoteProtocolError as exc:
            raise TransportFailure("reset", str(exc)) from None
        except httpx.ConnectError as exc:
            raise TransportFailure("blocked", str(exc)) from None
        return HttpReply(
            status=response.status_code,
            headers=tuple(response.headers.multi_items()),
            body=response.content,
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host, method, path = url.host, request.method, url.path
        op = self._static.get((host, method, path))
        params: dict[str, Any] = {}
        if op is None:
            op, params = self._match(host, method, path)
            if op is None:
                self.gateway.unrouted(
                    method=method, url=f"https://{host}{path}", door="http"
                )
                return self._not_found(method, path)
        if url.query:
            params.update(decode_pairs(url.params.multi_items()))
        content = request.content
        if content:
            if request.headers.get("content-type", "").startswith("application/json"):
                try:
                    body = json.loads(content)
                except ValueError:
                    return _bad_json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                params.update(decode_form(content))
        coerce(op, params)
        if op.conditional:
            precondition = request.headers.get("if-match")
            if precondition is not None:
                params["if_match"] = precondition.strip().removeprefix("W/").strip('"')
        auth = request.headers.get("authorization", "")
        credential = auth[7:] if auth[:7].lower() == "bearer " else None
        response = self.gateway.call(
            ToolRequest(
                op=op,
                params=params,
                door="http",
                credential=credential,
                idempotency_key=request.headers.get("idempotency-key"),
            )
        )
        if response.transport is Transport.TIMEOUT:
            raise httpx.ReadTimeout("timed out", request=request)
        if response.transport is Transport.RESET:
            raise httpx.RemoteProtocolError("connection reset by peer", request=request)
        if response.transport is Transport.MALFORMED:
            return httpx.Response(
                response.status, headers=response.headers, content=response.raw or b""
            )
        headers = {**_JSON, **response.headers}
        return httpx.Response(
            response.status,
            headers=headers,
            content=json.dumps(response.body).encode(),
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

    def block(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        self.gateway.block(
            method=request.method,
            url=f"{url.scheme}://{url.host}{url.path}",
            door="http",
        )
        raise httpx.ConnectError(
            f"aqe: blocked outbound request to {url.host}: only simulated hosts "
            f"are reachable during a run ({', '.join(sorted(self._hosts))})",
            request=request,
        )

    @staticmethod
    def _not_found(method: str, path: str) -> httpx.Response:
        body = {
            "error": {
                "type": "invalid_request_error",
                "code": "route_not_found",
                "message": f"Unrecognized request URL ({method}: {path}).",
            }
        }
        return httpx.Response(404, headers=_JSON, content=json.dumps(body).encode())


def _bad_json() -> httpx.Response:
    body = {"error": {"code": "invalid_json", "message": "The body is not valid JSON."}}
    return httpx.Response(400, headers=_JSON, content=json.dumps(body).encode())
