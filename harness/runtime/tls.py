"""One default TLS context per process for the clients a run builds.

An SDK builds its HTTP client when the agent builds it (``openai.OpenAI()`` in
the agent, once a run, as the SDKs' docs show), and the client's transport builds
an SSL context with the CA certificates loaded: tens of milliseconds of parsing
PEM files, for a context no request of the run uses (every request goes to the
simulation). While a run is open, the transports of httpx and httpx2 that ask
for the default context (``verify=True``, no client certificate) share one per
process, as requests shares its preloaded one; a transport given its own context,
``verify=False`` or a certificate builds its context as it always does. The
context is the one the library would build (same CA files, read from the same
variables), so a request to an allowed host verifies as it would have.

Under process isolation each run is a fresh process, so "once per process" is
once per run: the fork server builds the contexts of the transports it has
imported before it forks (:func:`prebuild`), and every run's process inherits
them, its own copy, instead of parsing the CA files again (~20 ms a run).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from types import ModuleType
from typing import Any

#: The transport modules whose ``create_ssl_context`` a run shares (each module
#: imported ``create_ssl_context`` by name from its package's ``_config``).
TRANSPORT_MODULES = ("httpx._transports.default", "httpx2._transports.default")
#: The variables a default context's CA files come from (with ``trust_env``).
_CA_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")

_NAME = "create_ssl_context"
_SHARED: dict[tuple[Any, ...], ssl.SSLContext] = {}
_LOCK = threading.Lock()


@cache
def _transport_modules() -> tuple[ModuleType, ...]:
    """The transport modules of the installed libraries (imported once)."""
    found = []
    for name in TRANSPORT_MODULES:
        if importlib.util.find_spec(name.partition(".")[0]) is not None:
            found.append(importlib.import_module(name))
    return tuple(found)


def _key(module: str, trust_env: bool) -> tuple[Any, ...]:
    """What a default context depends on: the transport, and the CA variables
    when it trusts the environment."""
    return (
        module,
        trust_env,
        *(os.environ.get(name) if trust_env else None for name in _CA_VARIABLES),
    )


def _shared(
    module: str, build: Callable[..., ssl.SSLContext], trust_env: bool
) -> ssl.SSLContext:
    key = _key(module, trust_env)
    context = _SHARED.get(key)
    if context is None:
        with _LOCK:
            context = _SHARED.get(key)
            if context is None:
                context = build(verify=True, cert=None, trust_env=trust_env)
                _SHARED[key] = context
    return context


def _sharing(module: str, build: Callable[..., ssl.SSLContext]) -> Callable[..., Any]:
    def create_ssl_context(
        verify: Any = True, cert: Any = None, trust_env: bool = True
    ) -> ssl.SSLContext:
        if verify is not True or cert:
            return build(verify=verify, cert=cert, trust_env=trust_env)
        return _shared(module, build, trust_env)

    create_ssl_context.__wrapped__ = build  # type: ignore[attr-defined]
    return create_ssl_context


def prebuild() -> None:
    """Build now the default context (trusting the environment, as clients do
    unless told not to) of each transport module already imported, to be
    shared by the clients runs build: a fork server asks before it forks.
    Nothing is imported here: a transport no run has used costs nothing."""
    for name in TRANSPORT_MODULES:
        module = sys.modules.get(name)
        build = getattr(module, _NAME, None)
        if module is None or not callable(build):
            continue
        _shared(name, getattr(build, "__wrapped__", build), True)


@contextmanager
def shared_tls_contexts() -> Iterator[None]:
    """The default TLS context of httpx and httpx2 transports built once per
    process, until exit (see the module docstring)."""
    patched: list[tuple[ModuleType, Any]] = []
    try:
        for module in _transport_modules():
            original = getattr(module, _NAME)
            setattr(module, _NAME, _sharing(module.__name__, original))
            patched.append((module, original))
        yield
    finally:
        for module, original in reversed(patched):
            setattr(module, _NAME, original)
