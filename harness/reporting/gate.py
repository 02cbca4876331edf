"""The release gate: one decision per session, made on the xdist controller.

Exit codes keep apart what CI must treat differently:

====  ==========  =========================================================
code  verdict     meaning
====  ==========  =========================================================
0     pass        every run passed (or its scenario met its thresholds), and
                  nothing regressed against the baseline
1     fail        some runs failed, none of them a regression
2                 interrupted (pytest's own code)
3                 pytest internal error (pytest's own code)
4                 usage error: a bad option, a corrupt baseline (pytest's own)
5     empty       nothing ran: a session that ran no scenario never passes
6     regression  a scenario got worse than the baseline beyond a rule
7     error       the harness or its infrastructure failed: a worker crashed,
                  a report could not be written; the results are incomplete
====  ==========  =========================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    PASS = 0
    FAILED = 1
    INTERRUPTED = 2
    INTERNAL_ERROR = 3
    USAGE_ERROR = 4
    EMPTY = 5
    REGRESSION = 6
    ERROR = 7


#: pytest's own codes that the gate leaves as they are.
_PYTEST_OWN = frozenset(
    {ExitCode.INTERRUPTED, ExitCode.INTERNAL_ERROR, ExitCode.USAGE_ERROR}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Gate:
    verdict: str  # pass | fail | regression | error | empty | interrupted
    exit_code: int
    #: One line per reason, for the terminal and the reports.
    reasons: tuple[str, ...] = ()


def decide(
    *,
    pytest_status: int,
    failed_tests: int,
    tolerated: int,
    ran: int,
    regressions: Sequence[str] = (),
    errors: Sequence[str] = (),
    failures: Sequence[str] = (),
) -> Gate:
    """The session's verdict and exit code.

    ``failed_tests``: failed test reports, as pytest counts them; ``tolerated``:
    how many of those are runs of scenarios that met their thresholds; ``ran``:
    scenario runs recorded; ``regressions``: gate failures against the baseline;
    ``errors``: harness or infrastructure failures (worker crashes, writes);
    ``failures``: session-level failures, e.g. a shadow agreement below its gate.
    """
    if pytest_status in _PYTEST_OWN:
        verdict = "interrupted" if pytest_status == ExitCode.INTERRUPTED else "error"
        return Gate(verdict=verdict, exit_code=pytest_status, reasons=tuple(errors))
    if errors:
        return Gate(verdict="error", exit_code=ExitCode.ERROR, reasons=tuple(errors))
    if ran == 0 and failed_tests == 0:
        return Gate(
            verdict="empty",
            exit_code=ExitCode.EMPTY,
            reasons=("no scenario ran: a session that ran nothing never passes",),
        )
    if regressions:
        return Gate(
            verdict="regression",
            exit_code=ExitCode.REGRESSION,
            reasons=tuple(regressions),
        )
    failing = failed_tests - tolerated
    if failures:
        extra = (f"{failing} failed test(s)",) if failing > 0 else ()
        return Gate(
            verdict="fail", exit_code=ExitCode.FAILED, reasons=(*failures, *extra)
        )
    if failing > 0:
        return Gate(
            verdict="fail",
            exit_code=ExitCode.FAILED,
            reasons=(f"{failing} failed test(s)",),
        )
    reasons = (
        (f"{tolerated} failed run(s) within their scenarios' thresholds",)
        if tolerated
        else ()
    )
    return Gate(verdict="pass", exit_code=ExitCode.PASS, reasons=reasons)
