"""Append landing files, verbatim, to the raw event log in DuckDB.

The loader makes no parsing decisions: every line of every new landing file becomes one row of
``raw.events`` holding its exact bytes (a BLOB; only the ``\\n`` terminator is removed, and a line
that is not UTF-8 is kept as it is), and every file becomes one row of ``raw.load_manifest`` with
its checksum, line count, load time, the SHA-256 of its (decompressed) content and whether that
ends with a newline: so the content can be rebuilt from ``raw.events`` and checked byte for
byte. Rows are only ever inserted, never updated or deleted.

The load time is the warehouse's clock (DESIGN.md, "Three clocks"): the wall time of the run, or
an explicit time for a backfill, or, for a backfill of a partitioned archive, the end of each
file's ``date=/hour=`` partition. It never goes backwards (a file is never stamped before a file
already loaded) and never ahead of the wall clock.

A file that cannot be read (a corrupt, truncated or non-gzip ``.gz``, a broken symlink) is
recorded in ``raw.load_rejections`` and named in :class:`LoadSummary`; the other files of the run
are still loaded, in one transaction. Files whose name the loader does not recognise are listed,
never skipped silently.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import stat
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from shoplog.lock import foreign_holder_message, is_duckdb_lock_conflict
from shoplog.progress import progress_bar

#: File endings the loader takes (compared case-insensitively).
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
    loaded_at timestamp not null,
    content_sha256 varchar,
    ends_with_newline boolean
);
alter table raw.load_manifest add column if not exists content_sha256 varchar;
alter table raw.load_manifest add column if not exists ends_with_newline boolean;
create table if not exists raw.events (
    load_id integer not null,
    file_path varchar not null,
    line_number bigint not null,
    line blob not null,
    loaded_at timestamp not null
);
create table if not exists raw.load_rejections (
    file_path varchar not null,
    file_sha256 varchar,
    reason varchar not null,
    detail varchar not null,
    rejected_at timestamp not null
);
"""

_PARTITION = re.compile(r"(?:^|/)date=(\d{4}-\d{2}-\d{2})(?:/hour=(\d{1,2}))?(?:/|$)")


class LoadError(RuntimeError):
    """A load that was refused; nothing from the run was written."""


@dataclass(frozen=True)
class Rejection:
    """A landing file the loader could not read: it stays unloaded, the others are loaded."""

    file_path: str
    reason: str
    detail: str


@dataclass
class LoadSummary:
    """What one loader run did."""

    load_id: int | None
    loaded_at: datetime | None
    files_loaded: int = 0
    lines_loaded: int = 0
    files_skipped: int = 0
    files: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    unrecognised: list[str] = field(default_factory=list)


def _recognised(name: str) -> bool:
    return name.lower().endswith(LANDING_SUFFIXES)


def _walk(landing: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(landing):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(("_", ".")))
        found.extend(Path(dirpath) / name for name in filenames if not name.startswith(("_", ".")))
    return sorted(found, key=lambda p: p.relative_to(landing).as_posix())


def discover(landing: Path) -> list[Path]:
    """Landing files under ``landing`` in a stable order, skipping ``_*`` and ``.*`` entries."""
    if not landing.is_dir():
        raise LoadError(f"landing directory not found: {landing}")
    return [path for path in _walk(landing) if _recognised(path.name)]


def unrecognised(landing: Path) -> list[str]:
    """Files under ``landing`` (not ``_*``/``.*``) whose name is not a landing file's."""
    if not landing.is_dir():
        return []
    return [
        printable_path(p.relative_to(landing).as_posix())
        for p in _walk(landing)
        if not _recognised(p.name)
    ]


def split_lines(data: bytes, compressed: bool) -> list[bytes]:
    """The file's lines as bytes, verbatim but for the ``\\n`` terminator.

    A final line without a terminator is still a line; an empty file has none. Raises
    ``gzip.BadGzipFile``, ``EOFError`` or ``zlib.error`` for a compressed file that is not whole.
    """
    if compressed:
        data = gzip.decompress(data)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def partition_end(relative_path: str) -> datetime | None:
    """The end of the ``date=YYYY-MM-DD[/hour=HH]`` partition a landing file sits in (UTC)."""
    match = _PARTITION.search(relative_path)
    if not match:
        return None
    try:
        start = datetime.fromisoformat(match.group(1))
    except ValueError:
        return None
    if match.group(2) is None:
        return start + timedelta(days=1)
    hour = int(match.group(2))
    return start + timedelta(hours=hour + 1) if hour < 24 else None


def connect(database: Path) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file for writing, with a clear error when another process holds it."""
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(database))
    except duckdb.IOException as exc:
        if is_duckdb_lock_conflict(exc):
            raise LoadError(foreign_holder_message(database, exc)) from exc
        raise


def _utc_naive(moment: datetime) -> datetime:
    """A naive UTC timestamp (a naive input is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class _NewFile:
    rel: str
    digest: str
    size: int
    lines: list[bytes]
    loaded_at: datetime
    content_digest: str
    ends_with_newline: bool


def read_landing_file(path: Path) -> bytes:
    """The file's bytes. A broken symlink or unreadable file raises OSError, and so does anything
    that is not a regular file (a named pipe would block the loader forever)."""
    if not stat.S_ISREG(path.stat().st_mode):
        raise OSError(f"not a regular file: {path}")
    return path.read_bytes()


def printable_path(relative: str) -> str:
    """A landing path as UTF-8 text; bytes of a file name that are not UTF-8 shown as escapes."""
    return os.fsencode(relative).decode("utf-8", errors="backslashreplace")


def load(
    landing: Path,
    database: Path,
    progress: bool = True,
    loaded_at: datetime | None = None,
    from_partition: bool = False,
) -> LoadSummary:
    """Append every not-yet-loaded file under ``landing`` to ``raw.events`` in ``database``.

    Files are identified by their path relative to ``landing``. A file already in the manifest
    with the same checksum is skipped; one whose bytes changed since it was loaded is refused
    with a :class:`LoadError` naming it, and nothing from the run is written. A file that cannot
    be read is recorded in ``raw.load_rejections`` and reported in the summary; the rest load.

    The load time is ``loaded_at`` if given, else (``from_partition``) the end of each file's
    ``date=/hour=`` partition, else now; never earlier than the latest load time already in the
    manifest and never later than now.
    """
    if loaded_at is not None and from_partition:
        raise LoadError("give either an explicit load time or from_partition, not both")
    landing = Path(landing)
    files = discover(landing)
    summary = LoadSummary(load_id=None, loaded_at=None)
    summary.unrecognised = unrecognised(landing)
    now = _utc_naive(datetime.now(UTC))
    con = connect(Path(database))
    try:
        con.execute(RAW_DDL)
        known = dict(con.execute("select file_path, file_sha256 from raw.load_manifest").fetchall())
        clock_floor = con.execute("select max(loaded_at) from raw.load_manifest").fetchall()[0][0]
        run_stamp = min(_utc_naive(loaded_at), now) if loaded_at is not None else now
        if clock_floor is not None and run_stamp < clock_floor:
            run_stamp = clock_floor

        new: list[_NewFile] = []
        changed: list[str] = []
        for path in files:
            rel = path.relative_to(landing).as_posix()
            if printable_path(rel) != rel:
                summary.rejected.append(
                    Rejection(
                        printable_path(rel),
                        "invalid_file_name",
                        "the file name is not UTF-8; rename the file to load it",
                    )
                )
                continue
            try:
                data = read_landing_file(path)
            except OSError as exc:
                summary.rejected.append(Rejection(rel, "unreadable_file", str(exc)))
                continue
            digest = _sha256(data)
            if rel in known:
                if known[rel] != digest:
                    changed.append(rel)
                else:
                    summary.files_skipped += 1
                continue
            try:
                content = gzip.decompress(data) if path.name.lower().endswith(".gz") else data
            except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
                reason = "truncated_gzip" if isinstance(exc, EOFError) else "corrupt_gzip"
                summary.rejected.append(Rejection(rel, reason, f"{type(exc).__name__}: {exc}"))
                continue
            stamp = run_stamp
            if from_partition:
                end = partition_end(rel)
                if end is None:
                    summary.rejected.append(
                        Rejection(
                            rel,
                            "no_partition_time",
                            "a backfill stamped from partitions needs date=YYYY-MM-DD[/hour=HH] "
                            "in the file's path; load it without the partition option",
                        )
                    )
                    continue
                stamp = min(max(end, clock_floor or end), now)
            new.append(
                _NewFile(
                    rel,
                    digest,
                    len(data),
                    split_lines(content, compressed=False),
                    stamp,
                    _sha256(content),
                    content.endswith(b"\n"),
                )
            )
        if changed:
            raise LoadError(
                "landing files changed after they were loaded (landed files are immutable; "
                "write a new file instead). Nothing was loaded. Changed: " + ", ".join(changed)
            )

        con.execute("begin transaction")
        try:
            _record_rejections(con, landing, summary.rejected, now)
            if new:
                load_id: int = con.execute(
                    "select coalesce(max(load_id), 0) + 1 from raw.load_manifest"
                ).fetchall()[0][0]
                summary.load_id = load_id
                summary.loaded_at = max(f.loaded_at for f in new)
                manifest = _append_files(con, new, summary, load_id, progress)
                con.executemany(
                    "insert into raw.load_manifest (load_id, file_path, file_sha256, file_bytes, "
                    "line_count, loaded_at, content_sha256, ends_with_newline) "
                    "values (?, ?, ?, ?, ?, ?, ?, ?)",
                    manifest,
                )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        return summary
    finally:
        con.close()


def _record_rejections(
    con: duckdb.DuckDBPyConnection, landing: Path, rejected: list[Rejection], now: datetime
) -> None:
    """Append each rejection not already recorded for the same file bytes and reason."""
    for rejection in rejected:
        try:
            digest = _sha256(read_landing_file(landing / rejection.file_path))
        except (OSError, ValueError):
            digest = None
        con.execute(
            """
            insert into raw.load_rejections
            select ?, ?, ?, ?, ?
            where not exists (
                select 1 from raw.load_rejections
                where file_path = ? and file_sha256 is not distinct from ? and reason = ?
            )
            """,
            [
                rejection.file_path,
                digest,
                rejection.reason,
                rejection.detail,
                now,
                rejection.file_path,
                digest,
                rejection.reason,
            ],
        )


def _append_files(
    con: duckdb.DuckDBPyConnection,
    new: list[_NewFile],
    summary: LoadSummary,
    load_id: int,
    progress: bool,
) -> list[tuple]:
    """Append the new files' lines in chunks as load ``load_id``; return their manifest rows."""
    manifest: list[tuple] = []
    paths: list[str] = []
    numbers: list[int] = []
    lines: list[bytes] = []
    stamps: list[datetime] = []
    with progress_bar("loading", total=len(new), enabled=progress) as advance:
        for file in new:
            count = len(file.lines)
            paths.extend([file.rel] * count)
            numbers.extend(range(1, count + 1))
            lines.extend(file.lines)
            stamps.extend([file.loaded_at] * count)
            manifest.append(
                (
                    load_id,
                    file.rel,
                    file.digest,
                    file.size,
                    count,
                    file.loaded_at,
                    file.content_digest,
                    file.ends_with_newline,
                )
            )
            summary.files.append(file.rel)
            summary.files_loaded += 1
            summary.lines_loaded += count
            if len(lines) >= _CHUNK_ROWS:
                _append(con, _frame(load_id, paths, numbers, lines, stamps))
                paths, numbers, lines, stamps = [], [], [], []
            advance(1)
    if lines:
        _append(con, _frame(load_id, paths, numbers, lines, stamps))
    return manifest


def _frame(
    load_id: int,
    paths: list[str],
    numbers: list[int],
    lines: list[bytes],
    stamps: list[datetime],
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "load_id": pd.Series([load_id] * len(lines), dtype="int32"),
            "file_path": pd.Series(paths, dtype="object"),
            "line_number": pd.Series(numbers, dtype="int64"),
            "line": pd.Series(lines, dtype="object"),
            "loaded_at": pd.Series(stamps, dtype="datetime64[us]"),
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
