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

**The load journal.** Load times are knowledge the landing files do not hold, so they must
survive the database. After each load commits, the loader appends every new row of
``raw.load_manifest`` and ``raw.load_rejections`` to an append-only journal file outside the
database (default ``<database>.journal.jsonl`` beside it; :func:`journal_path`), flushed and
fsynced. The file is JSON Lines, UTF-8, one object per line, never rewritten or truncated:

- a loaded file: ``{"kind": "load", "load_id": 3, "file_path": "source=web/date=.../x.ndjson.gz",
  "file_sha256": "…", "content_sha256": "…", "file_bytes": 123, "line_count": 4,
  "loaded_at": "2026-01-02T00:00:00+00:00", "ends_with_newline": true}`` (the manifest row;
  ``file_path`` relative to the landing folder, times ISO-8601 in UTC);
- a rejected file: ``{"kind": "rejection", "file_path": "…", "file_sha256": "…" or null,
  "reason": "corrupt_gzip", "detail": "…", "rejected_at": "…+00:00"}`` (the rejection row).

A crash between the commit and the journal write would lose a load time, so every load starts
by making the journal catch up: each manifest or rejection row the journal lacks is appended
first (from the database). A line torn by a crash (not valid JSON) is ignored when the journal
is read; the catch-up appends that record again in full. A journal recording a loaded file the
database lacks belongs to another (or a lost) database, and the loader refuses it.
:func:`load_recorded` loads files with the load id and time the journal gives them:
``shoplog recover`` (:mod:`shoplog.recover`) rebuilds a lost database with it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import stat
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


#: The journal's default name: the database file's name with this appended.
JOURNAL_SUFFIX = ".journal.jsonl"
#: The columns of ``raw.load_manifest`` a journal's ``load`` line holds, in its order.
MANIFEST_COLUMNS = (
    "load_id",
    "file_path",
    "file_sha256",
    "content_sha256",
    "file_bytes",
    "line_count",
    "loaded_at",
    "ends_with_newline",
)
#: The columns of ``raw.load_rejections`` a journal's ``rejection`` line holds.
REJECTION_COLUMNS = ("file_path", "file_sha256", "reason", "detail", "rejected_at")


@dataclass(frozen=True)
class LoadRecord:
    """One loaded file, as the journal records it: a row of ``raw.load_manifest``."""

    load_id: int
    file_path: str
    file_sha256: str
    content_sha256: str | None
    file_bytes: int
    line_count: int
    loaded_at: datetime  # naive UTC, as in the database
    ends_with_newline: bool | None


@dataclass(frozen=True)
class RejectionRecord:
    """One rejected file, as the journal records it: a row of ``raw.load_rejections``."""

    file_path: str
    file_sha256: str | None
    reason: str
    detail: str
    rejected_at: datetime  # naive UTC


@dataclass
class Journal:
    """The records of a journal file, in the order they were appended."""

    loads: list[LoadRecord]
    rejections: list[RejectionRecord]

    def records(self) -> list[LoadRecord | RejectionRecord]:
        """Every record: the loads, then the rejections."""
        return [*self.loads, *self.rejections]


def journal_path(database: Path) -> Path:
    """The default journal of ``database``: ``<database>.journal.jsonl`` beside it."""
    return database.with_name(database.name + JOURNAL_SUFFIX)


def _row(record: LoadRecord | RejectionRecord, columns: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(record, column) for column in columns)


def _iso_utc(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat()


def _journal_line(record: LoadRecord | RejectionRecord) -> bytes:
    """One journal line (with its newline) for ``record``."""
    if isinstance(record, LoadRecord):
        fields: dict[str, Any] = {
            "kind": "load",
            **dict(zip(MANIFEST_COLUMNS, _row(record, MANIFEST_COLUMNS), strict=True)),
        }
        fields["loaded_at"] = _iso_utc(record.loaded_at)
    else:
        fields = {
            "kind": "rejection",
            **dict(zip(REJECTION_COLUMNS, _row(record, REJECTION_COLUMNS), strict=True)),
        }
        fields["rejected_at"] = _iso_utc(record.rejected_at)
    return (json.dumps(fields, ensure_ascii=False) + "\n").encode("utf-8")


def read_journal(path: Path) -> Journal:
    """The records of the journal at ``path`` (none when it does not exist).

    A line that is not a JSON object of a known kind (torn by a crash while it was written) is
    skipped: the loader's catch-up appended the record again in full.
    """
    journal = Journal([], [])
    if not path.exists():
        return journal
    for raw in path.read_bytes().split(b"\n"):
        try:
            fields = json.loads(raw)
        except ValueError:
            continue
        kind = fields.pop("kind", None) if isinstance(fields, dict) else None
        try:
            if kind == "load":
                fields["loaded_at"] = _utc_naive(datetime.fromisoformat(fields["loaded_at"]))
                journal.loads.append(LoadRecord(**fields))
            elif kind == "rejection":
                fields["rejected_at"] = _utc_naive(datetime.fromisoformat(fields["rejected_at"]))
                journal.rejections.append(RejectionRecord(**fields))
        except (KeyError, TypeError, ValueError):
            continue
    return journal


def _database_records(con: duckdb.DuckDBPyConnection) -> Journal:
    """The manifest and rejection rows of the database, as journal records."""
    loads = con.execute(
        f"select {', '.join(MANIFEST_COLUMNS)} from raw.load_manifest order by load_id, file_path"
    ).fetchall()
    rejections = con.execute(
        f"select {', '.join(REJECTION_COLUMNS)} from raw.load_rejections "
        "order by rejected_at, file_path, reason"
    ).fetchall()
    return Journal(
        [LoadRecord(*row) for row in loads], [RejectionRecord(*row) for row in rejections]
    )


def _refuse_foreign_journal(path: Path, journal: Journal, database: Journal) -> None:
    """A :class:`LoadError` when ``journal`` records a load or rejection ``database`` lacks."""
    known = set(database.records())
    foreign = [r.file_path for r in journal.records() if r not in known]
    if foreign:
        raise LoadError(
            f"the journal {path} records loads this database does not have (first: {foreign[0]}):"
            " it is the journal of another or a lost database. Rebuild a lost database with "
            "`shoplog recover`, or give the loader another journal"
        )


def _catch_up(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Append to the journal at ``path`` every manifest and rejection row it lacks."""
    journal = read_journal(path)
    database = _database_records(con)
    _refuse_foreign_journal(path, journal, database)
    recorded = set(journal.records())
    missing = [r for r in database.records() if r not in recorded]
    if missing:
        _append_journal(path, [_journal_line(record) for record in missing])


def _append_journal(path: Path, lines: list[bytes]) -> None:
    """Append ``lines`` to the journal, flushed and fsynced; a torn last line is ended first."""
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as out:
        if out.tell() > 0:
            with path.open("rb") as existing:
                existing.seek(-1, os.SEEK_END)
                if existing.read(1) != b"\n":
                    out.write(b"\n")
        out.write(b"".join(lines))
        out.flush()
        os.fsync(out.fileno())
    if created:  # the new directory entry must survive a crash too
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def load(
    landing: Path,
    database: Path,
    progress: bool = True,
    loaded_at: datetime | None = None,
    from_partition: bool = False,
    journal: Path | None = None,
) -> LoadSummary:
    """Append every not-yet-loaded file under ``landing`` to ``raw.events`` in ``database``.

    Files are identified by their path relative to ``landing``. A file already in the manifest
    with the same checksum is skipped; one whose bytes changed since it was loaded is refused
    with a :class:`LoadError` naming it, and nothing from the run is written. A file that cannot
    be read is recorded in ``raw.load_rejections`` and reported in the summary; the rest load.

    The load time is ``loaded_at`` if given, else (``from_partition``) the end of each file's
    ``date=/hour=`` partition, else now; never earlier than the latest load time already in the
    manifest and never later than now.

    Each load is also appended to the journal (``journal``, default :func:`journal_path`), after
    the journal caught up with the database (see the module's docstring).
    """
    if loaded_at is not None and from_partition:
        raise LoadError("give either an explicit load time or from_partition, not both")
    landing = Path(landing)
    files = discover(landing)
    journal = Path(journal) if journal is not None else journal_path(Path(database))
    if not Path(database).exists():
        _refuse_foreign_journal(journal, read_journal(journal), Journal([], []))
    summary = LoadSummary(load_id=None, loaded_at=None)
    summary.unrecognised = unrecognised(landing)
    now = _utc_naive(datetime.now(UTC))
    con = connect(Path(database))
    try:
        con.execute(RAW_DDL)
        _catch_up(con, journal)
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
                content = _content(path, data)
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
            new.append(_new_file(rel, data, content, stamp))
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
                _insert_load(con, new, summary, load_id, progress)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        try:
            _catch_up(con, journal)
        except OSError as exc:
            raise LoadError(
                f"the load was committed but the journal {journal} could not be written ({exc}); "
                "the next load writes it first"
            ) from exc
        return summary
    finally:
        con.close()


def load_recorded(
    landing: Path,
    database: Path,
    records: Sequence[LoadRecord],
    rejections: Sequence[RejectionRecord] = (),
    progress: bool = False,
) -> LoadSummary:
    """Load the files of one recorded loader run again, with its load id and load times.

    For recovery (:mod:`shoplog.recover`): each record's file, under ``landing``, is read,
    checked against the recorded SHA-256 (a changed file is a :class:`LoadError` naming it,
    and nothing is written) and appended exactly as :func:`load` appended it, so ``raw.events``
    and ``raw.load_manifest`` get back the rows they had. ``rejections`` are inserted verbatim
    into ``raw.load_rejections``, in the same transaction. The journal is not written: the
    records come from it.
    """
    landing = Path(landing)
    if len({record.load_id for record in records}) > 1:
        raise ValueError("load_recorded takes the files of one load (one load id)")
    new: list[_NewFile] = []
    for record in records:
        data = read_landing_file(landing / record.file_path)
        if _sha256(data) != record.file_sha256:
            raise LoadError(
                f"landing file {record.file_path} is not the file that was loaded "
                "(its SHA-256 differs from the journal's)"
            )
        content = _content(landing / record.file_path, data)
        new.append(_new_file(record.file_path, data, content, record.loaded_at))
    summary = LoadSummary(load_id=None, loaded_at=None)
    con = connect(Path(database))
    try:
        con.execute(RAW_DDL)
        con.execute("begin transaction")
        try:
            if rejections:
                con.executemany(
                    f"insert into raw.load_rejections ({', '.join(REJECTION_COLUMNS)}) "
                    "values (?, ?, ?, ?, ?)",
                    [_row(rejection, REJECTION_COLUMNS) for rejection in rejections],
                )
            if new:
                _insert_load(con, new, summary, records[0].load_id, progress)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        return summary
    finally:
        con.close()


def _content(path: Path, data: bytes) -> bytes:
    """The file's content: ``data``, decompressed for a ``.gz`` (raises for a bad gzip)."""
    return gzip.decompress(data) if path.name.lower().endswith(".gz") else data


def _new_file(rel: str, data: bytes, content: bytes, stamp: datetime) -> _NewFile:
    return _NewFile(
        rel,
        _sha256(data),
        len(data),
        split_lines(content, compressed=False),
        stamp,
        _sha256(content),
        content.endswith(b"\n"),
    )


def _insert_load(
    con: duckdb.DuckDBPyConnection,
    new: list[_NewFile],
    summary: LoadSummary,
    load_id: int,
    progress: bool,
) -> None:
    """Append ``new`` to ``raw.events`` and ``raw.load_manifest`` as load ``load_id``."""
    summary.load_id = load_id
    summary.loaded_at = max(f.loaded_at for f in new)
    manifest = _append_files(con, new, summary, load_id, progress)
    con.executemany(
        "insert into raw.load_manifest (load_id, file_path, file_sha256, file_bytes, "
        "line_count, loaded_at, content_sha256, ends_with_newline) "
        "values (?, ?, ?, ?, ?, ?, ?, ?)",
        manifest,
    )


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
