"""The HTML report in a real headless Chromium: no console or page errors, a
screenshot worth looking at, and a failing run's story in the run viewer (the
README's picture, ``docs/run-viewer.png``, is this test's screenshot).

Uses Python playwright with the system browser (``chromium`` on PATH, Debian's
package; ``playwright install`` is never needed). When playwright cannot drive
that browser, the chromium command line takes over (``--headless --screenshot``
with console messages read from its log). Skipped only when there is no chromium.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.reporting.html import render_html
from harness.reporting.viewer import load_stories
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


#: Where the README's screenshot of the run viewer lives (rewritten by the test
#: when ``AQE_UPDATE_SCREENSHOT=1``).
README_SHOT = Path(__file__).resolve().parents[2] / "docs" / "run-viewer.png"


@dataclass
class OpenedRun:
    """A run opened in the viewer: its story's text (cells split by tabs, rows
    by new lines), the row an evidence link pointed at, and what went wrong."""

    driver: str
    text: str
    pointed_at: str | None = None
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


def _click_into(page: Path, scenario: str, shot: Path) -> OpenedRun | None:
    """Open the report, click the scenario's run open, follow the idempotency
    oracle's last ledger evidence, screenshot the story; None without playwright."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            try:
                tab = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                errors: list[str] = []
                console: list[str] = []
                tab.on(
                    "console",
                    lambda m: (
                        console.append(f"{m.type}: {m.text}")
                        if m.type in ("error", "warning")
                        else None
                    ),
                )
                tab.on("pageerror", lambda e: errors.append(str(e)))
                tab.goto(page.as_uri(), wait_until="load")
                row = tab.locator(f'#runs-table tr[data-name="{scenario}"]')
                row.locator("button.open-run").click()
                story = tab.locator(".story")
                text = story.inner_text()
                finding = story.locator(".finding", has_text="idempotency")
                finding.locator("a", has_text="ledger#2").click()
                pointed = tab.evaluate("location.hash")
                # the story down to its ledger: what the README shows
                top, tall = story.evaluate(
                    """n => {
                      var end = Array.prototype.find.call(n.querySelectorAll("h3"),
                        function (h) { return h.textContent === "Faults"; }) || n;
                      var top = n.getBoundingClientRect().top;
                      return [top + window.scrollY,
                        end.getBoundingClientRect().top - top];
                    }"""
                )
                tab.evaluate("window.scrollTo(0, 0)")  # no sticky heading over it
                tab.screenshot(
                    path=str(shot),
                    full_page=True,
                    clip={"x": 0, "y": top, "width": WIDTH, "height": tall + 8},
                )
            finally:
                browser.close()
    except Error:
        return None
    return OpenedRun(
        driver="playwright",
        text=text,
        pointed_at=pointed,
        console=console,
        page_errors=errors,
    )


def _deep_link(page: Path, anchor: str, shot: Path | None = None) -> OpenedRun:
    """The command line's way in: the page opens the run a ``#run-N`` link names;
    the DOM after its script ran, as text (and a screenshot, when ``shot``)."""
    assert CHROMIUM is not None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr"]
    url = f"{page.as_uri()}#{anchor}"
    done = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if shot is not None:
        size = f"--window-size={WIDTH},{HEIGHT}"
        subprocess.run(
            [CHROMIUM, *flags, size, f"--screenshot={shot}", url],
            capture_output=True,
            timeout=120,
            check=False,
        )
    opened = OpenedRun(driver="chromium-cli", text="")
    for line in done.stderr.splitlines():
        found = CONSOLE_LINE.search(line)
        if found is not None:
            target = (
                opened.page_errors if "Uncaught" in found.group(1) else opened.console
            )
            target.append(found.group(1))
    start = done.stdout.find(f'id="{anchor}-story"')
    story = done.stdout[start:] if start != -1 else ""
    story = re.sub(r"</t[dh]>", "\t", story)
    story = re.sub(r"</(tr|p|li|div|h3)>", "\n", story)
    text = html.unescape(re.sub(r"<[^>]+>", "", story))
    opened.text = "\n".join(line.rstrip("\t") for line in text.splitlines())
    return opened


def test_the_naive_runs_report_opens_to_the_story_of_its_double_refund(
    pytester: pytest.Pytester, record_property: Callable[[str, object], None]
) -> None:
    """Issue 19's acceptance: a real session's page, clicked into in Chromium
    (and opened by a link on the command line), shows the double refund's story.
    Its page size is printed and kept as the JUnit property ``report_html_bytes``.
    About 6 s: a pytester session of the payments scenarios and two browsers."""
    from tests.conftest import copy_payments

    copy_payments(pytester)
    pytester.runpytest(
        "scenarios", "--aqe-agent=harness.agents.reference:naive_refund_agent"
    )
    page = pytester.path / "reports" / "latest" / "report.html"
    size = page.stat().st_size
    record_property("report_html_bytes", size)
    print(f"report.html of 5 payments runs: {size:,} bytes")
    assert size < 150_000  # 68 kB when written: a story is a few kB
    source = page.read_text()
    anchor = re.search(
        r'<tr id="(run-\d+)" data-run="\d+" data-name="refund_ambiguous_timeout"',
        source,
    )
    assert anchor is not None
    shot = pytester.path / "run-viewer.png"

    clicked = _click_into(page, "refund_ambiguous_timeout", shot)
    linked = _deep_link(page, anchor[1], None if clicked else shot)

    for run in (clicked, linked):
        if run is None:  # playwright cannot drive this chromium: the link does
            continue
        assert (run.page_errors, run.console) == ([], []), run.driver
        _shows_the_double_refund(run.text)
    if clicked is not None:
        # an evidence link points at the timeline entry it cites
        assert clicked.pointed_at == f"#{anchor[1]}-ledger-2"
    width, height = _png_size(shot)
    assert (width, height >= 600) == (WIDTH, True)
    if os.environ.get("AQE_UPDATE_SCREENSHOT") == "1":
        README_SHOT.parent.mkdir(exist_ok=True)
        shutil.copy(shot, README_SHOT)


def _shows_the_double_refund(text: str) -> None:
    """Both ledger entries of one business key at their simulated times, the
    timeout injected after the commit, and the idempotency oracle's word."""
    rows = text.splitlines()
    effects = [r.split("\t") for r in rows if re.match(r"ledger#[12]\t\+\d", r)]
    assert [r[:2] for r in effects] == [
        ["ledger#1", "+0.000s"],
        ["ledger#2", "+30.000s"],
    ]
    assert effects[0][2] == effects[1][2]
    assert effects[0][2].startswith("refund:ch_")
    assert any(
        "fault lost-response injected: timeout on call #1" in r and "commit: after" in r
        for r in rows
    )
    # what the agent saw beside what really happened
    assert any(r.endswith("\ttimeout\tcommitted ledger#1") for r in rows)
    assert "idempotency: business key 'refund:ch_" in text
    assert "committed 2 effects, at most 1 allowed (duplicated)" in text


def test_model_calls_and_human_steps_open_without_errors(tmp_path: Path) -> None:
    """An LLM run (Chat Completions, streamed, with an approval a human grants)
    opens with its model calls and human steps (a few seconds: the SDK's import)."""
    from harness.run import run_scenario
    from harness.scenario.loader import load_scenario
    from harness.source.callables import load_callable
    from harness.world.clock import format_offset
    from tests.conftest import ROOT
    from tests.reporting.test_viewer import session

    results = []
    for name in ("llm_refund_over_limit_streamed",):
        loaded = load_scenario(ROOT / "scenarios" / "llm" / f"{name}.yaml")
        assert loaded.model is not None
        assert loaded.model.script is not None
        model = load_callable(loaded.model.script, what="scripted model", example="-")
        agent = load_callable(
            "harness.agents.library:careful_agent", what="agent", example="-"
        )
        results.append(run_scenario(loaded, agent, seed=0, model=model))
    summary = session(tmp_path, *results)
    page = _write(
        tmp_path,
        "llm.html",
        render_html(summary, stories=load_stories(summary, tmp_path)),
    )
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("no playwright: the command line cannot click runs open")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            try:
                tab = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                errors: list[str] = []
                tab.on("pageerror", lambda e: errors.append(str(e)))
                tab.on(
                    "console",
                    lambda m: errors.append(m.text) if m.type == "error" else None,
                )
                tab.goto(page.as_uri(), wait_until="load")
                for button in tab.locator("button.open-run").all():
                    button.click()
                texts = {
                    story.locator("code").first.inner_text(): story.inner_text()
                    for story in tab.locator(".story").all()
                }
            finally:
                browser.close()
    except Error:
        pytest.skip("playwright cannot drive this chromium")
    assert errors == []
    refund = texts["llm_refund_over_limit_streamed"]
    assert "Model calls" in refund
    assert "model call (openai chat.completions, " in refund
    assert ", streamed): " in refund
    assert "human decided approval apr_" in refund
    assert "asked ops: request_approval" in refund
    assert "calls create_refund(" in refund  # what the model asked for
    # simulated times in the terminal's words (the approval came hours later)
    (decided,) = [h for h in results[0].world.history if h.process == "human"]
    assert decided.time > 3600
    assert f"{format_offset(decided.time)}\thuman\thuman decided approval" in refund
