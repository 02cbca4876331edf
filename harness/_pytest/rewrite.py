"""The harness's own modules are imported as Python compiles them, not rewritten.

pytest marks every package of an installed plugin's distribution for assertion
rewriting (``harness`` and ``fakes`` here, or the entry point's package for an
editable install). Rewriting parses each module into Python's ``ast`` objects,
rewrites its ``assert`` statements and compiles the tree: for the harness's ~240
modules that is about 2 s of CPU in every pytest process that cannot reuse a cached
rewrite (``PYTHONDONTWRITEBYTECODE=1``, a read-only site-packages, a fresh CI
clone), paid again by every xdist worker. The harness has no assertions a user reads
(its checks raise :class:`~harness.errors.HarnessError`), so nothing is lost.

Only pytest's import hook knows what it marked, and it has no public way to unmark:
this looks for the hook's set by name and leaves everything as it was if it is not
there (a later pytest then rewrites the harness again: slower, never wrong). Test
files, conftests and other plugins are rewritten as before.
"""

from __future__ import annotations

import sys

#: The top-level packages of the aqe-harness distribution.
PACKAGES = frozenset({"harness", "fakes"})


def leave_the_harness_unrewritten() -> bool:
    """Unmark :data:`PACKAGES` in pytest's assertion-rewriting import hook.

    True when a hook was found and changed. Modules already imported stay as
    they are (the few the plugin itself needs).
    """
    changed = False
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        cache = getattr(finder, "_marked_for_rewrite_cache", None)
        if not isinstance(marked, set) or not isinstance(cache, dict):
            continue
        if marked & PACKAGES:
            marked.difference_update(PACKAGES)
            cache.clear()
            changed = True
    return changed
