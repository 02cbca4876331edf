"""A quick interpreter exit for a process that ran an aqe session.

When Python exits it clears its modules and runs full garbage collections over
every object still alive: after a session over the library (fakes, worlds,
faker's providers, the run records) that took 2-4 s of wall time in each
pytest process and xdist worker, after pytest had printed its summary. Freezing
the survivors at exit (:func:`gc.freeze`) leaves them out of those collections;
the operating system takes the memory back whole. Python does not promise to
finalize objects still alive at exit, and the session has written and closed
its reports by then. Registered once per process, and only at exit, so a
process that runs sessions in-process (pytester) keeps its collector until it
ends.
"""

from __future__ import annotations

import atexit
import gc

_REGISTERED: list[bool] = []


def quick_exit() -> None:
    """Freeze the objects still alive when the interpreter exits (once a process)."""
    if not _REGISTERED:
        atexit.register(gc.freeze)
        _REGISTERED.append(True)
