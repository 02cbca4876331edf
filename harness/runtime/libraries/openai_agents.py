"""The OpenAI Agents SDK's tracing, kept inside the run it traces.

The SDK traces every ``Runner.run`` and exports from ``BatchTraceProcessor``: a
worker thread, started on the first trace, that polls its queue every 0.2 s for
the life of the process and posts batches to ``api.openai.com/v1/traces/ingest``.
Started during a run, that thread would be the agent's: each of its polls would
move the run's simulated clock by 0.2 s, its posts would land in the history at
moments no seed decides, and it would outlive the agent (a thread left running).

So during a delivery the processors start no worker: their spans queue as they
would, and when the agent's code returns, every processor it used exports them
at once, in the run's thread, through the simulation (the simulated OpenAI
takes the batch; an exporter of the user's own goes where it says, and is
blocked as any other host would be). The export lands at the same point of
every run, on the run's clock. A delivery the harness stops (a budget, a hang,
``sys.exit``) exports nothing, and its queue is dropped, so no run's spans reach
another's history. The run's credential, which the default exporter keeps once
it has read it from ``OPENAI_API_KEY``, is forgotten with the run. The SDK's
public tracing switches are left as the agent set them.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

#: The module the hook acts on (``agents`` imports it).
MODULE = "agents.tracing.processors"


@contextmanager
def during_delivery(module: ModuleType) -> Iterator[None]:
    """Batch processors queue without a worker thread; what the delivery queued
    is exported when it ends (see the module docstring)."""
    cls: Any = getattr(module, "BatchTraceProcessor", None)
    start = getattr(cls, "__dict__", {}).get("_ensure_thread_started")
    if start is None:  # not the SDK this was written for: the thread check tells
        yield
        return
    used: dict[int, Any] = {}

    def deferred(self: Any) -> None:
        used.setdefault(id(self), self)

    key = _exporter_key(module)
    cls._ensure_thread_started = deferred
    finished = False
    try:
        yield
        finished = True
    except Exception:  # the agent's crash: what it traced is still its trace
        finished = True
        raise
    finally:
        cls._ensure_thread_started = start
        try:
            for processor in used.values():
                if finished:
                    processor.force_flush()
                else:
                    _drop(processor)
        finally:
            exporter = getattr(module, "_global_exporter", None)
            if exporter is not None:
                exporter.api_key = key


def _exporter_key(module: ModuleType) -> str | None:
    """The key the default exporter holds before the run (None: none yet)."""
    exporter = getattr(module, "_global_exporter", None)
    return None if exporter is None else getattr(exporter, "_api_key", None)


def _drop(processor: Any) -> None:
    """Empty a processor's queue without exporting it."""
    pending = getattr(processor, "_queue", None)
    while pending is not None:
        try:
            pending.get_nowait()
        except queue.Empty:
            return
