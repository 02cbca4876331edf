"""Library hooks: what a delivery does about a library's process-global machinery.

Some libraries an agent uses keep machinery of their own for the whole process: a
background exporter thread, a cache that outlives a run. A hook is one module
here that names the library module it acts on (``MODULE``) and a
``during_delivery(module)`` context manager, entered around each delivery of the
task, in the run's thread, in whichever process the agent runs
(:func:`harness.runtime.session.deliver`). The library is never imported for it:
a hook is entered when its module is already imported, or as soon as the agent
imports it during the delivery; a library the agent does not use costs one dict
lookup per import.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from functools import cache
from types import ModuleType
from typing import Any, Protocol, cast

from harness.errors import HarnessError

#: Hook modules, in the order they are entered.
LIBRARY_HOOKS: tuple[str, ...] = ("harness.runtime.libraries.openai_agents",)


class LibraryHook(Protocol):
    """A hook module, as the registry reads it."""

    #: The library module the hook acts on (its import fires the hook).
    MODULE: str

    def during_delivery(self, module: ModuleType) -> AbstractContextManager[None]: ...


@cache
def hooks() -> tuple[LibraryHook, ...]:
    """The registered hooks; a module registered twice is a mistake."""
    seen: set[str] = set()
    for name in LIBRARY_HOOKS:
        if name in seen:
            raise HarnessError(
                f"library hook {name!r} is registered twice\n    fix: list it once"
                " in harness.runtime.libraries.LIBRARY_HOOKS"
            )
        seen.add(name)
    return tuple(
        cast("LibraryHook", importlib.import_module(name)) for name in LIBRARY_HOOKS
    )


@contextmanager
def library_hooks(registered: Sequence[LibraryHook] | None = None) -> Iterator[None]:
    """Every hook's ``during_delivery`` around one delivery: at once for a
    library already imported, on its import for one the agent imports now."""
    with ExitStack() as stack:
        waiting: dict[str, list[LibraryHook]] = {}
        for hook in hooks() if registered is None else registered:
            waiting.setdefault(hook.MODULE, []).append(hook)

        def enter(module: ModuleType) -> None:
            for hook in waiting.pop(module.__name__, []):
                stack.enter_context(hook.during_delivery(module))

        finder = _OnImport(waiting, enter)
        sys.meta_path.insert(0, finder)
        stack.callback(_remove, finder)
        for name in list(waiting):
            module = sys.modules.get(name)
            if module is not None:
                enter(module)
        yield


def _remove(finder: importlib.abc.MetaPathFinder) -> None:
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)


class _OnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when a watched module is imported, it has the real
    finder's loader run ``then(module)`` once the module has run."""

    def __init__(
        self, waiting: dict[str, Any], then: Callable[[ModuleType], None]
    ) -> None:
        self._waiting, self._then = waiting, then

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._waiting:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec: importlib.machinery.ModuleSpec | None = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is not None and hasattr(loader, "exec_module"):
            spec.loader = _Then(loader, self._then)
        return spec


class _Then(importlib.abc.Loader):
    """A loader that runs another, then ``then(module)``; the module keeps the
    real loader as its own."""

    def __init__(
        self, loader: importlib.abc.Loader, then: Callable[[ModuleType], None]
    ) -> None:
        self._loader, self._then = loader, then

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        self._then(module)


__all__ = ["LIBRARY_HOOKS", "LibraryHook", "hooks", "library_hooks"]
