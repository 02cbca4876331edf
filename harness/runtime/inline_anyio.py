"""``anyio.to_thread.run_sync`` inside a run: the work runs inline, as
``asyncio.to_thread`` does here (:mod:`harness.runtime.sandbox`).

Pydantic AI, Starlette and other anyio code hand sync work to anyio's own worker
threads, not to a ``ThreadPoolExecutor``. In a run, an agent thread's call runs
at once, in the calling (event loop) thread, so its tool calls come in the order
inline code would make them and no timer of another task fires while it works.
``anyio.from_thread.run_sync`` from that work calls its function at once (the
loop is this thread); ``anyio.from_thread.run`` cannot wait for the loop it is
running on, and says so.

Only where anyio is already imported when the run starts (an agent imports its
libraries before it runs); otherwise anyio's workers are ordinary agent threads.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable
from contextlib import ExitStack
from functools import cache
from typing import Any, TypeVar, cast

T = TypeVar("T")

_inline = threading.local()


@cache
def _anyio() -> tuple[Any, Any, Callable[[], Any]] | None:
    """anyio's asyncio backend class, its thread-locals and ``current_token``
    (found once per process, once anyio is imported), or None in a layout of
    anyio's that has them elsewhere."""
    try:
        from anyio._backends import _asyncio as backend
        from anyio._core._eventloop import threadlocals
        from anyio.lowlevel import current_token
    except ImportError:
        return None
    return backend.AsyncIOBackend, threadlocals, current_token


def inline_anyio(mine: Callable[[], bool], stack: ExitStack) -> None:
    """Patch anyio's asyncio backend for the run; ``stack`` restores it."""
    if "anyio" not in sys.modules:
        return
    found = _anyio()
    if found is None:  # another layout: its workers stay ordinary agent threads
        return
    cls, threadlocals, current_token = found
    to_thread = cls.__dict__.get("run_sync_in_worker_thread")
    sync_back = cls.__dict__.get("run_sync_from_thread")
    async_back = cls.__dict__.get("run_async_from_thread")
    if not all(isinstance(m, classmethod) for m in (to_thread, sync_back, async_back)):
        return
    real_to_thread = cast("classmethod[Any, Any, Any]", to_thread).__func__
    real_sync_back = cast("classmethod[Any, Any, Any]", sync_back).__func__
    real_async_back = cast("classmethod[Any, Any, Any]", async_back).__func__

    async def run_sync_in_worker_thread(
        klass: Any, func: Callable[..., T], args: tuple[Any, ...], *rest: Any, **kw: Any
    ) -> T:
        if not mine():
            return cast(T, await real_to_thread(klass, func, args, *rest, **kw))
        limiter = kw.get("limiter", rest[1] if len(rest) > 1 else None)
        await klass.checkpoint()
        async with limiter or klass.current_default_thread_limiter():
            depth = getattr(_inline, "depth", 0)
            token = getattr(threadlocals, "current_token", None)
            # as in anyio's worker: from_thread calls find their way back
            threadlocals.current_token = current_token()
            _inline.depth = depth + 1
            try:
                return contextvars.copy_context().run(func, *args)
            finally:
                _inline.depth = depth
                if token is None:
                    del threadlocals.current_token
                else:
                    threadlocals.current_token = token

    def run_sync_from_thread(
        klass: Any, func: Callable[..., T], args: tuple[Any, ...], *rest: Any, **kw: Any
    ) -> T:
        if getattr(_inline, "depth", 0):
            return func(*args)  # the loop is this thread: call it now
        return cast(T, real_sync_back(klass, func, args, *rest, **kw))

    def run_async_from_thread(
        klass: Any,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        *rest: Any,
        **kw: Any,
    ) -> Any:
        if getattr(_inline, "depth", 0):
            raise RuntimeError(
                "aqe: anyio.from_thread.run() in work handed to anyio.to_thread "
                "cannot run here: the harness runs that work inline, on the event "
                "loop's own thread, so the loop cannot run the coroutine; make the "
                "tool async, or call anyio.from_thread.run_sync() instead"
            )
        return real_async_back(klass, func, args, *rest, **kw)

    patches = {
        "run_sync_in_worker_thread": (to_thread, run_sync_in_worker_thread),
        "run_sync_from_thread": (sync_back, run_sync_from_thread),
        "run_async_from_thread": (async_back, run_async_from_thread),
    }
    for name, (real, patched) in patches.items():
        setattr(cls, name, classmethod(patched))
        stack.callback(setattr, cls, name, real)
