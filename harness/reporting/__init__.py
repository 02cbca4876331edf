"""Reporting: traces and renderings of runs."""

from __future__ import annotations

from harness.files import write_atomic
from harness.reporting.text import render_failure
from harness.reporting.trace import trace_bytes, trace_lines, write_trace

__all__ = [
    "render_failure",
    "trace_bytes",
    "trace_lines",
    "write_atomic",
    "write_trace",
]
