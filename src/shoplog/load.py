"""Append landing files, verbatim, to the raw event log in DuckDB.

The loader makes no parsing decisions: every line of every new landing file becomes one row of
``raw.events`` exactly as it was written (only the ``\\n`` terminator is removed), and every file
becomes one row of ``raw.load_manifest`` with its checksum and line count. Rows are only ever
inserted, never updated or deleted. One call is one transaction: either every new file of the run
is in the log, or none is.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from shoplog.progress import progress_bar

#: File endings the loader takes; anything else in the landing directory is ignored.
LANDING_SUFFIXES = (".ndjson", ".jsonl", ".json", ".ndjson.gz", ".jsonl.gz", ".json.gz")

#: Rows buffered before they are appended in one insert.
_CHUNK_ROWS = 250_000

RAW_DDL = """
create schema if not exists raw;
create table if not exists raw.load_manifest (
    load_id integer not null,
    file_path varchar not null primary key,
    file_sha256 varchar not null,
    file_bytes bigint not null,
    line_count bigint not null,
    loaded_at timestamp not null
);
create table if not exists raw.events (
    load_id integer not null,
    file_path varchar not null,
    line_number bigint not null,
    line varchar not null,
    loaded_at timestamp not null
);
"""


class LoadError(RuntimeError):
    """A load that was refused; nothing from the run was written."""


@dataclass
class LoadSummary:
    """What one loader run did."""

    load_id: int | None
    loaded_at: datetime | None
    files_loaded: int = 0
    lines_loaded: int = 0
    files_skipped: int = 0
    files: list[str] = field(default_factory=list)


def discover(landing: Path) -> list[Path]:
    """Landing files under ``landing`` in a stable order, skipping ``_*`` and ``.*`` entries."""
    if not landing.is_dir():
        raise LoadError(f"landing directory not found: {landing}")
    found = []
    for dirpath, dirnames, filenames in os.walk(landing):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(("_", ".")))
        for name in filenames:
            if name.startswith(("_", ".")) or not name.endswith(LANDING_SUFFIXES):
                continue
            found.append(Path(dirpath) / name)
    return sorted(found, key=lambda p: p.relative_to(landing).as_posix())


def split_lines(data: bytes, compressed: bool) -> list[str]:
    """The file's lines, verbatim but for the ``\\n`` terminator.

    A final line without a terminator is still a line; an empty file has none. Bytes that are
    not UTF-8 are replaced by U+FFFD (DuckDB text must be UTF-8); such a line then fails JSON
    validation downstream and is quarantined rather than lost.
    """
    if compressed:
        data = gzip.decompress(data)
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def connect(database: Path) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file for writing, with a clear error when another process holds it."""
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(database))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise LoadError(
                f"database {database} is in use by another process (a loader or a dbt run); "
                f"wait for it to finish and run again. DuckDB said: {exc}"
            ) from exc
        raise


def _utc_naive(moment: datetime) -> datetime:
    """A naive UTC timestamp (a naive input is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load(
    landing: Path,
    database: Path,
    progress: bool = True,
    loaded_at: datetime | None = None,
) -> LoadSummary:
    """Append every not-yet-loaded file under ``landing`` to ``raw.events`` in ``database``.

    Files are identified by their path relative to ``landing``. A file already in the manifest
    with the same checksum is skipped; one whose bytes changed since it was loaded is refused
    with a :class:`LoadError` naming it, and nothing from the run is written.
    """
    landing = Path(landing)
    files = discover(landing)
    con = connect(Path(database))
    try:
        con.execute(RAW_DDL)
        known = dict(con.execute("select file_path, file_sha256 from raw.load_manifest").fetchall())

        new: list[tuple[str, Path, bytes]] = []
        changed: list[str] = []
        for path in files:
            rel = path.relative_to(landing).as_posix()
            data = path.read_bytes()
            digest = _sha256(data)
            if rel in known:
                if known[rel] != digest:
                    changed.append(rel)
                continue
            new.append((rel, path, data))
        if changed:
            raise LoadError(
                "landing files changed after they were loaded (landed files are immutable; "
                "write a new file instead). Nothing was loaded. Changed: " + ", ".join(changed)
            )

        summary = LoadSummary(load_id=None, loaded_at=None, files_skipped=len(files) - len(new))
        if not new:
            return summary

        load_id = con.execute(
            "select coalesce(max(load_id), 0) + 1 from raw.load_manifest"
        ).fetchone()[0]
        stamp = _utc_naive(loaded_at or datetime.now(UTC))
        summary.load_id, summary.loaded_at = load_id, stamp

        con.execute("begin transaction")
        try:
            manifest = _append_files(con, new, summary, progress)
            con.executemany("insert into raw.load_manifest values (?, ?, ?, ?, ?, ?)", manifest)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        return summary
    finally:
        con.close()


def _append_files(
    con: duckdb.DuckDBPyConnection,
    new: list[tuple[str, Path, bytes]],
    summary: LoadSummary,
    progress: bool,
) -> list[tuple]:
    """Append the new files' lines in chunks; return their manifest rows."""
    manifest: list[tuple] = []
    paths: list[str] = []
    numbers: list[int] = []
    lines: list[str] = []
    with progress_bar("loading", total=len(new), enabled=progress) as advance:
        for rel, path, data in new:
            file_lines = split_lines(data, compressed=path.name.endswith(".gz"))
            paths.extend([rel] * len(file_lines))
            numbers.extend(range(1, len(file_lines) + 1))
            lines.extend(file_lines)
            manifest.append(
                (summary.load_id, rel, _sha256(data), len(data), len(file_lines), summary.loaded_at)
            )
            summary.files.append(rel)
            summary.files_loaded += 1
            summary.lines_loaded += len(file_lines)
            if len(lines) >= _CHUNK_ROWS:
                _append(con, _frame(summary, paths, numbers, lines))
                paths, numbers, lines = [], [], []
            advance(1)
    if lines:
        _append(con, _frame(summary, paths, numbers, lines))
    return manifest


def _frame(
    summary: LoadSummary, paths: list[str], numbers: list[int], lines: list[str]
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "load_id": pd.Series([summary.load_id] * len(lines), dtype="int32"),
            "file_path": pd.Series(paths, dtype="object"),
            "line_number": pd.Series(numbers, dtype="int64"),
            "line": pd.Series(lines, dtype="object"),
            "loaded_at": pd.Series([summary.loaded_at] * len(lines), dtype="datetime64[us]"),
        }
    )


def _append(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    con.register("_landing_chunk", frame)
    try:
        con.execute(
            "insert into raw.events select load_id, file_path, line_number, line, loaded_at "
            "from _landing_chunk"
        )
    finally:
        con.unregister("_landing_chunk")
