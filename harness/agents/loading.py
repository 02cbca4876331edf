"""Resolve ``module:callable`` into the agent under test."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from harness.errors import AgentLoadError

AgentCallable = Callable[..., Any]


def load_agent(spec: str) -> AgentCallable:
    """Import ``package.module:callable`` (the current directory is importable)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise AgentLoadError(
            f"cannot read agent {spec!r}: expected 'module:callable'\n"
            "    fix: e.g. --aqe-agent harness.agents.reference:careful_refund_agent"
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AgentLoadError(
            f"cannot import agent module {module_name!r}: {exc}\n"
            "    fix: check the module path, and that it is importable from the "
            "current directory or the installed packages"
        ) from exc
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            public = sorted(
                n
                for n in dir(module)
                if not n.startswith("_") and callable(getattr(module, n))
            )
            raise AgentLoadError(
                f"module {module_name!r} has no attribute {attr!r}\n"
                f"    fix: callables there: {', '.join(public) or 'none'}"
            ) from None
    if not callable(target):
        raise AgentLoadError(f"agent {spec!r} is not callable")
    return target  # type: ignore[no-any-return]
