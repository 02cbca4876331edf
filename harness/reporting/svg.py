"""Small inline SVG plots for the HTML report: no library, no external resource.

Every plot is a string holding one ``<svg role="img">`` with a ``<title>``, so a
screen reader and a hover both say what it shows; every text drawn comes through
:func:`html.escape`. Colours come from the page's CSS classes (``ok``, ``fail``...),
so a plot reads the same as the tables beside it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartPoint:
    """One run on the suite trend: its pass rate, verdict and hover text."""

    label: str
    value: float | None
    state: str
    tooltip: str
    current: bool = False


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def rate_chart(
    points: Sequence[ChartPoint],
    *,
    title: str,
    width: int = 760,
    height: int = 220,
) -> str:
    """A line of rates in [0, 1] across runs, with a dot per run (its verdict)."""
    left, right, top, bottom = 44, 36, 12, 34
    inner_w, inner_h = width - left - right, height - top - bottom
    step = inner_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(points) > 1 else inner_w / 2)

    def y(value: float) -> float:
        return top + (1 - value) * inner_h

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{_esc(title)}">',
        f"<title>{_esc(title)}</title>",
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" '
            f'y1="{_num(y(tick))}" y2="{_num(y(tick))}"/>'
            f'<text class="axis" x="{left - 6}" y="{_num(y(tick) + 4)}" '
            f'text-anchor="end">{round(tick * 100)}%</text>'
        )
    for segment in _segments([p.value for p in points]):
        coords = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in segment)
        parts.append(f'<polyline class="trend" points="{coords}"/>')
    every = max(1, -(-len(points) // 8))
    for i, point in enumerate(points):
        if i % every == 0 or i == len(points) - 1:
            parts.append(
                f'<text class="axis" x="{_num(x(i))}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{_esc(point.label)}</text>'
            )
        if point.value is None:
            continue
        radius = 6 if point.current else 4
        current = " current" if point.current else ""
        parts.append(
            f'<circle class="dot {_esc(point.state)}{current}" cx="{_num(x(i))}" '
            f'cy="{_num(y(point.value))}" r="{radius}">'
            f"<title>{_esc(point.tooltip)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def sparkline(
    values: Sequence[float | None],
    *,
    label: str,
    width: int = 160,
    height: int = 28,
) -> str:
    """A rate in [0, 1] over runs (gaps where a run lacks it); the last run dotted."""
    pad = 3
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    step = inner_w / max(len(values) - 1, 1)

    def x(i: int) -> float:
        return pad + i * step

    def y(value: float) -> float:
        return pad + (1 - value) * inner_h

    parts = [
        f'<svg class="spark" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{_esc(label)}">',
        f"<title>{_esc(label)}</title>",
        f'<line class="grid" x1="{pad}" x2="{width - pad}" y1="{_num(y(1))}" '
        f'y2="{_num(y(1))}"/>',
    ]
    for segment in _segments(values):
        coords = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in segment)
        parts.append(f'<polyline class="trend" points="{coords}"/>')
        if len(segment) == 1:
            i, v = segment[0]
            parts.append(
                f'<circle class="dot" cx="{_num(x(i))}" cy="{_num(y(v))}" r="1.5"/>'
            )
    last = next(
        ((i, v) for i, v in reversed(list(enumerate(values))) if v is not None), None
    )
    if last is not None:
        state = "ok" if last[1] >= 1 else "fail" if last[1] <= 0 else "mixed"
        parts.append(
            f'<circle class="dot {state}" cx="{_num(x(last[0]))}" '
            f'cy="{_num(y(last[1]))}" r="3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def interval_plot(
    delta: float | None,
    interval: tuple[float, float] | None,
    *,
    scale: float,
    state: str,
    width: int = 180,
    height: int = 20,
) -> str:
    """A change and its 95% interval on a symmetric axis ``[-scale, scale]``."""
    pad = 30
    scale = scale or 1.0

    def x(value: float) -> float:
        clipped = max(-scale, min(scale, value))
        return pad + (clipped + scale) / (2 * scale) * (width - 2 * pad)

    mid = height / 2
    label = f"change {_delta(delta)}, 95% interval {_interval(interval)}"
    parts = [
        f'<svg class="ci {_esc(state)}" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{_esc(label)}">',
        f"<title>{_esc(label)}</title>",
        f'<line class="grid" x1="{pad}" x2="{width - pad}" y1="{_num(mid)}" '
        f'y2="{_num(mid)}"/>',
        f'<line class="zero" x1="{_num(x(0))}" x2="{_num(x(0))}" y1="2" '
        f'y2="{height - 2}"/>',
        f'<text class="axis" x="{pad - 3}" y="{_num(mid + 4)}" text-anchor="end">'
        f"-{_scale(scale)}</text>",
        f'<text class="axis" x="{width - pad + 3}" y="{_num(mid + 4)}">'
        f"+{_scale(scale)}</text>",
    ]
    if interval is not None:
        lo, hi = x(interval[0]), x(interval[1])
        parts.append(
            f'<line class="range" x1="{_num(lo)}" x2="{_num(hi)}" y1="{_num(mid)}" '
            f'y2="{_num(mid)}"/>'
        )
        for end in (lo, hi):
            parts.append(
                f'<line class="range" x1="{_num(end)}" x2="{_num(end)}" '
                f'y1="{_num(mid - 4)}" y2="{_num(mid + 4)}"/>'
            )
    if delta is not None:
        parts.append(
            f'<circle class="mark" cx="{_num(x(delta))}" cy="{_num(mid)}" r="4"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _segments(
    values: Sequence[float | None],
) -> list[list[tuple[int, float]]]:
    """Runs of consecutive known values, so a missing run breaks the line."""
    segments: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append((i, max(0.0, min(1.0, value))))
    if current:
        segments.append(current)
    return segments


def _scale(value: float) -> str:
    return f"{value:.2g}"


def _delta(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _interval(interval: tuple[float, float] | None) -> str:
    return "n/a" if interval is None else f"[{interval[0]:.2f}, {interval[1]:.2f}]"
