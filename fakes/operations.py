"""What a service answers, and the operations it declares with :func:`operation`.

Each operation carries its JSON Schema contract; the gateway validates requests
and responses against it, renders it as a function-calling spec, and routes HTTP
requests to it by method and path. :mod:`fakes.base` re-exports every name here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from fakes.base import CallContext, FakeService


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """What a service answers: status, JSON body, headers; and, for an answer
    sent as other bytes than the body's JSON (a model's event stream), those
    bytes (``headers`` has their content type; ``body`` is what they carry)."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    raw: bytes | None = None


class ServiceError(Exception):
    """Raised by a handler to answer with an error status (no effect committed)."""

    def __init__(
        self,
        status: int,
        body: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {body}")
        self.reply = Reply(status=status, body=body, headers=dict(headers or {}))


Handler = Callable[["FakeService", "CallContext", dict[str, Any]], Reply]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Operation:
    """One operation of a service: its routes, contract and handler.

    Compared and hashed by identity: each operation is declared exactly once.
    """

    service: str
    name: str
    method: str
    path: str
    summary: str
    request: Mapping[str, Any]
    response: Mapping[str, Any]
    handler: Handler
    status: int = 200
    action: str | None = None
    write: bool = False
    idempotent: bool = False
    approval_params: tuple[str, ...] = ()
    #: Writes only: whether the effect can be undone, and the tool that undoes it.
    reversible: bool | None = None
    compensation: str | None = None
    #: Accepts a precondition: ``If-Match`` over HTTP, ``if_match`` as a tool arg.
    conditional: bool = False
    #: Batch operations only: the request's list of items, each handled on its
    #: own (some may commit while others fail).
    batch: str | None = None

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))

    @property
    def verb(self) -> str:
        """What a policy pack calls this: ``read``, or its action's verb."""
        return self.action.split(".", 1)[1] if self.action else "read"

    @property
    def resource(self) -> str:
        """The resource it acts on: the path's first segment after the version
        (``/v1/purchase-orders/{id}`` -> ``purchase_orders``; Slack's
        ``/api/chat.postMessage`` -> ``chat``)."""
        parts = [p for p in self.path.split("/") if p and not p.startswith("{")]
        if parts and (parts[0] in ("api",) or re.fullmatch(r"v\d+", parts[0])):
            parts = parts[1:]
        head = parts[0] if parts else self.service
        return head.split(".", 1)[0].replace("-", "_")


_F = TypeVar("_F", bound=Callable[..., Reply])


def operation(
    method: str,
    path: str,
    *,
    tool: str,
    summary: str,
    request: Mapping[str, Any],
    response: Mapping[str, Any],
    status: int = 200,
    action: str | None = None,
    write: bool = False,
    idempotent: bool = False,
    approval_params: tuple[str, ...] = (),
    reversible: bool | None = None,
    compensation: str | None = None,
    conditional: bool = False,
    batch: str | None = None,
) -> Callable[[_F], _F]:
    """Declare a handler method as an operation of its service.

    ``reversible``/``compensation`` say whether a write can be undone and by which
    tool (cancelling a purchase order compensates raising it; a posting is
    irreversible). ``conditional`` operations take an ETag precondition, which
    the handler receives as ``params["if_match"]``. ``batch`` names the request
    list of a batch operation, whose handler answers with :meth:`FakeService.batch`.
    """

    def decorate(func: _F) -> _F:
        func.__aqe_operation__ = {  # type: ignore[attr-defined]
            "name": tool,
            "method": method,
            "path": path,
            "summary": summary,
            "request": request,
            "response": response,
            "status": status,
            "action": action,
            "write": write,
            "idempotent": idempotent,
            "approval_params": approval_params,
            "reversible": reversible,
            "compensation": compensation,
            "conditional": conditional,
            "batch": batch,
        }
        return func

    return decorate


IF_MATCH: dict[str, Any] = {
    "type": "string",
    "description": (
        "The record's etag as last read: the write fails with 412 if the record "
        "changed since (re-read it and decide again)."
    ),
}


def with_precondition(spec: dict[str, Any]) -> dict[str, Any]:
    """A conditional operation's request contract also admits ``if_match``."""
    if not spec["conditional"]:
        return spec
    request = dict(spec["request"])
    request["properties"] = {**request.get("properties", {}), "if_match": IF_MATCH}
    return {**spec, "request": request}
