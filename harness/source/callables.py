"""Resolve ``module:callable`` (an agent, a scripted model) into the callable."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

from harness.errors import HarnessError


def load_callable(
    spec: str,
    *,
    what: str,
    example: str,
    error: type[HarnessError] = HarnessError,
) -> Callable[..., Any]:
    """Import ``package.module:callable`` (the current directory is importable).

    ``what`` names it in errors (``agent``, ``scripted model``); ``example`` is
    the fix line's example (``--aqe-agent harness.agents.reference:…``)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise error(
            f"cannot read {what} {spec!r}: expected 'module:callable'\n"
            f"    fix: e.g. {example}"
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise error(
            f"cannot import {what} module {module_name!r}: {exc}\n"
            "    fix: check the module path, and that it is importable from the "
            "current directory or the installed packages"
        ) from exc
    except (Exception, SystemExit) as exc:  # its own code failed: say where
        raise error(
            f"importing {what} module {module_name!r} raised"
            f" {type(exc).__name__}: {exc}{_where(exc)}\n"
            f"    fix: correct the module; python -c 'import {module_name}' shows"
            " the whole traceback"
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
            raise error(
                f"module {module_name!r} has no attribute {attr!r}\n"
                f"    fix: callables there: {', '.join(public) or 'none'}"
            ) from None
    if not callable(target):
        raise error(
            f"{what} {spec!r} is not callable: it is {_kind(target)}\n"
            f"    fix: name a function, e.g. {example}"
        )
    return target  # type: ignore[no-any-return]


def _where(exc: BaseException) -> str:
    """`` (at FILE:LINE)``: the innermost frame of the exception's traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f" (at {last.filename}:{last.lineno})"


def _kind(value: object) -> str:
    """What a value is, for a message: ``an int (3)``, ``a module``."""
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    text = repr(value)
    return f"{article} {name}" + (f" ({text})" if len(text) <= 40 else "")
