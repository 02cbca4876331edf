"""What each fork server came to import, kept from one session to the next.

A fork server imports what its runs imported (their ``warm`` lists), but only
after the first run of each agent family has imported it too, in its own
process: every session paid for those imports twice. With a place to keep them
(pytest's cache), a session ends by keeping, per agent spec and kind of server
(a model answers its runs or not), the modules its server came to hold, and the
next session's server imports them before it forks its first run.

An entry is only module names, checked as such when read (anything else: no
entry), and only for the environment that made it: the Python, the harness
version and the installed packages (the mtimes of the ``site-packages``
folders, which installing or removing a package changes). A name that no longer
imports costs the server a failed lookup; nothing a run did reaches the server
but the names its imports had, as within a session.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from harness._version import __version__

#: Where entries go in the cache (one per agent spec and kind of server).
CACHE_KEY = "aqe/warm"
#: The most module names one entry keeps (a heavy agent imports ~5,000).
MAX_KNOWN = 20000
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


@cache
def environment() -> dict[str, Any]:
    """What an entry is good for: this Python, this harness, these packages."""
    packages = []
    for entry in sys.path:
        if os.path.basename(entry) in ("site-packages", "dist-packages"):
            try:
                packages.append([entry, os.stat(entry).st_mtime_ns])
            except OSError:
                continue
    return {"python": sys.version, "harness": __version__, "packages": packages}


class WarmLists:
    """Warm lists kept between sessions, through ``get(key, default)`` and
    ``set(key, value)`` (pytest's ``config.cache``: JSON values; it reads an
    unreadable entry as the default, and warns of one it cannot write)."""

    def __init__(
        self, get: Callable[[str, Any], Any], set: Callable[[str, Any], None]
    ) -> None:
        self._get, self._set = get, set

    def known(self, spec: str, modelled: bool) -> list[str]:
        """The modules the last session's server for ``spec`` came to hold; none
        for an entry another environment made, or one that does not read."""
        entry = self._get(_key(spec, modelled), None)
        if not isinstance(entry, dict):
            return []
        if (entry.get("spec"), entry.get("modelled")) != (spec, modelled):
            return []
        if entry.get("environment") != environment():
            return []
        modules = entry.get("modules")
        if not isinstance(modules, list) or len(modules) > MAX_KNOWN:
            return []
        if not all(isinstance(m, str) and _MODULE.fullmatch(m) for m in modules):
            return []
        return modules

    def keep(self, spec: str, modelled: bool, modules: Iterable[str]) -> None:
        """Keep ``modules`` (with what is kept already) for the next session."""
        known = self.known(spec, modelled)
        merged = list(dict.fromkeys([*known, *modules]))[:MAX_KNOWN]
        if merged == known:
            return
        entry = {
            "spec": spec,
            "modelled": modelled,
            "environment": environment(),
            "modules": merged,
        }
        self._set(_key(spec, modelled), entry)


def _key(spec: str, modelled: bool) -> str:
    digest = hashlib.sha256(json.dumps([spec, modelled]).encode()).hexdigest()
    return f"{CACHE_KEY}/{digest[:16]}"
