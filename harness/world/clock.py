"""The simulated clock: a simpy environment that the whole run shares.

Time is virtual. Advancing it processes every simpy event that falls due (a scripted
approver deciding, a delayed commit landing), so a two-hour wait costs no wall time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy

from harness.errors import RunAborted

#: Simulated wall-clock origin of every run: 2026-01-01T00:00:00Z.
EPOCH = 1_767_225_600.0
#: Origin of the simulated monotonic clock (any positive constant will do).
MONOTONIC_ORIGIN = 10_000.0


class SimClock:
    """Virtual time in seconds since the start of the run."""

    __slots__ = ("env", "fired", "limit")

    def __init__(self, *, limit: float = 7 * 24 * 3600.0) -> None:
        self.env = simpy.Environment()
        self.limit = limit
        #: How many scheduled callbacks have run (each may have changed state).
        self.fired = 0

    @property
    def now(self) -> float:
        """Seconds of simulated time since the run started."""
        return float(self.env._now)  # the property's own field; this is a hot path

    def epoch(self) -> float:
        """The simulated Unix time (what ``time.time()`` returns during a run)."""
        return EPOCH + float(self.env.now)

    def monotonic(self) -> float:
        """The simulated monotonic time (what ``time.monotonic()`` returns)."""
        return MONOTONIC_ORIGIN + float(self.env.now)

    def advance(self, seconds: float) -> None:
        """Move time forward, firing every scheduled event on the way."""
        if seconds != seconds or seconds < 0:  # NaN or negative
            raise ValueError(f"cannot advance the clock by {seconds!r} seconds")
        target = float(self.env.now) + seconds
        if target > self.limit:
            self.env.run(until=self.limit) if self.limit > self.env.now else None
            raise RunAborted(
                "time_limit",
                f"the agent waited past the simulated time limit "
                f"({self.limit:g} s); a hung or endlessly polling agent",
            )
        env = self.env
        if env.peek() > target:
            # Nothing falls due on the way: move time without simpy's run loop.
            env._now = target
        elif seconds > 0:
            env.run(until=target)
        else:
            self.settle()

    def tick(self, seconds: float) -> None:
        """``advance`` for a known small service time (the gateway's hot path)."""
        env = self.env
        target = env._now + seconds
        if env.peek() > target and target <= self.limit:
            env._now = target
        else:
            self.advance(seconds)

    def settle(self) -> None:
        """Process the events due now without moving time."""
        env = self.env
        while env.peek() <= env.now:
            env.step()

    def call_later(self, delay: float, callback: Callable[[], Any]) -> None:
        """Run ``callback`` after ``delay`` simulated seconds."""

        def process() -> Any:
            yield self.env.timeout(delay)
            self.fired += 1
            callback()

        self.env.process(process())


def format_offset(seconds: float) -> str:
    """``+1h02m03.5s``-style rendering of a simulated time offset."""
    if seconds < 60:
        return f"+{seconds:.3f}s"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"+{hours}h{minutes:02d}m{secs:04.1f}s"
    return f"+{minutes}m{secs:04.1f}s"
