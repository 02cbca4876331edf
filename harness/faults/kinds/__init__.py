"""The built-in fault kinds, one module each; importing this package registers them.

A new kind is a new module here: a :class:`~harness.faults.kind.Kind` subclass
decorated with :func:`~harness.faults.registry.register`. Modules whose names
start with ``_`` hold helpers shared by several kinds.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
