"""Assertion rewriting kept to what has assertions a user reads.

pytest marks every package of an installed plugin's distribution for assertion
rewriting (``harness`` and ``fakes`` here, or the entry point's package for an
editable install; faker, hypothesis, anyio, respx and langsmith too). Rewriting
parses each module into Python's ``ast`` objects, rewrites its ``assert``
statements and compiles the tree, and it cannot use the ordinary bytecode cache:
where pytest cannot keep the rewritten bytecode either (``PYTHONDONTWRITEBYTECODE``,
a read-only site-packages, many CI images) every pytest process and xdist worker
pays it again (the harness's 241 modules: 0.76 s of CPU rewritten against 0.40 s
compiled; hypothesis's 73: 0.58 s). None of these modules has assertions a user
reads (the harness's checks raise :class:`~harness.errors.HarnessError`).

Two steps:

* :func:`leave_the_harness_unrewritten`, when pytest imports the plugin, in
  every session: the harness's own packages.
* :func:`narrow_plugin_rewrites`, in a session that asked for aqe: every other
  plugin distribution is narrowed to the modules its entry points name (what
  pytest loaded as plugins is rewritten as before; faker, anyio and respx are
  imported while pytest loads plugins, before this can act, but hypothesis,
  imported whole by its plugin's terminal summary, is not rewritten again).
  ``aqe run``'s pytest asks for aqe by construction, so it narrows them before
  pytest loads the installed plugins (:mod:`harness._pytest.early`, given
  with ``-p``): faker's, anyio's and respx's packages are not rewritten either
  (faker's locale tables alone took ~0.3 s of each such process).

Only pytest's import hook knows what it marked, and it has no public way to unmark:
this looks for the hook's set by name and leaves everything as it was if it is not
there (a later pytest then rewrites again: slower, never wrong). Test files,
conftests and ``pytest.register_assert_rewrite`` are untouched.
"""

from __future__ import annotations

import functools
import sys
from importlib.metadata import EntryPoint, entry_points

import pytest

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


def narrow_plugin_rewrites(config: pytest.Config) -> None:
    """Rewrite from now on only the entry-point modules of plugin distributions,
    not every module of them (see the module's docstring)."""
    marks = getattr(config.pluginmanager.rewrite_hook, "_must_rewrite", None)
    if isinstance(marks, set):  # not with --assert=plain, or a pytest that changed
        _narrow(marks)


def narrow_before_plugins_load() -> bool:
    """:func:`narrow_plugin_rewrites` for a process that asks for aqe before it
    has a config (:mod:`harness._pytest.early`): in the hook pytest installed.
    True when a hook was found."""
    found = False
    for finder in sys.meta_path:
        marks = getattr(finder, "_must_rewrite", None)
        cache = getattr(finder, "_marked_for_rewrite_cache", None)
        if isinstance(marks, set) and isinstance(cache, dict):
            _narrow(marks)
            cache.clear()
            found = True
    return found


def _narrow(marks: set[str]) -> None:
    whole: set[str] = set()
    plugins: set[str] = set()
    for module, packages in _plugin_packages():
        if packages & marks:
            whole |= packages & marks
            plugins.add(module)
    marks.difference_update(whole)
    marks.update(plugins)


@functools.cache
def _plugin_packages() -> tuple[tuple[str, frozenset[str]], ...]:
    """Each installed plugin's entry-point module and its distribution's
    packages (read once a process: every installed distribution is read)."""
    return tuple(
        (plugin.module, frozenset(_packages(plugin)))
        for plugin in entry_points(group="pytest11")
    )


def _packages(plugin: EntryPoint) -> set[str]:
    """The top-level modules and packages of the plugin's distribution (its
    entry point's own, when the distribution lists no files: an editable
    install)."""
    names = {plugin.module.partition(".")[0]}
    dist = plugin.dist
    for file in (dist.files or []) if dist is not None else []:
        parts = file.parts
        if len(parts) == 1 and file.suffix == ".py":
            names.add(file.stem)
        elif len(parts) == 2 and parts[1] == "__init__.py":
            names.add(parts[0])
    return names
