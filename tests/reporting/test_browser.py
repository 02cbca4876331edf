"""The HTML report in a real headless Chromium: no console or page errors, and a
screenshot worth looking at.

Uses Python playwright with the system browser (``chromium`` on PATH, Debian's
package; ``playwright install`` is never needed). When playwright cannot drive
that browser, the chromium command line takes over (``--headless --screenshot``
with console messages read from its log). Skipped only when there is no chromium.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.reporting.html import render_html
from tests.reporting.report_summaries import (
    incomplete_summary,
    realistic_summary,
    trend_frames,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium binary on PATH (CI installs it with `apt-get install chromium`)",
)
WIDTH, HEIGHT = 1280, 900
# chromium --enable-logging: [pid:tid:time:INFO:CONSOLE:12] "message", source: ... (12)
CONSOLE_LINE = re.compile(r":CONSOLE[:(]\d*\)?\] (.*)$")


@dataclass
class BrowserRun:
    """What a browser saw of a page: console messages, page errors, and by whom."""

    driver: str
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    first_after_sort: str | None = None
    hidden_after_filter: int | None = None


def _with_playwright(page: Path, shot: Path) -> BrowserRun | None:
    """Open, sort, filter and screenshot with playwright; None if it cannot."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        return None
    run = BrowserRun(driver="playwright")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            try:
                tab = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                tab.on(
                    "console",
                    lambda m: (
                        run.console.append(f"{m.type}: {m.text}")
                        if m.type in ("error", "warning")
                        else None
                    ),
                )
                tab.on("pageerror", lambda e: run.page_errors.append(str(e)))
                tab.goto(page.as_uri(), wait_until="load")
                tab.screenshot(path=str(shot), full_page=True)
                if tab.locator("#matrix-table").count():
                    runs_passed = tab.locator("#matrix-table thead button").nth(2)
                    runs_passed.click()  # ascending: the worst pass rate first
                    run.first_after_sort = tab.locator(
                        "#matrix-table tbody tr"
                    ).first.get_attribute("data-name")
                    runs_passed.click()
                    tab.locator("#matrix-failing").check()
                    tab.locator("#matrix-filter").fill("refund")
                    run.hidden_after_filter = tab.locator(
                        "#matrix-table tbody tr[hidden]"
                    ).count()
            finally:
                browser.close()
    except Error:
        return None
    return run


def _with_cli(page: Path, shot: Path) -> BrowserRun:
    """Screenshot with the chromium command line; every console line is kept."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={WIDTH},{HEIGHT * 3}",
            f"--screenshot={shot}",
            "--enable-logging=stderr",
            "--v=0",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    run = BrowserRun(driver="chromium-cli")
    for line in done.stderr.splitlines():
        found = CONSOLE_LINE.search(line)
        if found is None:
            continue
        # the log does not tell levels apart: the report logs nothing at all
        target = run.page_errors if "Uncaught" in found.group(1) else run.console
        target.append(found.group(1))
    return run


def _open(page: Path, shot: Path) -> BrowserRun:
    return _with_playwright(page, shot) or _with_cli(page, shot)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _write(tmp_path: Path, name: str, html: str) -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def test_report_opens_in_chromium_without_console_or_page_errors(
    tmp_path: Path,
) -> None:
    trends, suite = trend_frames()
    page = _write(
        tmp_path, "report.html", render_html(realistic_summary(), trends, suite)
    )
    shot = tmp_path / "report.png"
    run = _open(page, shot)
    assert run.page_errors == []
    assert run.console == []
    if run.driver == "playwright":
        assert run.first_after_sort == "approval_limit"
        # "only failing or regressed" and "refund": refund_ok stays, four hide
        assert run.hidden_after_filter == 4
    width, height = _png_size(shot)
    assert width >= WIDTH * 0.9
    assert height >= HEIGHT
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one


def test_incomplete_report_without_history_opens_without_errors(
    tmp_path: Path,
) -> None:
    page = _write(tmp_path, "incomplete.html", render_html(incomplete_summary()))
    shot = tmp_path / "incomplete.png"
    run = _open(page, shot)
    assert (run.page_errors, run.console) == ([], [])
    assert shot.stat().st_size > 20_000


def test_the_command_line_fallback_screenshots_the_report(tmp_path: Path) -> None:
    page = _write(tmp_path, "report.html", render_html(realistic_summary()))
    shot = tmp_path / "cli.png"
    run = _with_cli(page, shot)
    assert (run.page_errors, run.console) == ([], [])
    assert _png_size(shot) == (WIDTH, HEIGHT * 3)


@pytest.mark.parametrize("driver", ["playwright", "chromium-cli"])
def test_the_browser_check_catches_errors_on_a_broken_page(
    tmp_path: Path, driver: str
) -> None:
    broken = _write(
        tmp_path,
        "broken.html",
        "<!doctype html><html><head><title>broken</title></head><body><p>x</p>"
        '<script>console.error("boom"); null.x();</script></body></html>',
    )
    shot = tmp_path / "broken.png"
    if driver == "playwright":
        run = _with_playwright(broken, shot)
        if run is None:
            pytest.skip("playwright cannot drive this chromium; the CLI case covers it")
    else:
        run = _with_cli(broken, shot)
    assert any("boom" in m for m in run.console)
    assert any("null" in e for e in run.page_errors)


def test_a_real_sessions_regression_report_opens_without_errors(
    pytester: pytest.Pytester,
) -> None:
    from tests.conftest import copy_payments

    copy_payments(pytester)
    agents = "harness.agents.reference"
    for agent, extra in (
        ("careful_refund_agent", ["--aqe-save-baseline"]),
        ("naive_refund_agent", []),
    ):
        pytester.runpytest("scenarios", f"--aqe-agent={agents}:{agent}", *extra)
    page = pytester.path / "reports" / "latest" / "report.html"
    assert "refund_ambiguous_timeout" in page.read_text()
    shot = pytester.path / "report.png"
    run = _open(page, shot)
    assert (run.page_errors, run.console) == ([], [])
    width, _ = _png_size(shot)
    assert width >= WIDTH * 0.9
    assert shot.stat().st_size > 50_000
