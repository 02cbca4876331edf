"""Client doors: each routes one HTTP client library into the simulation.

A door is one module here with a ``LIBRARY`` (the import name of the client it
serves; ``LIBRARIES`` when it needs more than one, e.g. a mocking library) and an
``install(exchange)`` context manager that makes every request of that library,
in any thread, go through ``exchange`` (:mod:`harness.gateway.exchange`) and come
back as the library's own response or exception. A library that is not installed
costs nothing: its door is never imported. httpx's door is the process's respx
router (:func:`harness.gateway.doors.httpx.router` hands it a run's exchange),
entered for every run, so it is not listed; the others are listed here.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import cache
from types import ModuleType

from harness.gateway.exchange import Exchange

#: Door modules, in the order they are installed.
CLIENT_DOORS: tuple[str, ...] = (
    "harness.gateway.doors.urllib3",
    "harness.gateway.doors.aiohttp",
    "harness.gateway.doors.urllib",
    "harness.gateway.doors.httpx2",
)


@cache
def available() -> tuple[ModuleType, ...]:
    """The door modules whose client library is installed here."""
    doors = []
    for name in CLIENT_DOORS:
        module = importlib.import_module(name)
        needs = getattr(module, "LIBRARIES", (module.LIBRARY,))
        if all(importlib.util.find_spec(n) is not None for n in needs):
            doors.append(module)
    return tuple(doors)


@contextmanager
def client_doors(exchange: Exchange) -> Iterator[None]:
    """Every installed client library routed through ``exchange``, until exit."""
    with ExitStack() as stack:
        for door in available():
            stack.enter_context(door.install(exchange))
        yield
