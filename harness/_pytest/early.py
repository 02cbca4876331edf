"""``aqe run``'s first plugin (``-p harness._pytest.early``), imported before pytest
loads the installed plugins.

A session ``aqe run`` starts asks for aqe by construction (it names the agent),
so the plugins' assertion rewriting is narrowed to their entry-point modules now
(see :mod:`harness._pytest.rewrite`), not once the session is configured: the
packages pytest imports for faker's, anyio's and respx's plugins are then not
rewritten either. Under ``PYTHONDONTWRITEBYTECODE`` (or a read-only
site-packages), where no rewritten module is cached, that was ~0.3 s of every
such pytest process, most of it faker's locale tables. It holds no hooks.
"""

from __future__ import annotations

from harness._pytest.rewrite import (
    leave_the_harness_unrewritten,
    narrow_before_plugins_load,
)

leave_the_harness_unrewritten()
narrow_before_plugins_load()
