"""Names a package loads on first use (PEP 562), so importing it stays cheap:

_load = lazy(__name__, {"Name": "package.module", ...})

def __getattr__(name: str) -> Any:
    return _load(name)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The loader of ``package``'s ``exports`` (name -> module): it imports the
    module on the first use of a name and keeps the value in the package."""

    def load(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return load
