"""The suite's own scheduling: the slowest modules, started first, still exist."""

from __future__ import annotations

from tests.conftest import ROOT, SLOWEST_FIRST


def test_every_module_started_first_exists() -> None:
    assert [path for path in SLOWEST_FIRST if not (ROOT / path).is_file()] == []
    assert len(set(SLOWEST_FIRST)) == len(SLOWEST_FIRST)
