"""The results history store: SQLite always, PostgreSQL when a server can be made."""

from __future__ import annotations

import glob
import itertools
import json
import os
import pwd
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from harness.errors import HarnessError
from harness.reporting.baseline import (
    MeanMetric,
    MetricKind,
    RateMetric,
    scenario_metrics,
)
from harness.reporting.store import ResultStore, _to_wal, open_store

#: one worker runs this module: its module-scoped set-up is made once (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("reporting.test_store")

ACCEPTED = (
    "a file path (reports/history.sqlite), sqlite:///relative/path.sqlite, "
    "sqlite:////absolute/path.sqlite, or postgresql://user:password@host:5432/dbname"
)


def record(
    scenario: str,
    passed: bool,
    *,
    tool_calls: int = 4,
    seconds: float = 10.0,
    **scores: bool | None,
) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "path": f"scenarios/{scenario}.yaml",
        "passed": passed,
        "failed": [] if passed else ["policy"],
        "scores": scores or {"policy": passed},
        "tool_calls": tool_calls,
        "simulated_seconds": seconds,
    }


def summary(
    run_id: str,
    started: str,
    records: Sequence[dict[str, Any]],
    *,
    verdict: str = "pass",
    comparison: dict[str, Any] | None = None,
) -> dict[str, Any]:
    passed = sum(r["passed"] for r in records)
    return {
        "summary_version": 2,
        "harness": "0.1",
        "run_id": run_id,
        "started": started,
        "finished": started,
        "git": {"sha": f"sha-{run_id}", "branch": "main", "dirty": False},
        "agent": "harness.agents.library:careful_agent",
        "complete": True,
        "verdict": verdict,
        "runs": len(records),
        "passed": passed,
        "failed": len(records) - passed,
        "comparison": comparison,
        "results": list(records),
    }


MONDAY = summary(
    "r1",
    "2026-12-01T08:00:00Z",
    [record("refund_ok", True), record("refund_ok", True), record("dispute", True)],
)
TUESDAY = summary(
    "r2",
    "2026-12-02T08:00:00Z",
    [record("refund_ok", True), record("refund_ok", False), record("dispute", True)],
    verdict="regression",
    comparison={"counts": {"regressed": 1}, "regressions": ["refund_ok: ..."]},
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ResultStore]:
    with open_store(tmp_path / "history.sqlite") as opened:
        yield opened


def test_scenario_metrics_rate_each_judging_oracle_and_average_the_costs() -> None:
    records = [
        record("a", True, tool_calls=4, seconds=10.0, policy=True, escalation=None),
        record("a", False, tool_calls=6, seconds=20.0, policy=False, escalation=True),
        record("a", True, tool_calls=5, seconds=30.0, policy=True, escalation=None),
        record("b", True, policy=None),
    ]
    metrics = scenario_metrics(records)
    assert list(metrics["a"].metrics) == [
        "pass_rate",
        "escalation",
        "policy",
        "tool_calls",
        "simulated_seconds",
    ]
    a = metrics["a"].metrics
    assert a["pass_rate"] == RateMetric(successes=2, n=3)
    assert a["escalation"] == RateMetric(successes=1, n=1)
    assert a["tool_calls"] == MeanMetric(values=(4, 6, 5))
    assert a["tool_calls"].value == 5.0
    assert a["simulated_seconds"].kind is MetricKind.MEAN
    assert "policy" not in metrics["b"].metrics


def test_adding_runs_gives_their_metrics_as_trends(store: ResultStore) -> None:
    store.add_run(TUESDAY)
    store.add_run(MONDAY)
    trend = store.trends(scenario="refund_ok", metric="pass_rate")
    assert list(trend.columns) == [
        "run_id",
        "started",
        "git_sha",
        "scenario",
        "metric",
        "value",
        "n",
    ]
    assert trend[["run_id", "git_sha", "value", "n"]].to_dict("records") == [
        {"run_id": "r1", "git_sha": "sha-r1", "value": 1.0, "n": 2},
        {"run_id": "r2", "git_sha": "sha-r2", "value": 0.5, "n": 2},
    ]
    assert trend["started"].iloc[0] == pd.Timestamp("2026-12-01T08:00:00Z")
    everything = store.trends()
    assert (
        list(everything[everything["run_id"] == "r1"]["metric"])
        == [
            "pass_rate",
            "policy",
            "simulated_seconds",
            "tool_calls",
        ]
        * 2
    )
    assert list(everything["scenario"].iloc[:5]) == ["dispute"] * 4 + ["refund_ok"]


def test_trends_last_keeps_only_the_most_recent_runs(store: ResultStore) -> None:
    store.add_run(MONDAY)
    store.add_run(TUESDAY)
    assert set(store.trends(last=1)["run_id"]) == {"r2"}
    assert set(store.trends(last=5)["run_id"]) == {"r1", "r2"}
    with pytest.raises(HarnessError) as info:
        store.trends(last=0)
    assert str(info.value) == (
        "last=0: the number of recent runs must be at least 1\n"
        "    fix: pass last=None for every run"
    )


def test_runs_are_one_row_per_run_ordered_by_started(store: ResultStore) -> None:
    store.add_run(TUESDAY)
    store.add_run(MONDAY)
    runs = store.runs()
    assert list(runs["run_id"]) == ["r1", "r2"]
    assert runs.iloc[1][
        ["verdict", "runs", "passed", "failed", "git_branch"]
    ].tolist() == [
        "regression",
        3,
        2,
        1,
        "main",
    ]
    assert bool(runs["complete"].iloc[0]) is True


def test_re_adding_a_run_id_replaces_the_run(store: ResultStore) -> None:
    store.add_run(MONDAY)
    store.add_run({**MONDAY, "verdict": "fail", "results": [record("dispute", False)]})
    assert list(store.runs()["verdict"]) == ["fail"]
    trend = store.trends()
    assert set(trend["scenario"]) == {"dispute"}
    assert trend[trend["metric"] == "pass_rate"]["value"].tolist() == [0.0]


def test_a_failed_add_run_leaves_the_stored_run_as_it_was(store: ResultStore) -> None:
    store.add_run(MONDAY)

    class CrashOnMetrics:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def executemany(self, sql: str, rows: Any) -> None:
            raise RuntimeError("the machine lost power")

    real = store._db
    store._db = CrashOnMetrics(real)  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="lost power"):
        store.add_run({**MONDAY, "verdict": "fail"})
    store._db = real
    assert list(store.runs()["verdict"]) == ["pass"]
    assert len(store.trends()) == 8


def test_suite_trend_gives_pass_rate_regressions_and_verdict(
    store: ResultStore,
) -> None:
    store.add_run(MONDAY)
    store.add_run(TUESDAY)
    trend = store.suite_trend()
    assert list(trend.columns) == [
        "run_id",
        "started",
        "git_sha",
        "verdict",
        "complete",
        "runs",
        "passed",
        "pass_rate",
        "regressions",
        "agent",
        "suite",
    ]
    assert trend["pass_rate"].tolist() == [1.0, pytest.approx(2 / 3)]
    assert trend["regressions"].tolist() == [pd.NA, 1]
    assert trend["verdict"].tolist() == ["pass", "regression"]
    assert store.suite_trend(last=1)["run_id"].tolist() == ["r2"]


def test_the_rows_a_session_reads_are_the_frames_rows_in_their_order(
    store: ResultStore,
) -> None:
    """A session's report reads ``trend_rows``/``suite_rows`` (no pandas); they
    are the frames' rows, ordered by the moment a run started, whatever the
    offset it was written with."""
    store.add_run(TUESDAY)
    store.add_run(MONDAY)
    # 2026-12-02T07:00Z, between the two, written at +02:00: as text it sorts last
    store.add_run(
        summary("r3", "2026-12-02T09:00:00+02:00", [record("refund_ok", False)])
    )
    frame = store.trends()
    rows = store.trend_rows()
    assert [r["run_id"] for r in rows] == frame["run_id"].tolist()
    assert [(r["scenario"], r["metric"]) for r in rows] == list(
        zip(frame["scenario"], frame["metric"], strict=True)
    )
    assert [r["value"] for r in rows] == frame["value"].tolist()
    assert list(dict.fromkeys(frame["run_id"])) == ["r1", "r3", "r2"]
    recent = store.trend_rows(scenario="refund_ok", last=2)
    assert [r["run_id"] for r in recent] == store.trends(scenario="refund_ok", last=2)[
        "run_id"
    ].tolist()
    assert {r["run_id"] for r in recent} == {"r3", "r2"}
    suite = store.suite_trend()
    suite_rows = store.suite_rows()
    assert (
        [r["run_id"] for r in suite_rows]
        == suite["run_id"].tolist()
        == ["r1", "r3", "r2"]
    )
    assert [r["pass_rate"] for r in suite_rows] == suite["pass_rate"].tolist()
    assert [r["run_id"] for r in store.suite_rows(last=1)] == ["r2"]


def test_a_session_report_reads_the_history_without_importing_pandas(
    tmp_path: Path,
) -> None:
    sessions = tmp_path / "sessions.json"
    sessions.write_text(json.dumps([MONDAY, TUESDAY]), encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import json, pathlib, sys
        MONDAY, TUESDAY = json.loads(pathlib.Path({str(sessions)!r}).read_text())
        from harness.reporting.html import render_html
        from harness.reporting.store import open_store

        with open_store({str(tmp_path / "history.sqlite")!r}) as store:
            store.add_run(MONDAY)
            store.add_run(TUESDAY)
            page = render_html(
                TUESDAY, trends=store.trend_rows(), suite_trend=store.suite_rows()
            )
        assert "r1" in page, "the past run is on the page"
        print("pandas" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_an_empty_store_gives_empty_frames_with_the_same_columns(
    store: ResultStore,
) -> None:
    assert store.runs().empty
    assert list(store.trends().columns)[-2:] == ["value", "n"]
    assert store.suite_trend().empty
    assert str(store.trends()["started"].dtype) == "datetime64[us, UTC]"


def test_a_summary_without_a_run_id_is_refused(store: ResultStore) -> None:
    old = {"summary_version": 1, "runs": 1, "passed": 1, "results": []}
    with pytest.raises(HarnessError) as info:
        store.add_run(old)
    assert str(info.value) == (
        "cannot add a summary without run_id, started to the results history "
        "(summary_version 1)\n"
        "    fix: store the summary.json of a harness that writes summary_version 2 "
        "or later"
    )


def test_a_summary_with_a_started_time_that_is_not_iso_is_refused(
    store: ResultStore,
) -> None:
    with pytest.raises(HarnessError) as info:
        store.add_run({**MONDAY, "started": "Monday morning"})
    assert str(info.value) == (
        "summary r1: started 'Monday morning' is not an ISO 8601 time\n"
        "    fix: write it like 2026-12-01T08:15:00Z"
    )
    assert store.runs().empty


def test_a_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    open_store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version (version) VALUES (3)")
    db.close()
    with pytest.raises(HarnessError) as info:
        open_store(path)
    assert str(info.value) == (
        f"results store {path}: schema version 3 is newer than this harness reads (2)\n"
        "    fix: upgrade aqe-harness (pip install -U aqe-harness), or open another store"
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (
            "mysql://me:secret@db/history",
            "'mysql://me:***@db/history': unsupported scheme 'mysql'",
        ),
        (
            "postgresq://db/history",
            "'postgresq://db/history': unsupported scheme 'postgresq' (did you mean 'postgresql'?)",
        ),
        (
            "sqlite://history.sqlite",
            "'sqlite://history.sqlite': a sqlite URL has three slashes before a relative path and four before an absolute one",
        ),
    ],
)
def test_a_bad_url_is_refused_naming_the_accepted_forms(url: str, reason: str) -> None:
    with pytest.raises(HarnessError) as info:
        open_store(url)
    assert str(info.value) == f"results store {reason}\n    fix: use {ACCEPTED}"


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just some notes that are long enough\n" * 20)
    with pytest.raises(HarnessError) as info:
        open_store(path)
    assert str(info.value) == (
        f"results store {path}: file is not a database\n"
        f"    fix: use {ACCEPTED}, naming a SQLite file or a new one"
    )


def test_sqlite_urls_and_plain_paths_open_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///reports/history.sqlite") as relative:
        relative.add_run(MONDAY)
    absolute = tmp_path / "reports" / "history.sqlite"
    with open_store(f"sqlite:///{absolute}") as by_url:
        assert by_url.runs()["run_id"].tolist() == ["r1"]
    with open_store("reports/history.sqlite") as by_path:
        assert by_path.location == "reports/history.sqlite"
        assert by_path.runs()["run_id"].tolist() == ["r1"]


def test_a_missing_psycopg_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(HarnessError) as info:
        open_store("postgresql://ci:hunter2@db.internal/aqe")
    assert str(info.value) == (
        "results store postgresql://ci:***@db.internal/aqe: PostgreSQL needs "
        "psycopg 3, which is not installed\n"
        "    fix: pip install 'aqe-harness[postgres]'"
    )


def test_the_sqlite_store_uses_wal_and_a_busy_timeout(store: ResultStore) -> None:
    connection = store._db._conn  # type: ignore[attr-defined]
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA busy_timeout").fetchone() == (30000,)


class _Racing:
    """A connection whose first journal-mode switches lose a race to another process."""

    def __init__(self, losses: int, error: str = "database is locked") -> None:
        self.losses, self.error, self.tries = losses, error, 0

    def execute(self, sql: str) -> None:
        self.tries += 1
        if self.tries <= self.losses:
            raise sqlite3.OperationalError(self.error)


def test_a_journal_mode_switch_that_loses_a_race_is_tried_again() -> None:
    # Two processes opening one new file at once: SQLite refuses the second
    # switch to WAL at once, without waiting out the busy timeout.
    racing = _Racing(losses=3)
    _to_wal(racing)  # type: ignore[arg-type]
    assert racing.tries == 4


def test_a_journal_mode_switch_that_fails_otherwise_is_not_tried_again() -> None:
    racing = _Racing(losses=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        _to_wal(racing)  # type: ignore[arg-type]
    assert racing.tries == 1


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from harness.reporting.store import open_store

    path, name, gate = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    (gate.parent / f"ready-{name}").touch()
    while not gate.exists():
        time.sleep(0.005)
    results = [
        {"scenario": f"s{i}", "passed": i % 3 > 0, "scores": {"policy": True},
         "tool_calls": i, "simulated_seconds": 1.0}
        for i in range(30)
    ]
    with open_store(path) as store:
        for run in range(25):
            store.add_run({
                "run_id": f"{name}-{run:02d}", "started": f"2026-12-01T08:{run:02d}:00Z",
                "verdict": "pass", "runs": 30, "passed": 20, "failed": 10,
                "results": results,
            })
    """
)


def test_two_processes_appending_to_one_file_lose_no_run(tmp_path: Path) -> None:
    path, gate = tmp_path / "history.sqlite", tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, str(gate)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    try:
        # a wait, not a speed bound: starting Python on a busy machine takes a while
        deadline = time.monotonic() + 300
        while not all((tmp_path / f"ready-{n}").exists() for n in "ab"):
            assert time.monotonic() < deadline, "the writers never started"
            time.sleep(0.005)
        gate.touch()
        errors = [writer.communicate(timeout=300)[1] for writer in writers]
    finally:
        for writer in writers:  # a failed wait leaves no process or pipe behind
            if writer.poll() is None:
                writer.kill()
            writer.communicate()
    assert [w.returncode for w in writers] == [0, 0], errors
    with open_store(path) as store:
        assert len(store.runs()) == 50
        assert len(store.trends()) == 50 * 30 * 4
        check = store._db.query("PRAGMA integrity_check")[1]  # type: ignore[attr-defined]
    assert check == [("ok",)]


def _initdb() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found)
    versions = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    versions.sort(key=lambda p: int(Path(p).parents[1].name.partition(".")[0]))
    return Path(versions[-1]) if versions else None


def _as_server_user(command: list[str]) -> list[str]:
    """initdb refuses root: as root, run it (and the server) as ``postgres``."""
    if os.geteuid() != 0:
        return command
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[str]:
    initdb = _initdb()
    if initdb is None:
        pytest.skip("no initdb binary: PostgreSQL is not installed")
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user")
    base = Path(tempfile.mkdtemp(prefix="aqe-pg-"))
    if os.geteuid() == 0:
        os.chown(base, server_user.pw_uid, server_user.pw_gid)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data, pg_ctl = base / "data", initdb.parent / "pg_ctl"
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -F"
    init = ["-D", str(data), "-U", "aqe", "-A", "trust", "--no-sync", "-E", "UTF8"]
    start = ["-D", str(data), "-l", str(base / "log"), "-w", "-t", "30", "-o", options]
    steps = [[str(initdb), *init, "--locale=C"], [str(pg_ctl), *start, "start"]]
    try:
        for step in steps:
            subprocess.run(_as_server_user(step), check=True, capture_output=True)
        yield f"postgresql://aqe@127.0.0.1:{port}"
    finally:
        stop = [str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_server_user(stop), check=False, capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


_databases = itertools.count()


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh database on the throwaway server, as a postgres:// URL."""
    psycopg = pytest.importorskip("psycopg")
    name = f"history_{next(_databases)}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"


def test_postgres_store_reads_back_the_same_frames_as_sqlite(
    postgres_url: str, store: ResultStore
) -> None:
    with open_store(postgres_url.replace("postgresql://", "postgres://")) as pg:
        for target in (pg, store):
            target.add_run(TUESDAY)
            target.add_run({**MONDAY, "verdict": "fail"})
            target.add_run(MONDAY)
        assert len(pg.trends()) == 16
        pd.testing.assert_frame_equal(pg.runs(), store.runs())
        pd.testing.assert_frame_equal(pg.trends(), store.trends())
        pd.testing.assert_frame_equal(pg.suite_trend(), store.suite_trend())
        pd.testing.assert_frame_equal(
            pg.trends(scenario="dispute", last=1),
            store.trends(scenario="dispute", last=1),
        )


def test_postgres_store_refuses_a_newer_schema(postgres_url: str) -> None:
    open_store(postgres_url).close()
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("INSERT INTO schema_version (version) VALUES (7)")
    with pytest.raises(HarnessError) as info:
        open_store(postgres_url)
    assert str(info.value) == (
        f"results store {postgres_url}: schema version 7 is newer than this harness "
        "reads (2)\n"
        "    fix: upgrade aqe-harness (pip install -U aqe-harness), or open another store"
    )


def test_an_unreachable_postgres_server_says_what_to_check() -> None:
    pytest.importorskip("psycopg")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://aqe:pw@127.0.0.1:{port}/history"
    with pytest.raises(HarnessError) as info:
        open_store(url)
    what, fix = str(info.value).split("\n")
    assert what.startswith(
        f"results store postgresql://aqe:***@127.0.0.1:{port}/history: cannot connect: "
    )
    assert fix == (
        "    fix: check that the server runs and the URL's user, password, host, "
        "port and database"
    )


def test_a_schema_1_store_gains_the_suite_and_trends_filter_by_series(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.sqlite"
    with sqlite3.connect(path) as db:  # a store as schema 1 made it
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version (version) VALUES (1)")
        db.execute(
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, started TEXT NOT NULL,"
            " finished TEXT, git_sha TEXT, git_branch TEXT, agent TEXT,"
            " verdict TEXT NOT NULL, complete INTEGER NOT NULL, runs INTEGER NOT NULL,"
            " passed INTEGER NOT NULL, failed INTEGER NOT NULL, harness TEXT,"
            " regressions INTEGER)"
        )
        db.execute(
            "CREATE TABLE metrics (run_id TEXT NOT NULL, scenario TEXT NOT NULL,"
            " metric TEXT NOT NULL, value DOUBLE PRECISION NOT NULL,"
            " n INTEGER NOT NULL, PRIMARY KEY (run_id, scenario, metric))"
        )
    db.close()
    with open_store(path) as store:
        store.add_run(MONDAY)  # no selection: an older session's summary
        subset = {"fingerprint": "a22f9b45f2fc", "scenarios": ["refund_ok"]}
        store.add_run({**TUESDAY, "selection": subset})
        trend = store.suite_trend()
        assert pd.isna(trend["suite"].iloc[0])  # not recorded
        assert trend["suite"].iloc[1] == "a22f9b45f2fc"
        agent = MONDAY["agent"]
        assert trend["agent"].tolist() == [agent, agent]
        mine = store.trends(agent=agent, suite="a22f9b45f2fc")
        assert set(mine["run_id"]) == {"r2"}
        assert set(store.trends(agent="someone:else")["run_id"]) == set()
    with sqlite3.connect(path) as db:
        versions = db.execute("SELECT version FROM schema_version").fetchall()
    db.close()
    assert versions == [(1,), (2,)]
