"""A live simulated world, reached through either front door with one calling shape.

``door.call(tool, **params)`` answers an :class:`Answer` whether the call went
through the function door (``env.tools.call``) or the HTTP door (httpx → respx →
gateway), so each business rule is written once and exercised through both.
Tests change the world by parametrizing the ``records`` or ``humans`` fixtures.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from fakes.base import Operation
from harness.errors import ToolError
from harness.run import RunSetup, prepare_run
from harness.runtime.sandbox import sandbox
from harness.scenario.loader import scenario_from_dict
from harness.scenario.model import RecordSpec, Scenario
from harness.world.history import EntryType, HistoryEntry

SEED = 1
HOUR = 3600.0
DAY = 24 * HOUR

#: The named records every test world starts with (on top of the seeded data).
RECORDS: dict[str, Any] = {
    "charge": {"service": "payments", "kind": "charge", "amount": 5000},
    "ticket": {"service": "tickets", "kind": "ticket", "charge": "$charge.id"},
}


def unchecked(spec: Mapping[str, Any]) -> Scenario:
    """Scenario ``spec`` with its records as given, past the loader's field checks
    (as a :class:`Scenario` built in Python may have them): what a fake's own
    checks refuse when the run creates the records."""
    world = spec["world"]
    scenario = scenario_from_dict({**spec, "world": {**world, "records": {}}})
    records = {
        name: RecordSpec(
            service=record["service"],
            kind=record["kind"],
            fields={k: v for k, v in record.items() if k not in ("service", "kind")},
        )
        for name, record in world["records"].items()
    }
    return replace(scenario, world=replace(scenario.world, records=records))


#: The scripted approver of the default world.
APPROVE_AFTER_2H: dict[str, Any] = {"approver": {"decision": "approve", "after": "2h"}}

#: Door kinds: the function door, and HTTP at ``<service>.sim`` or Stripe's host.
DOORS = ("function", "http")
PAYMENT_DOORS = ("function", "http", "stripe")


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What a tool call came back with, whichever door it went through."""

    status: int
    body: dict[str, Any]
    replayed: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = self.body["error"]
        return error


class Door:
    """Calls a tool by name through one front door of a prepared run."""

    kind: str

    def __init__(self, setup: RunSetup) -> None:
        self.setup = setup

    def call(
        self, tool: str, /, *, idempotency_key: str | None = None, **params: Any
    ) -> Answer:
        raise NotImplementedError


class FunctionDoor(Door):
    """``env.tools.call``: the body comes back, or a ToolError is raised.

    The function door does not hand out status codes or headers on success, so
    the status and the replay flag are read from the gateway's history entry that
    completed the call (what the gateway really answered).
    """

    kind = "function"

    def call(
        self, tool: str, /, *, idempotency_key: str | None = None, **params: Any
    ) -> Answer:
        args = dict(params)
        if idempotency_key is not None:
            args["idempotency_key"] = idempotency_key
        try:
            body = self.setup.tools.call(tool, **args)
        except ToolError as err:
            done = self._completion(tool)
            return Answer(
                status=err.status,
                body=err.body,
                replayed=bool(done.value.get("replayed")),
                headers=err.headers,
            )
        done = self._completion(tool)
        return Answer(
            status=done.value["status"],
            body=body,
            replayed=bool(done.value.get("replayed")),
        )

    def _completion(self, tool: str) -> HistoryEntry:
        for entry in reversed(list(self.setup.world.history)):
            if entry.process == "agent" and entry.type is not EntryType.INVOKE:
                assert entry.f == tool, f"last completed call was {entry.f}"
                return entry
        raise AssertionError(f"no completed call of {tool} in the history")


class HttpDoor(Door):
    """An httpx client inside the run's sandbox; payments speaks Stripe form bodies."""

    def __init__(self, setup: RunSetup, client: httpx.Client, *, kind: str) -> None:
        super().__init__(setup)
        self.client = client
        self.kind = kind
        self._ops: dict[str, Operation] = {
            op.name: op
            for service in setup.world.services.values()
            for op in service.operations
        }

    def host(self, service: str) -> str:
        if self.kind == "stripe" and service == "payments":
            return "api.stripe.com"
        return f"{service}.sim"

    def call(
        self, tool: str, /, *, idempotency_key: str | None = None, **params: Any
    ) -> Answer:
        op = self._ops[tool]
        rest = dict(params)
        path = op.path.format(**{name: rest.pop(name) for name in op.path_params})
        url = f"https://{self.host(op.service)}{path}"
        headers = (
            {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        )
        if_match = rest.pop("if_match", None) if op.conditional else None
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        if op.method == "GET":
            response = self.client.get(url, params=rest, headers=headers)
        elif op.service == "payments":
            response = self.client.request(
                op.method, url, data=stripe_form(rest), headers=headers
            )
        else:
            response = self.client.request(op.method, url, json=rest, headers=headers)
        return Answer(
            status=response.status_code,
            body=response.json(),
            replayed=response.headers.get("idempotent-replayed") == "true",
            headers=response.headers,
        )


def error(code: str, message: str, param: str | None = None) -> dict[str, Any]:
    """The house error body of the ``.sim`` services."""
    body: dict[str, Any] = {"code": code, "message": message}
    if param is not None:
        body["param"] = param
    return {"error": body}


def effects(sim: RunSetup) -> list[tuple[str, str, bool | None, str | None]]:
    """The ledger as (operation, business key, reversible, compensation)."""
    return [
        (e.operation, e.business_key, e.reversible, e.compensation)
        for e in sim.world.ledger
    ]


def stripe_form(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Stripe's form encoding: ``metadata[order]=42``, ``true``/``false``."""
    form: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            form.update(stripe_form(value, name))
        elif isinstance(value, bool):
            form[name] = "true" if value else "false"
        else:
            form[name] = str(value)
    return form


@pytest.fixture
def records() -> dict[str, Any]:
    """The scenario's named records; parametrize ``records`` to change them."""
    return copy.deepcopy(RECORDS)


@pytest.fixture
def humans() -> dict[str, Any] | None:
    """The scenario's scripted humans; parametrize ``humans`` to change them."""
    return APPROVE_AFTER_2H


@pytest.fixture
def sim(records: dict[str, Any], humans: dict[str, Any] | None) -> RunSetup:
    """A prepared run: the world, both doors, the agent's identity."""
    spec: dict[str, Any] = {
        "name": "fakes_under_test",
        "rationale": "exercise the simulated systems' business rules",
        "task": {"instructions": "x", "input": {}},
        "world": {"records": records},
    }
    if humans is not None:
        spec["humans"] = humans
    return prepare_run(scenario_from_dict(spec), seed=SEED)


@pytest.fixture
def sandboxed(sim: RunSetup) -> Iterator[RunSetup]:
    """The run's sandbox is open: every httpx client reaches the fakes."""
    with sandbox(
        clock=sim.world.clock,
        router=sim.door.router(),
        block=sim.door.gateway.block,
        seed=SEED,
        wall_timeout=None,
    ):
        yield sim


@pytest.fixture
def http(sandboxed: RunSetup) -> Iterator[httpx.Client]:
    """An httpx client that sends the agent's bearer credential, inside the sandbox."""
    auth = {"Authorization": f"Bearer {sandboxed.identity.api_key}"}
    with httpx.Client(headers=auth) as client:
        yield client


@pytest.fixture
def open_door(request: pytest.FixtureRequest, sim: RunSetup) -> Callable[[str], Door]:
    """Open the door of ``kind`` (``function``, ``http`` or ``stripe``) on ``sim``."""

    def opener(kind: str) -> Door:
        if kind == "function":
            return FunctionDoor(sim)
        client: httpx.Client = request.getfixturevalue("http")
        return HttpDoor(sim, client, kind=kind)

    return opener


@pytest.fixture(params=DOORS)
def door(request: pytest.FixtureRequest, open_door: Callable[[str], Door]) -> Door:
    """Each test runs once through the function door and once through HTTP."""
    return open_door(request.param)
