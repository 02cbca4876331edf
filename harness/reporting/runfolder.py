"""A session's run folder: ``<report dir>/runs/<timestamp>-<short sha>/``.

It holds ``selection.json`` (what the session collected, written when collection
is done: see :mod:`harness.reporting.selection`), ``results.jsonl`` (one record
per run, appended as each run finishes, so an interrupted session keeps what
finished), ``summary.json``, ``summary.md``, ``report.html`` and ``traces/``.
``<report dir>/latest`` points at the newest one.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.run import RunRecord

RESULTS = "results.jsonl"


@dataclass(frozen=True, slots=True, kw_only=True)
class GitInfo:
    sha: str | None = None
    branch: str | None = None
    dirty: bool = False

    @property
    def short(self) -> str:
        return self.sha[:7] if self.sha else "nogit"

    def to_json(self) -> dict[str, Any]:
        return {"sha": self.sha, "branch": self.branch, "dirty": self.dirty}


def git_info(root: Path) -> GitInfo:
    """The commit ``root`` is at, if it is in a git work tree (else all None)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    if sha is None:
        return GitInfo()
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return GitInfo(sha=sha, branch=branch, dirty=bool(status))


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(reports: Path, started: datetime, git: GitInfo) -> str:
    """``20261201T081500Z-e1862da``, with ``-2``, ``-3``… if that folder exists."""
    base = f"{started.strftime('%Y%m%dT%H%M%SZ')}-{git.short}"
    run_id, n = base, 1
    while (reports / "runs" / run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


class ResultsLog:
    """``results.jsonl``, appended one whole line per finished run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: RunRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
        # one write of a whole line to a file opened for appending: a reader sees
        # whole lines, and a killed session keeps every run that finished
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()


def point_latest(reports: Path, run_dir: Path) -> None:
    """Make ``<reports>/latest`` a symlink to ``run_dir`` (replaced atomically)."""
    link = reports / "latest"
    tmp = reports / f".latest.{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.path.relpath(run_dir, reports), target_is_directory=True)
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)  # a file system without symlinks: no pointer
