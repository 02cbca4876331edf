"""Everything pytest-facing: the session's settings, the scenario items, the
reporter. :mod:`harness.plugin` is the list of hooks that delegate here."""
