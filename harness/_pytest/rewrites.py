"""Assertion rewriting kept to the plugins' own modules in an aqe session.

pytest rewrites the asserts of every module of each installed distribution that
registers a pytest plugin, not only of its plugin modules: the harness and
fakes, but also faker, hypothesis, anyio, respx and langsmith, all of which an
aqe session imports whole. Rewriting parses and recompiles a module from its
source and skips its ordinary bytecode cache; where pytest cannot keep the
rewritten bytecode either (``PYTHONDONTWRITEBYTECODE``, a read-only
site-packages, as in many CI images) every pytest process, each xdist worker
included, pays it again: 4-5 s of CPU per process on the library. No test's
asserts live in those modules, so in a session that asked for aqe the marks of
a plugin's distribution are narrowed to the modules its entry points name
(what pytest loaded as plugins, and whatever they import, is rewritten as
before). Test modules, conftests and ``pytest.register_assert_rewrite`` are
untouched.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import pytest


def narrow_plugin_rewrites(config: pytest.Config) -> None:
    """Rewrite from now on only the entry-point modules of plugin distributions,
    not every module of them (see the module's docstring)."""
    marks = getattr(config.pluginmanager.rewrite_hook, "_must_rewrite", None)
    if not isinstance(marks, set):  # --assert=plain, or a pytest that changed
        return
    whole: set[str] = set()
    plugins: set[str] = set()
    for plugin in entry_points(group="pytest11"):
        packages = _packages(plugin) & marks
        if packages:
            whole |= packages
            plugins.add(plugin.module)
    marks.difference_update(whole)
    marks.update(plugins)


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
