"""The run history: one row per load, build, run, publish, replay or recover, in the database.

``ops.run_history`` (created on first use) says when each command ran, who ran it, what went
in and out, how it ended and how long it took. A command fills the :class:`RunRecord` that
:func:`recorded` yields; the row is appended when the block ends, in a short connection of its
own, whatever the outcome (``success``; ``failed`` when an exception escaped or the command
said so; ``interrupted`` on Ctrl-C or a signal). Recording never hides the command's own
result: the exception goes on, and a row that cannot be written is a warning on stderr.

Other readers rely on these column names (``shoplog health`` reads the last build's
``result``, ``failures`` and ``finished_at``).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from shoplog.lock import who

HISTORY_TABLE = "ops.run_history"
COMMANDS = ("load", "build", "run", "publish", "replay", "recover")
#: Commands whose rows are builds (durations and quarantine trends).
BUILD_COMMANDS = ("build", "run")

HISTORY_DDL = f"""
create schema if not exists ops;
create table if not exists {HISTORY_TABLE} (
    run_id varchar not null primary key,
    command varchar not null,
    started_at timestamp not null,
    finished_at timestamp not null,
    duration_s double not null,
    who varchar not null,
    pid integer not null,
    result varchar not null,
    rows_in bigint,
    rows_out bigint,
    quarantined bigint,
    failures integer,
    message varchar,
    details json
);
"""

COLUMNS = (
    "run_id",
    "command",
    "started_at",
    "finished_at",
    "duration_s",
    "who",
    "pid",
    "result",
    "rows_in",
    "rows_out",
    "quarantined",
    "failures",
    "message",
    "details",
)


@dataclass
class RunRecord:
    """What a command tells the history about its run (filled while it runs)."""

    command: str
    rows_in: int | None = None
    rows_out: int | None = None
    quarantined: int | None = None
    failures: int | None = None
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    #: None until the command says ``"failed"`` (a failure reported without raising).
    result: str | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def recorded(
    database: Path, command: str, interrupted: Callable[[], bool] | None = None
) -> Iterator[RunRecord]:
    """Yield a :class:`RunRecord` to fill; append it to ``ops.run_history`` when the block ends.

    The result is ``failed`` when an exception escapes the block (it is raised again) or the
    command set ``record.result = "failed"``, ``interrupted`` on KeyboardInterrupt or
    SystemExit, or when ``interrupted()`` says a signal arrived (a signal inside a DuckDB
    query reaches the caller as a DuckDB error), else ``success``.
    """
    if command not in COMMANDS:
        raise ValueError(f"not a recorded command: {command!r} (one of {', '.join(COMMANDS)})")
    record = RunRecord(command)
    started_at, started = _utc_now(), time.perf_counter()
    try:
        yield record
    except (KeyboardInterrupt, SystemExit) as exc:
        record.result = "interrupted"
        record.message = record.message or f"{type(exc).__name__} {exc}".strip()
        raise
    except BaseException as exc:
        record.result = "failed"
        record.message = record.message or f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if interrupted is not None and interrupted():
            record.result = "interrupted"
        _append(Path(database), record, started_at, time.perf_counter() - started)


def _append(database: Path, record: RunRecord, started_at: datetime, seconds: float) -> None:
    """Append ``record``'s row; on any failure warn on stderr instead of raising."""
    row = (
        str(uuid.uuid4()),
        record.command,
        started_at,
        _utc_now(),
        round(seconds, 3),
        who(),
        os.getpid(),
        record.result or "success",
        record.rows_in,
        record.rows_out,
        record.quarantined,
        record.failures,
        record.message,
        json.dumps(record.details, sort_keys=True, default=str),
    )
    if not database.is_file():
        print(f"warning: run history not recorded: no database at {database}", file=sys.stderr)
        return
    try:
        with duckdb.connect(str(database)) as con:
            con.execute(HISTORY_DDL)
            con.execute(
                f"insert into {HISTORY_TABLE} ({', '.join(COLUMNS)}) "
                f"values ({', '.join('?' for _ in COLUMNS)})",
                list(row),
            )
    except (duckdb.Error, OSError) as exc:
        print(f"warning: run history not recorded in {database}: {exc}", file=sys.stderr)


def _read(database: Path, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on ``database`` opened read-only; none when there is no history yet."""
    with duckdb.connect(str(database), read_only=True) as con:
        try:
            return con.execute(sql, params).fetchall()
        except duckdb.CatalogException:
            return []


def last_runs(database: Path, limit: int = 20) -> list[dict[str, Any]]:
    """The last ``limit`` runs, newest first, as dicts of the columns (details parsed)."""
    rows = _read(
        database,
        f"select {', '.join(COLUMNS)} from {HISTORY_TABLE} "
        "order by started_at desc, finished_at desc limit ?",
        [limit],
    )
    runs = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    for run in runs:
        run["details"] = json.loads(run["details"]) if run["details"] else {}
    return runs


def quarantine_rate(quarantined: int | None, lines: int | None) -> float | None:
    """``quarantined / lines``, None when either is unknown or there are no lines."""
    if quarantined is None or not lines:
        return None
    return quarantined / lines


def _versus_median(values: list[float | None], window: int) -> dict[str, Any]:
    """The last value against the median of up to ``window`` values before it (oldest first)."""
    known = [v for v in values if v is not None]
    if not known:
        return {"last": None, "median_previous": None, "previous_runs": 0}
    previous = known[-1 - window : -1]
    return {
        "last": known[-1],
        "median_previous": statistics.median(previous) if previous else None,
        "previous_runs": len(previous),
    }


def trends(database: Path, window: int = 10) -> dict[str, dict[str, Any]]:
    """Trends of the successful builds (``build`` and ``run``), oldest to newest.

    ``build_seconds``: the last build's duration against the median of up to ``window``
    builds before it. ``quarantine_rate``: the share of the lines new to each build (raw lines
    and quarantined rows since the previous build: the loads it took in) that were quarantined,
    the last build's against the median of the builds before it.
    """
    rows = _read(
        database,
        "select duration_s, rows_in - coalesce(lag(rows_in) over runs, 0), "
        "quarantined - coalesce(lag(quarantined) over runs, 0) "
        f"from {HISTORY_TABLE} "
        f"where command in ({', '.join('?' for _ in BUILD_COMMANDS)}) and result = 'success' "
        "window runs as (order by started_at) order by started_at",
        list(BUILD_COMMANDS),
    )
    return {
        "build_seconds": _versus_median([row[0] for row in rows], window),
        "quarantine_rate": _versus_median(
            [quarantine_rate(row[2], row[1]) if row[1] and row[1] > 0 else None for row in rows],
            window,
        ),
    }
