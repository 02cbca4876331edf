"""A process that ran an aqe session freezes its objects at exit, once."""

from __future__ import annotations

import gc

import pytest

from harness._pytest import finalize


def test_quick_exit_registers_one_freeze_at_exit_however_often_it_is_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered: list[object] = []
    monkeypatch.setattr(finalize, "_REGISTERED", [])
    monkeypatch.setattr(finalize.atexit, "register", registered.append)

    finalize.quick_exit()
    finalize.quick_exit()

    assert registered == [gc.freeze]


def test_quick_exit_leaves_the_collector_alone_until_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(finalize, "_REGISTERED", [])
    monkeypatch.setattr(finalize.atexit, "register", lambda _: None)
    frozen = gc.get_freeze_count()

    finalize.quick_exit()

    assert gc.get_freeze_count() == frozen
