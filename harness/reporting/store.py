"""The results history: every session's summary, kept in SQLite or PostgreSQL.

``open_store`` takes a file path or a ``sqlite:///`` / ``postgresql://`` URL. Both
backends share one schema and the same SQL (only the parameter style differs). A run
is stored as one ``runs`` row and its per-scenario metrics in long form; ``runs``,
``trends`` and ``suite_trend`` read them back as pandas frames, ordered here (not
by the database) so that both backends give the same frames whatever the
database's collation. ``trend_rows`` and ``suite_rows`` give the same rows, in
the same order, as plain dicts: a session's report reads those, so a session
never imports pandas (about a second of every session's start-up on this
project's 2-core machine); pandas is imported when a frame is asked for.
"""

from __future__ import annotations

import difflib
import importlib
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from harness.errors import HarnessError
from harness.reporting.baseline import scenario_metrics

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

#: 2 added ``runs.suite``, the fingerprint of what the session selected.
SCHEMA_VERSION = 2
DEFAULT_STORE = "reports/history.sqlite"

_BUSY_SECONDS = 30.0
_PG_LOCK = 0x61716573  # "aqes": serialises writers (and schema creation) on a server
_ACCEPTED = (
    "a file path (reports/history.sqlite), sqlite:///relative/path.sqlite, "
    "sqlite:////absolute/path.sqlite, or postgresql://user:password@host:5432/dbname"
)
_SCHEMES = ("sqlite", "postgresql", "postgres")
_RUN_COLUMNS = (
    "run_id",
    "started",
    "finished",
    "git_sha",
    "git_branch",
    "agent",
    "verdict",
    "complete",
    "runs",
    "passed",
    "failed",
    "harness",
    "regressions",
    "suite",
)
_TREND_COLUMNS = ("run_id", "started", "git_sha", "scenario", "metric", "value", "n")
_SUITE_COLUMNS = (
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
)
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT,
        git_sha TEXT,
        git_branch TEXT,
        agent TEXT,
        verdict TEXT NOT NULL,
        complete INTEGER NOT NULL,
        runs INTEGER NOT NULL,
        passed INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        harness TEXT,
        regressions INTEGER,
        suite TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS metrics (
        run_id TEXT NOT NULL REFERENCES runs (run_id),
        scenario TEXT NOT NULL,
        metric TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (run_id, scenario, metric)
    )""",
    "CREATE INDEX IF NOT EXISTS metrics_by_scenario ON metrics (scenario, metric)",
)


def open_store(url: str | Path) -> ResultStore:
    """Open (creating it if absent) the results history at a path or URL.

    A plain path or ``sqlite:///relative/path.sqlite`` / ``sqlite:////abs/path``
    opens SQLite; ``postgresql://…`` or ``postgres://…`` opens PostgreSQL through
    psycopg 3 (the ``postgres`` extra).
    """
    if isinstance(url, Path) or "://" not in url:
        return ResultStore(_SQLite(Path(url)))
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise _bad_url(
                url,
                "a sqlite URL has three slashes before a relative path "
                "and four before an absolute one",
            )
        return ResultStore(_SQLite(Path(rest[1:])))
    if scheme in ("postgresql", "postgres"):
        return ResultStore(_Postgres(url))
    reason = f"unsupported scheme {scheme!r}"
    close = difflib.get_close_matches(scheme, _SCHEMES, n=1)
    if close:
        reason += f" (did you mean {close[0]!r}?)"
    raise _bad_url(url, reason)


def _bad_url(url: str, reason: str) -> HarnessError:
    return HarnessError(
        f"results store {_redact(url)!r}: {reason}\n    fix: use {_ACCEPTED}"
    )


def _redact(url: str) -> str:
    """The URL with its password (and any query string) masked, for messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url.partition("://")[0] + "://…"
    netloc = parts.netloc
    if password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = user.partition(":")[0] + ":***@" + host
    return parts._replace(netloc=netloc, query="…" if parts.query else "").geturl()


class ResultStore:
    """The results history: add session summaries, read runs and trends as frames.

    Open one with ``open_store``; close it with ``close()`` or a ``with`` block.
    """

    def __init__(self, connection: _Connection) -> None:
        self._db = connection
        try:
            self._prepare_schema()
        except BaseException:
            connection.close()
            raise

    @property
    def location(self) -> str:
        """The file path or the URL (password masked) of the store."""
        return self._db.where

    def __repr__(self) -> str:
        return f"<ResultStore {self.location}>"

    def _prepare_schema(self) -> None:
        with self._db.transaction():
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            found = self._db.query("SELECT MAX(version) FROM schema_version")[1][0][0]
            if found is None:
                for statement in _SCHEMA:
                    self._db.execute(statement)
                self._db.execute(
                    "INSERT INTO schema_version (version) VALUES (?)",
                    (SCHEMA_VERSION,),
                )
            elif found == 1:  # runs stored before sessions recorded their suite
                self._db.execute("ALTER TABLE runs ADD COLUMN suite TEXT")
                self._db.execute(
                    "INSERT INTO schema_version (version) VALUES (?)",
                    (SCHEMA_VERSION,),
                )
            elif found > SCHEMA_VERSION:
                raise HarnessError(
                    f"results store {self.location}: schema version {found} is newer "
                    f"than this harness reads ({SCHEMA_VERSION})\n"
                    "    fix: upgrade aqe-harness (pip install -U aqe-harness), "
                    "or open another store"
                )

    def add_run(self, summary: Mapping[str, Any]) -> None:
        """Store a session summary; adding a run_id again replaces that run.

        One transaction: a crash leaves the store as it was before the call.
        """
        row = _run_row(summary)
        run_id = row[0]
        metrics = [
            (run_id, scenario, name, metric.value, metric.n)
            for scenario, measured in scenario_metrics(summary["results"]).items()
            for name, metric in measured.metrics.items()
        ]
        with self._db.transaction():
            self._db.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            self._db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            self._db.execute(
                f"INSERT INTO runs ({', '.join(_RUN_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in _RUN_COLUMNS)})",
                row,
            )
            if metrics:
                self._db.executemany(
                    "INSERT INTO metrics (run_id, scenario, metric, value, n) "
                    "VALUES (?, ?, ?, ?, ?)",
                    metrics,
                )

    def runs(self) -> pd.DataFrame:
        """One row per stored run, ordered by ``started``."""
        frame = _typed(
            _frame(self._run_rows(), _RUN_COLUMNS),
            complete="bool",
            runs="int64",
            passed="int64",
            failed="int64",
            regressions="Int64",
        )
        frame["finished"] = _timestamps(frame["finished"])
        return frame

    def trends(
        self,
        scenario: str | None = None,
        metric: str | None = None,
        last: int | None = None,
        *,
        agent: str | None = None,
        suite: str | None = None,
    ) -> pd.DataFrame:
        """Metric values run by run, in long form, ordered by started, scenario, metric.

        ``scenario``, ``metric``, ``agent`` and ``suite`` (a selection's
        fingerprint) filter; ``last`` keeps the most recent runs that have a
        selected row.
        """
        rows = self.trend_rows(scenario, metric, last, agent=agent, suite=suite)
        return _typed(_frame(rows, _TREND_COLUMNS), value="float64", n="int64")

    def trend_rows(
        self,
        scenario: str | None = None,
        metric: str | None = None,
        last: int | None = None,
        *,
        agent: str | None = None,
        suite: str | None = None,
    ) -> list[dict[str, Any]]:
        """:meth:`trends`' rows as they are stored, in its order, without pandas."""
        _check_last(last)
        sql = (
            "SELECT m.run_id, r.started, r.git_sha, m.scenario, m.metric, m.value, m.n"
            " FROM metrics m JOIN runs r ON r.run_id = m.run_id"
        )
        filters = {
            "m.scenario": scenario,
            "m.metric": metric,
            "r.agent": agent,
            "r.suite": suite,
        }
        chosen = {column: v for column, v in filters.items() if v is not None}
        if chosen:
            sql += " WHERE " + " AND ".join(f"{column} = ?" for column in chosen)
        columns, found = self._db.query(sql, tuple(chosen.values()))
        rows = [dict(zip(columns, row, strict=True)) for row in found]
        rows.sort(
            key=lambda r: (
                _moment(r["started"]),
                r["run_id"],
                r["scenario"],
                r["metric"],
            )
        )
        if last is not None:
            recent = set(list(dict.fromkeys(r["run_id"] for r in rows))[-last:])
            rows = [r for r in rows if r["run_id"] in recent]
        return rows

    def suite_trend(self, last: int | None = None) -> pd.DataFrame:
        """Per run, ordered by started: its pass rate over all runs, the number of
        regressed scenarios (when it was compared with a baseline), its verdict,
        and the series it belongs to: its agent and suite (None: not recorded).
        """
        return _typed(
            _frame(self.suite_rows(last), _SUITE_COLUMNS),
            complete="bool",
            runs="int64",
            passed="int64",
            pass_rate="float64",
            regressions="Int64",
        )

    def suite_rows(self, last: int | None = None) -> list[dict[str, Any]]:
        """:meth:`suite_trend`'s rows as they are stored, in its order (a pass
        rate of None where a run had no runs), without pandas."""
        _check_last(last)
        rows = [
            {
                **{column: run[column] for column in _SUITE_COLUMNS if column in run},
                "complete": bool(run["complete"]),
                "pass_rate": run["passed"] / run["runs"] if run["runs"] > 0 else None,
            }
            for run in self._run_rows()
        ]
        return rows if last is None else rows[-last:]

    def _run_rows(self) -> list[dict[str, Any]]:
        """Every stored run as a dict, ordered by started, then run_id."""
        columns, found = self._db.query(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs")
        rows = [dict(zip(columns, row, strict=True)) for row in found]
        rows.sort(key=lambda r: (_moment(r["started"]), r["run_id"]))
        return rows

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        self._db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _run_row(summary: Mapping[str, Any]) -> tuple[Any, ...]:
    missing = [k for k in ("run_id", "started") if not summary.get(k)]
    if not isinstance(summary.get("results"), list):
        missing.append("results")
    if missing:
        raise HarnessError(
            f"cannot add a summary without {', '.join(missing)} to the results "
            f"history (summary_version {summary.get('summary_version')})\n"
            "    fix: store the summary.json of a harness that writes "
            "summary_version 2 or later"
        )
    for key in ("started", "finished"):
        stamp = summary.get(key)
        try:
            if stamp is not None:
                datetime.fromisoformat(stamp)
        except (TypeError, ValueError):
            raise HarnessError(
                f"summary {summary['run_id']}: {key} {stamp!r} is not an ISO 8601 "
                "time\n    fix: write it like 2026-12-01T08:15:00Z"
            ) from None
    git = summary.get("git") or {}
    comparison = summary.get("comparison")
    regressions = None
    if comparison:
        counts = comparison.get("counts", {})
        fallback = len(comparison.get("regressions", ()))
        regressions = int(counts.get("regressed", fallback))
    return (
        summary["run_id"],
        summary["started"],
        summary.get("finished"),
        git.get("sha"),
        git.get("branch"),
        summary.get("agent"),
        summary.get("verdict", "empty"),
        int(bool(summary.get("complete", True))),
        int(summary.get("runs", 0)),
        int(summary.get("passed", 0)),
        int(summary.get("failed", 0)),
        summary.get("harness"),
        regressions,
        (summary.get("selection") or {}).get("fingerprint"),
    )


def _check_last(last: int | None) -> None:
    if last is not None and last < 1:
        raise HarnessError(
            f"last={last}: the number of recent runs must be at least 1\n"
            "    fix: pass last=None for every run"
        )


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

    return pd.DataFrame.from_records(rows, columns=list(columns))


def _typed(frame: pd.DataFrame, **dtypes: str) -> pd.DataFrame:
    """The frame with fixed dtypes, the same for both backends and for no rows."""
    strings = {c: "str" for c in frame.columns if c not in dtypes}
    frame = frame.astype({**strings, **dtypes})
    frame["started"] = _timestamps(frame["started"])
    return frame


def _timestamps(column: pd.Series) -> pd.Series:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

    return pd.to_datetime(column, utc=True, format="ISO8601").dt.as_unit("us")


def _moment(value: object) -> datetime:
    """A stored time as a UTC datetime to order by (as pandas reads it: a time
    without an offset is UTC)."""
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class _Connection(Protocol):
    """What the store needs of a database: the two backends below."""

    where: str

    def transaction(self) -> AbstractContextManager[None]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def query(
        self, sql: str, params: Sequence[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    def close(self) -> None: ...


def _to_wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode, waiting out another process doing the same.

    Switching the journal mode needs the file to itself, and SQLite answers
    "database is locked" at once, not after the busy timeout, when a second
    process opens a new file in the same instant; so wait here, the busy
    timeout's length at most.
    """
    deadline = time.monotonic() + _BUSY_SECONDS
    pause = 0.001
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


class _SQLite:
    """The stdlib's sqlite3 in WAL mode, with a busy timeout for concurrent writers."""

    def __init__(self, path: Path) -> None:
        self.where = str(path)
        try:
            if self.where != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                path, timeout=_BUSY_SECONDS, isolation_level=None
            )
            try:
                _to_wal(self._conn)
            except sqlite3.Error:
                self._conn.close()
                raise
        except (OSError, sqlite3.Error) as exc:
            fix = f"use {_ACCEPTED}, naming a SQLite file or a new one"
            if "locked" in str(exc):
                fix = (
                    f"another session held the store's write lock for over "
                    f"{_BUSY_SECONDS:g} s; try again when it has finished"
                )
            raise HarnessError(
                f"results store {self.where}: {exc}\n    fix: {fix}"
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front: a second writer waits for it
        # (busy timeout) instead of failing when it upgrades a read lock.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def query(
        self, sql: str, params: Sequence[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._conn.execute(sql, params)
        return [d[0] for d in cursor.description], cursor.fetchall()

    def close(self) -> None:
        self._conn.close()


class _Postgres:
    """psycopg 3 in autocommit mode, with explicit transactions and ``%s`` params."""

    def __init__(self, url: str) -> None:
        self.where = _redact(url)
        try:
            psycopg = importlib.import_module("psycopg")
        except ImportError:
            raise HarnessError(
                f"results store {self.where}: PostgreSQL needs psycopg 3, "
                "which is not installed\n"
                "    fix: pip install 'aqe-harness[postgres]'"
            ) from None
        try:
            self._conn: Any = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            said = str(exc).strip()
            first = said.splitlines()[0] if said else type(exc).__name__
            raise HarnessError(
                f"results store {self.where}: cannot connect: {first}\n"
                "    fix: check that the server runs and the URL's user, password, "
                "host, port and database"
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._conn.transaction():
            # CREATE TABLE IF NOT EXISTS races between sessions on PostgreSQL;
            # one lock per transaction makes writers (and schema creation) take turns.
            self._conn.execute(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
            yield

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_pyformat(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(_pyformat(sql), rows)

    def query(
        self, sql: str, params: Sequence[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._conn.execute(_pyformat(sql), params)
        return [c.name for c in cursor.description], cursor.fetchall()

    def close(self) -> None:
        self._conn.close()


def _pyformat(sql: str) -> str:
    """The store's ``?`` placeholders in psycopg's ``%s`` style."""
    return sql.replace("?", "%s")
