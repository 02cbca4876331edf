"""Canary mode under pytest: the collected scenarios become one stream item.

With ``--aqe-mode canary`` (or ``mode: canary`` in a scenario) the scenario items
are templates: they are replaced by a single :class:`CanaryItem` that runs the
whole stream (the kill switch needs one ordered stream, so it runs on one xdist
worker). The item fails when the canary fails; its report goes to the session's
run folder as ``canary.json`` and into ``summary.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness._pytest.config import aqe_config
from harness._pytest.items import (
    RECORD,
    ScenarioItem,
    effective_mode,
    run_dir,
    session_isolation,
)
from harness._pytest.secrets import collecting
from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.run import RunRecord


def canary_config(config: pytest.Config) -> Any:
    """The stream's :class:`CanaryConfig` from the command line."""
    from harness.modes.canary import CanaryConfig

    settings = aqe_config(config)
    steps_text = settings.canary_steps
    if steps_text:
        try:
            steps = tuple(float(s) for s in str(steps_text).split(",") if s.strip())
        except ValueError:
            raise HarnessError(
                f"--aqe-canary-steps {steps_text!r}: not a list of percentages\n"
                "    fix: e.g. --aqe-canary-steps 1,5,25"
            ) from None
    else:
        steps = (settings.canary_fraction * 100.0,)
    return CanaryConfig(
        cases=settings.cases,
        steps=steps,
        seed=settings.seed,
        wall_timeout=settings.timeout,
        isolation=session_isolation(config),
    )


def control_agent_spec(config: pytest.Config) -> str:
    """The canary's control agent; a usage error that says how to name one."""
    spec = aqe_config(config).control_agent
    if not spec:
        raise HarnessError(
            "canary mode needs a control agent\n"
            "    fix: pass --aqe-control-agent module:callable (the agent in"
            " production today)"
        )
    return spec


def gather_canary(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Replace the canary-mode scenario items by one :class:`CanaryItem`."""
    templates = [
        item
        for item in items
        if isinstance(item, ScenarioItem)
        and effective_mode(config, item.scenario) == "canary"
    ]
    if not templates:
        return
    keep = [item for item in items if item not in templates]
    scenarios = {id(t.scenario): t.scenario for t in templates}  # one per file
    canary = CanaryItem.from_parent(
        session, name="aqe-canary", templates=list(scenarios.values())
    )
    items[:] = [*keep, canary]


class CanaryFailed(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class CanaryItem(pytest.Item):
    """The whole canary stream, one test: fails when the canary fails."""

    def __init__(self, *, templates: list[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.templates = templates

    def runtest(self) -> None:
        with collecting(self):  # its report shows the secrets' aliases only
            self._run()

    def _run(self) -> None:
        from harness.files import write_atomic
        from harness.modes.canary import run_canary

        config = self.config
        candidate_spec = aqe_config(config).agent_spec()
        control_spec = control_agent_spec(config)
        stream = canary_config(config)
        with _progress(config, stream.cases) as progress:
            report = run_canary(
                self.templates,
                candidate_spec,  # each loaded where it runs
                control_spec,
                stream,
                progress=progress,
            )
        data = report.to_json()
        data["candidate"], data["control"] = candidate_spec, str(control_spec)
        path = run_dir(config) / "canary.json"
        write_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
        self.stash[RECORD] = canary_record(data, self.nodeid)
        if report.failed:
            raise CanaryFailed(render_canary(data))

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str:
        if isinstance(excinfo.value, CanaryFailed | HarnessError):
            text = getattr(excinfo.value, "text", None)
            return str(text) if text else f"aqe: {excinfo.value}"
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path("aqe-canary"), 0, f"canary over {len(self.templates)} template(s)"


def canary_record(data: dict[str, Any], nodeid: str) -> RunRecord:
    """The stream's run record: one row of the summary, with the report in it."""
    from harness.run import RECORD_VERSION

    passed = data["verdict"] != "failed"
    return {
        "record_version": RECORD_VERSION,
        "nodeid": nodeid,
        "scenario": "aqe-canary",
        "path": "aqe-canary",
        "seed": data["seed"],
        "seed_index": 0,
        "agent": data["candidate"],
        "mode": "canary",
        "passed": passed,
        "failed": [] if passed else ["canary"],
        "scores": {"canary": passed},
        "values": {"canary": None},
        "severity": {"canary": "block"},
        "faults": [],
        "escalation": None,
        "thresholds": None,
        "tool_calls": None,
        "simulated_seconds": data["rollback_at"],
        "trace": "canary.json",
        "canary": data,
    }


def render_canary(data: dict[str, Any]) -> str:
    """The canary's verdict, kill switch, blast radius and stages, as text."""
    lines = [
        f"canary {data['verdict'].upper()}: candidate {data['candidate']} vs control"
        f" {data['control']}, {data['cases_run']} of {data['cases']} cases run"
    ]
    if data["killed"]:
        radius = data["blast_radius"]
        lines += [
            f"  kill switch: {data['kill_reason']}",
            f"  rolled back at {data['rollback_at']:.1f} s simulated"
            f" ({data['time_to_rollback']:.1f} s after the candidate's first case)",
            f"  blast radius: {radius['cases']} candidate case(s),"
            f" {radius['failed_cases']} failed, {radius['side_effects']} side"
            f" effect(s)",
        ]
        lines += [f"    critical: {c}" for c in radius["critical"]]
    for stage in data["stages"]:
        judgement = stage["judgement"] or {}
        lines.append(
            f"  stage {stage['percent']:g}%: {stage['cases']} case(s),"
            f" {stage['candidate_cases']} to the candidate; judge"
            f" {judgement.get('verdict', '-')} (score {judgement.get('score', 0):.0f})"
        )
        lines += [f"    {reason}" for reason in judgement.get("reasons", ())]
    lines.append(
        "reproduce: pytest <the same paths> --aqe-mode canary --aqe-agent"
        f" {data['candidate']} --aqe-control-agent {data['control']} --aqe-seed"
        f" {data['seed']} --aqe-cases {data['cases']} --aqe-canary-steps"
        f" {','.join(f'{s:g}' for s in data['steps'])}"
    )
    return "\n".join(lines)


class _progress:
    """A rich progress bar on the terminal for long streams (only on a TTY, and
    not under xdist). pytest's output capture is suspended while it shows, as
    pytest does for its own progress."""

    def __init__(self, config: pytest.Config, total: int) -> None:
        self.total = total
        self.config = config
        self._bar: Any = None
        self._suspended: Any = None

    def __enter__(self) -> Any:
        config = self.config
        if (
            self.total < 200
            or hasattr(config, "workerinput")
            or config.getoption("verbose") < 0
        ):
            return None
        capture = config.pluginmanager.getplugin("capturemanager")
        if capture is not None:
            self._suspended = capture.global_and_fixture_disabled()
            self._suspended.__enter__()
        stream = sys.__stderr__
        if stream is None or not stream.isatty():
            self._resume()
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("canary"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[state]}"),
            console=Console(file=sys.__stderr__),
            transient=True,
        )
        self._bar.start()
        task = self._bar.add_task("stream", total=self.total, state="")

        def update(done: int, total: int, candidate: int, killed: bool) -> None:
            state = "KILLED" if killed else f"{candidate} to the candidate"
            self._bar.update(task, completed=done, state=state)

        return update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
        self._resume()

    def _resume(self) -> None:
        if self._suspended is not None:
            self._suspended.__exit__(None, None, None)
            self._suspended = None
