"""What a fault kind is: one small class, registered in :mod:`harness.faults.registry`.

A kind says which parameters it takes (with their defaults and the ones it
cannot do without), what its file checks are, how the fuzzer draws it, and what
it does: to a tool call (the ``Hook`` methods the gateway calls, in the order a
call goes through them), to the world as it is built, or to the task's delivery.
The gateway, the plan, the loader and the schema only iterate kinds; none of them
names one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from fakes.base import FakeService, Operation, Reply

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from fakes.table import Table
    from harness.faults.spec import FaultSpec
    from harness.world.world import World

#: The JSON Schema of a duration parameter (the loader parses these to seconds).
DURATION: Mapping[str, Any] = {"$ref": "#/$defs/duration"}


class Target(StrEnum):
    """What a fault acts on."""

    CALL = "call"  # matching tool calls (``match`` and ``when`` select them)
    WORLD = "world"  # the world as it is built, before the agent starts
    TASK = "task"  # the delivery of the task to the agent


class Commit(StrEnum):
    """When a timed-out call's effect commits, relative to the timeout."""

    BEFORE = "before"  # the call never reached the service: nothing committed
    AFTER = "after"  # committed, then the response was lost: ambiguous
    DELAYED = "delayed"  # committed later, after the caller gave up: ambiguous


class Transport(StrEnum):
    """How a call ended when the caller got no response."""

    TIMEOUT = "timeout"
    RESET = "reset"
    MALFORMED = "malformed"  # an answer came, but its body does not parse


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """Something wrong with one fault in a file, relative to that fault."""

    message: str
    fix: str
    #: Below the fault (``("seconds",)``); empty: the fault itself.
    path: tuple[str | int, ...] = ()
    #: The problem is about this key of the mapping at ``path``.
    key: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Lost:
    """The caller gets no answer: how it learns that, and when the effect commits."""

    fault: FaultSpec
    #: What the history says the caller saw (``timeout``, ``connection_reset``).
    seen: str
    transport: Transport
    commit: Commit
    #: Simulated seconds until the caller gives up; ``None``: at once (the
    #: service's latency).
    after: float | None
    #: For ``commit: delayed``: seconds until the effect commits.
    delay: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Garbled:
    """An answer whose body does not parse: the bytes sent and their type."""

    seen: str
    raw: bytes
    content_type: str


class Watcher(Protocol):
    """Watches every later call (an injected instruction, waiting to be acted on)."""

    @property
    def fault(self) -> str:
        """The id of the fault that planted it."""
        ...

    def acted_on(self, tool: str, params: Mapping[str, Any]) -> str | None: ...


@dataclass(slots=True, kw_only=True)
class Call:
    """One tool call as the kinds' :meth:`Kind.before_call` hooks see it."""

    world: World
    service: FakeService
    op: Operation
    params: Mapping[str, Any]
    number: int
    #: Set by a fault that loses the answer (the last such fault wins).
    lost: Lost | None = None
    #: Set by a fault that garbles the answer (the last such fault wins).
    garbled: FaultSpec | None = None
    #: Batch items (from 0) that fail.
    failing: frozenset[int] = frozenset()


@dataclass(slots=True, kw_only=True)
class Answer:
    """A copy of a successful answer, as response faults change it in turn."""

    body: dict[str, Any]
    #: The records in it: its ``data`` list, or the body itself.
    records: list[Any]
    tables: Mapping[str, Table]


@dataclass(slots=True, kw_only=True)
class Firing:
    """A fault about to fire on a call: what its draws may depend on."""

    index: int  # the n-th call this fault matched
    now: float
    caller: str
    op: Operation
    params: Mapping[str, Any]
    seed: int
    #: This fault's own state across the run (a rate limit's buckets).
    state: dict[str, Any] = field(default_factory=dict)

    def rng(self, fault: FaultSpec, purpose: str) -> random.Random:
        """A stream seeded by (run seed, purpose, fault id, match index) only."""
        return random.Random(f"aqe:{self.seed}:{purpose}:{fault.id}:{self.index}")


class Plan(Protocol):
    """What a world or task fault needs of the fault plan: to record its firing."""

    def record(
        self, spec: FaultSpec, history: Any, *, now: float, **extra: Any
    ) -> None: ...


class Kind:
    """A fault kind. Subclass, set the class attributes, override the hooks used.

    Register it with :func:`harness.faults.registry.register` in a module of
    :mod:`harness.faults.kinds` (one module per kind; the package loads them all).
    """

    #: The name scenarios write (``kind: timeout``).
    name: ClassVar[str]
    #: One line for the schema and the README's fault table.
    summary: ClassVar[str]
    #: The README's fault table: its parameters, and what the agent sees.
    doc_params: ClassVar[str] = "none"
    doc_sees: ClassVar[str]
    #: Its place in the fault table, which is also the fuzzer's order of
    #: simplicity (lower first).
    order: ClassVar[int]
    target: ClassVar[Target] = Target.CALL
    #: The parameters it takes, in the order its messages list them.
    params: ClassVar[tuple[str, ...]] = ()
    #: The parameters it cannot do without, each with an example for the fix line.
    required: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: JSON Schemas of the parameters only this kind takes (shared ones are in
    #: :mod:`harness.faults.params`).
    schemas: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    #: Extra ``if``/``then`` rules for the schema (the checks say them in words).
    rules: ClassVar[tuple[Mapping[str, Any], ...]] = ()
    #: Schema definitions its parameters refer to (``#/$defs/<name>``).
    defs: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    #: Parameters the fuzzer draws, simplest (or most common) first.
    choices: ClassVar[tuple[Mapping[str, Any], ...]] = ()
    #: Drawn by default: it needs no knowledge of the scenario's data.
    generic: ClassVar[bool] = True
    #: It changes a successful answer (see :meth:`respond`).
    changes_answer: ClassVar[bool] = False
    #: It changes a successful reply as sent, bytes included (see :meth:`resend`).
    changes_reply: ClassVar[bool] = False
    #: Whether it acts on model calls (``match: {service: openai}``): a kind that
    #: rewrites a tool's data has nothing to act on in a model's answer.
    on_models: ClassVar[bool] = False

    @property
    def needs_params(self) -> bool:
        """Whether the fuzzer needs a parameter strategy for it to draw it."""
        return bool(self.required)

    # -- the file -----------------------------------------------------------------

    def load(self, params: dict[str, Any]) -> None:
        """Fill in defaults (durations are already parsed to seconds)."""

    def check(self, fault: Mapping[str, Any]) -> Iterator[Issue]:
        """What is wrong with ``fault`` that its JSON Schema cannot say."""
        return iter(())

    def strategy(self) -> SearchStrategy[dict[str, Any]]:
        """The fuzzer's strategy for its parameters."""
        from hypothesis import strategies as st

        return st.sampled_from([dict(c) for c in self.choices or ({},)])

    def can_hit(self, op: Operation) -> bool:
        """Whether a fault of this kind can hit calls to ``op`` at all."""
        return True

    # -- a call -------------------------------------------------------------------

    def applies(
        self, fault: FaultSpec, op: Operation, params: Mapping[str, Any]
    ) -> bool:
        """Whether ``fault`` matches this call, beyond its ``match``."""
        return True

    def draw(self, fault: FaultSpec, firing: Firing) -> dict[str, Any] | None:
        """Parameters this firing draws or computes; ``None``: it does not fire."""
        return {}

    def before_call(self, fault: FaultSpec, call: Call) -> Reply | None:
        """Act before the call reaches the service; a reply ends the call."""
        return None

    def respond(self, fault: FaultSpec, answer: Answer) -> None:
        """Change a successful answer (when :attr:`changes_answer`)."""

    def resend(
        self, fault: FaultSpec, reply: Reply, request: Mapping[str, Any]
    ) -> Reply:
        """The successful ``reply`` to ``request`` as it reaches the caller
        (when :attr:`changes_reply`): its body and, for an answer sent as its
        own bytes (a model's event stream), those bytes."""
        return reply

    def watcher(self, fault: FaultSpec) -> Watcher | None:
        """What to watch later calls for, once the agent has read the answer."""
        return None

    def garble(self, fault: FaultSpec, body: Mapping[str, Any]) -> Garbled:
        """The unparseable answer sent instead of ``body``."""
        raise NotImplementedError(self.name)

    # -- the world and the task ------------------------------------------------------

    def on_world(
        self, fault: FaultSpec, world: World, plan: Plan, *, scenario: str
    ) -> None:
        """Change the world as it is built (``target: world``)."""

    def redelivery(self, fault: FaultSpec) -> float | None:
        """Seconds after the agent finished until the task arrives again."""
        return None


def shown(value: Any, limit: int = 40) -> str:
    """``repr`` of a value, cut to ``limit`` characters (as the loader shows values)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
