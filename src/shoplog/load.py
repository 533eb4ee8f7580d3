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

**Streaming, in bounded memory.** The loaded files are first compared with the manifest (a
changed one stops the run before anything is written); the new ones then stream through one
file at a time: a worker thread reads, hashes, decompresses and splits the next file (the
newline offsets found with numpy, the lines one Arrow binary array over the content without its
terminators) while DuckDB appends the current one, in chunks of at most :data:`CHUNK_ROWS` lines
and :data:`CHUNK_BYTES` bytes of lines, from Arrow. Memory holds a few files and a chunk,
however large the run; the loader's connection has a DuckDB ``memory_limit``
(:data:`LOAD_MEMORY_LIMIT`, or ``$SHOPLOG_LOAD_MEMORY_LIMIT``), set back after the load.

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
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shoplog.lock import foreign_holder_message, is_duckdb_lock_conflict
from shoplog.progress import progress_bar

#: File endings the loader takes (compared case-insensitively).
LANDING_SUFFIXES = (".ndjson", ".jsonl", ".json", ".ndjson.gz", ".jsonl.gz", ".json.gz")

#: Lines appended in one insert, at most.
CHUNK_ROWS = 250_000
#: Bytes of lines appended in one insert, at most (a single longer line is inserted alone).
CHUNK_BYTES = 128 * 2**20
#: The DuckDB ``memory_limit`` of the loader's connection, unless :data:`MEMORY_LIMIT_ENV` says.
LOAD_MEMORY_LIMIT = "1GB"
MEMORY_LIMIT_ENV = "SHOPLOG_LOAD_MEMORY_LIMIT"
#: DuckDB needs up to about this many times a line's bytes to append it: a chunk whose longest
#: line needs more than the memory limit raises the limit for the rest of the load.
_LINE_MEMORY_FACTOR = 4
#: Files the worker thread prepares ahead of the one being appended.
_PREPARED_AHEAD = 1
_NEWLINE = ord("\n")
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")

#: Arrow schemas of the rows the loader inserts, in the tables' column order.
_EVENTS_SCHEMA = pa.schema(
    [
        ("load_id", pa.int32()),
        ("file_path", pa.string()),
        ("line_number", pa.int64()),
        ("line", pa.large_binary()),
        ("loaded_at", pa.timestamp("us")),
    ]
)
_MANIFEST_SCHEMA = pa.schema(
    [
        ("load_id", pa.int32()),
        ("file_path", pa.string()),
        ("file_sha256", pa.string()),
        ("file_bytes", pa.int64()),
        ("line_count", pa.int64()),
        ("loaded_at", pa.timestamp("us")),
        ("content_sha256", pa.string()),
        ("ends_with_newline", pa.bool_()),
    ]
)

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


@dataclass(frozen=True)
class _Clock:
    """The load times of one run: ``run_stamp`` for every file, or (``from_partition``) the end
    of each file's partition, never before ``floor`` (the latest load time already in the
    manifest) nor after ``now``."""

    run_stamp: datetime
    floor: datetime | None
    now: datetime
    from_partition: bool

    def stamp(self, rel: str) -> datetime | None:
        """The load time of the file at ``rel``; None for a partition stamp without partition."""
        if not self.from_partition:
            return self.run_stamp
        end = partition_end(rel)
        if end is None:
            return None
        return min(max(end, self.floor or end), self.now)


@dataclass
class _Survey:
    """The landing files sorted out before anything is written: the new ones (position in the
    run, path, relative path), the rejected ones (position, rejection), the changed ones."""

    new: list[tuple[int, Path, str]] = field(default_factory=list)
    rejected: list[tuple[int, Rejection]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    skipped: int = 0


def _survey(landing: Path, files: list[Path], known: dict[str, str]) -> _Survey:
    """Sort out ``files``: a loaded file (in ``known``, path to SHA-256) is read and compared,
    a new one is only named (it is read when it is appended), a non-UTF-8 name is rejected."""
    survey = _Survey()
    for position, path in enumerate(files):
        rel = path.relative_to(landing).as_posix()
        if printable_path(rel) != rel:
            rejection = Rejection(
                printable_path(rel),
                "invalid_file_name",
                "the file name is not UTF-8; rename the file to load it",
            )
            survey.rejected.append((position, rejection))
        elif rel not in known:
            survey.new.append((position, path, rel))
        else:
            try:
                digest = _sha256(read_landing_file(path))
            except OSError as exc:
                survey.rejected.append((position, Rejection(rel, "unreadable_file", str(exc))))
                continue
            if digest == known[rel]:
                survey.skipped += 1
            else:
                survey.changed.append(rel)
    return survey


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

    New files stream through (see :func:`_append_files`): memory holds a few files and one
    chunk of lines, however many lines the run appends.

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
        clock = _run_clock(con, loaded_at, from_partition, now)
        survey = _survey(landing, files, known)
        if survey.changed:
            raise LoadError(
                "landing files changed after they were loaded (landed files are immutable; "
                "write a new file instead). Nothing was loaded. Changed: "
                + ", ".join(survey.changed)
            )
        summary.files_skipped = survey.skipped
        rejected = list(survey.rejected)
        with _memory_limited(con, load_memory_limit()), _transaction(con):
            prepared = _loadable(partial(_prepare_new, clock=clock), survey.new, rejected)
            _insert_load(con, prepared, len(survey.new), summary, _next_load_id(con), progress)
            summary.rejected = [rejection for _, rejection in sorted(rejected, key=_position)]
            _record_rejections(con, landing, summary.rejected, now)
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


def _position(item: tuple[int, Rejection]) -> int:
    return item[0]


def _run_clock(
    con: duckdb.DuckDBPyConnection, loaded_at: datetime | None, from_partition: bool, now: datetime
) -> _Clock:
    """The run's :class:`_Clock`: never before the latest load time in the manifest."""
    floor = con.execute("select max(loaded_at) from raw.load_manifest").fetchall()[0][0]
    run_stamp = min(_utc_naive(loaded_at), now) if loaded_at is not None else now
    if floor is not None and run_stamp < floor:
        run_stamp = floor
    return _Clock(run_stamp, floor, now, from_partition)


def _next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    load_id: int = con.execute(
        "select coalesce(max(load_id), 0) + 1 from raw.load_manifest"
    ).fetchall()[0][0]
    return load_id


def _prepare_new(item: tuple[int, Path, str], clock: _Clock) -> tuple[int, _Prepared | Rejection]:
    """A new file read, decompressed, stamped and split, or the reason it cannot be loaded."""
    position, path, rel = item
    try:
        data = read_landing_file(path)
    except OSError as exc:
        return position, Rejection(rel, "unreadable_file", str(exc))
    try:
        content = _content(path, data)
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
        reason = "truncated_gzip" if isinstance(exc, EOFError) else "corrupt_gzip"
        return position, Rejection(rel, reason, f"{type(exc).__name__}: {exc}")
    stamp = clock.stamp(rel)
    if stamp is None:
        return position, Rejection(
            rel,
            "no_partition_time",
            "a backfill stamped from partitions needs date=YYYY-MM-DD[/hour=HH] "
            "in the file's path; load it without the partition option",
        )
    return position, _prepared(rel, data, content, stamp)


def _loadable(
    prepare: Callable[[_Item], tuple[int, _Prepared | Rejection]],
    items: Sequence[_Item],
    rejected: list[tuple[int, Rejection]],
) -> Generator[_Prepared]:
    """``prepare(item)`` of each item, prepared ahead (:func:`_prepared_ahead`); a rejection is
    added to ``rejected`` instead."""
    with closing(_prepared_ahead(prepare, items)) as outcomes:
        for position, outcome in outcomes:
            if isinstance(outcome, Rejection):
                rejected.append((position, outcome))
            else:
                yield outcome


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
    and nothing is written: the run's one transaction is rolled back) and appended exactly as
    :func:`load` appended it, so ``raw.events`` and ``raw.load_manifest`` get back the rows they
    had. ``rejections`` are inserted verbatim into ``raw.load_rejections``, in the same
    transaction. The journal is not written: the records come from it.
    """
    landing = Path(landing)
    if len({record.load_id for record in records}) > 1:
        raise ValueError("load_recorded takes the files of one load (one load id)")
    summary = LoadSummary(load_id=None, loaded_at=None)
    con = connect(Path(database))
    try:
        with _memory_limited(con, load_memory_limit()), _transaction(con):
            con.execute(RAW_DDL)
            if rejections:
                con.executemany(
                    f"insert into raw.load_rejections ({', '.join(REJECTION_COLUMNS)}) "
                    "values (?, ?, ?, ?, ?)",
                    [_row(rejection, REJECTION_COLUMNS) for rejection in rejections],
                )
            if records:
                prepared = _prepared_ahead(partial(_prepare_recorded, landing), records)
                _insert_load(con, prepared, len(records), summary, records[0].load_id, progress)
        return summary
    finally:
        con.close()


def _prepare_recorded(landing: Path, record: LoadRecord) -> _Prepared:
    """The recorded file read, checked against its recorded SHA-256, decompressed and split."""
    data = read_landing_file(landing / record.file_path)
    if _sha256(data) != record.file_sha256:
        raise LoadError(
            f"landing file {record.file_path} is not the file that was loaded "
            "(its SHA-256 differs from the journal's)"
        )
    content = _content(landing / record.file_path, data)
    return _prepared(record.file_path, data, content, record.loaded_at)


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The block in one transaction: committed at its end, rolled back if it raises."""
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def load_memory_limit() -> str:
    """The DuckDB ``memory_limit`` of the loader's connection: ``$SHOPLOG_LOAD_MEMORY_LIMIT``,
    else :data:`LOAD_MEMORY_LIMIT`."""
    return os.environ.get(MEMORY_LIMIT_ENV) or LOAD_MEMORY_LIMIT


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _memory_limit(con: duckdb.DuckDBPyConnection) -> str:
    limit: str = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    return limit


@contextmanager
def _memory_limited(con: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """DuckDB's ``memory_limit`` set to ``limit`` for the block, then back as it was (the
    setting is the database instance's, which another connection of this process may share):
    the default again if it was the default, else the limit as DuckDB showed it
    (:func:`_settable`; DuckDB shows no exact figure)."""
    previous = _memory_limit(con)
    try:
        con.execute(f"set memory_limit = {_sql_text(limit)}")
    except duckdb.Error as exc:
        raise LoadError(f"the loader's memory limit {limit!r} ({MEMORY_LIMIT_ENV}): {exc}") from exc
    try:
        yield
    finally:
        con.execute("reset memory_limit")
        if _memory_limit(con) != previous:
            con.execute(f"set memory_limit = {_sql_text(_settable(previous))}")


def _settable(shown: str) -> str:
    """A memory limit DuckDB shows as ``shown`` again: DuckDB shows a limit in bytes with one
    decimal, cut (not rounded), so ``"2.7 GiB"`` stands for 2.7 to 2.8 GiB and is set as the
    middle of that, 2.75 GiB."""
    match = re.fullmatch(r"(\d+(?:\.\d)?) (\w+)", shown)
    return f"{float(match.group(1)) + 0.05:.2f} {match.group(2)}" if match else shown


def _content(path: Path, data: bytes) -> bytes:
    """The file's content: ``data``, decompressed for a ``.gz`` (raises for a bad gzip)."""
    return gzip.decompress(data) if path.name.lower().endswith(".gz") else data


def line_offsets(content: bytes) -> np.ndarray:
    """Where each line of ``content`` starts and ends once its ``\\n`` terminators are taken
    out: line ``i`` is ``content.replace(b"\\n", b"")[offsets[i]:offsets[i + 1]]``.

    As :func:`split_lines`: a final line without a terminator is still a line, an empty
    content has none. ``int64``, one more offset than lines.
    """
    ends = np.flatnonzero(np.frombuffer(content, dtype=np.uint8) == _NEWLINE)
    ends -= np.arange(len(ends))  # the terminators before each line are taken out
    last = [len(content) - len(ends)] if content and not content.endswith(b"\n") else []
    return np.concatenate(([0], ends, last)).astype(np.int64)


def line_array(content: bytes, offsets: np.ndarray) -> pa.Array:
    """The lines of ``content`` (:func:`line_offsets`) as one Arrow ``large_binary`` array over
    one buffer: the bytes verbatim (any encoding, NULs, ``\\r``), but for the terminators."""
    return pa.Array.from_buffers(
        pa.large_binary(),
        len(offsets) - 1,
        [None, pa.py_buffer(offsets), pa.py_buffer(content.replace(b"\n", b""))],
    )


@dataclass
class _Prepared:
    """A file ready to append: its manifest facts and its lines (offsets as
    :func:`line_offsets`)."""

    rel: str
    digest: str
    size: int
    loaded_at: datetime
    content_digest: str
    ends_with_newline: bool
    lines: pa.Array
    offsets: np.ndarray

    def manifest_row(self, load_id: int) -> dict[str, Any]:
        """Its ``raw.load_manifest`` row (:data:`_MANIFEST_SCHEMA`'s columns)."""
        return {
            "load_id": load_id,
            "file_path": self.rel,
            "file_sha256": self.digest,
            "file_bytes": self.size,
            "line_count": len(self.lines),
            "loaded_at": self.loaded_at,
            "content_sha256": self.content_digest,
            "ends_with_newline": self.ends_with_newline,
        }


def _prepared(rel: str, data: bytes, content: bytes, stamp: datetime) -> _Prepared:
    offsets = line_offsets(content)
    return _Prepared(
        rel=rel,
        digest=_sha256(data),
        size=len(data),
        loaded_at=stamp,
        content_digest=_sha256(content),
        ends_with_newline=content.endswith(b"\n"),
        lines=line_array(content, offsets),
        offsets=offsets,
    )


def _prepared_ahead(
    prepare: Callable[[_Item], _Result], items: Sequence[_Item]
) -> Generator[_Result]:
    """``prepare(item)`` of each item, in order; a worker thread prepares the next item while
    the caller uses this one (reading, hashing, decompressing and numpy release the GIL, and
    so does DuckDB's insert). An exception of ``prepare`` is raised here, at its item."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shoplog-load") as pool:
        pending: deque[Future[_Result]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(prepare, item))
                if len(pending) > _PREPARED_AHEAD:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _insert_load(
    con: duckdb.DuckDBPyConnection,
    files: Generator[_Prepared],
    total: int,
    summary: LoadSummary,
    load_id: int,
    progress: bool,
) -> None:
    """Append ``files`` to ``raw.events`` and ``raw.load_manifest`` as load ``load_id``."""
    with closing(files):
        manifest = _append_files(con, files, total, summary, load_id, progress)
    if manifest:
        summary.load_id = load_id
        summary.loaded_at = max(row["loaded_at"] for row in manifest)
        rows = pa.Table.from_pylist(manifest, schema=_MANIFEST_SCHEMA)
        _insert_arrow(con, "raw.load_manifest", rows)


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
    files: Iterator[_Prepared],
    total: int,
    summary: LoadSummary,
    load_id: int,
    progress: bool,
) -> list[dict[str, Any]]:
    """Append the files' lines in chunks (:class:`_Chunks`) as load ``load_id``; return their
    manifest rows."""
    manifest: list[dict[str, Any]] = []
    chunks = _Chunks(load_id, CHUNK_ROWS, CHUNK_BYTES)
    limit = _shown_bytes(_memory_limit(con))
    with progress_bar("loading", total=total, enabled=progress) as advance:
        for file in files:
            for chunk in chunks.add(file):
                limit = _room_for(con, chunk, limit)
                _append(con, chunk)
            manifest.append(file.manifest_row(load_id))
            summary.files.append(file.rel)
            summary.files_loaded += 1
            summary.lines_loaded += len(file.lines)
            advance(1)
    rest = chunks.rest()
    if rest is not None:
        _room_for(con, rest, limit)
        _append(con, rest)
    return manifest


def _room_for(con: duckdb.DuckDBPyConnection, chunk: pa.Table, limit: int) -> int:
    """The memory limit (bytes), raised first if the chunk's longest line needs more: a line is
    never too long to load, whatever the limit (a failed insert could not be retried: it ends
    the transaction)."""
    needed = _LINE_MEMORY_FACTOR * (pc.max(pc.binary_length(chunk["line"])).as_py() or 0)
    if needed <= limit:
        return limit
    con.execute(f"set memory_limit = '{needed} bytes'")
    return needed


_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}


def _shown_bytes(shown: str) -> int:
    """The bytes of a memory limit as DuckDB shows it (``"953.6 MiB"``), to its precision."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?) (\w+)", shown)
    if not match or match.group(2) not in _UNITS:
        raise LoadError(f"DuckDB's memory limit {shown!r} is not a number of bytes")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def line_slices(offsets: np.ndarray, rows: int, size: int) -> list[tuple[int, int]]:
    """Consecutive ``(start, stop)`` line ranges covering every line (offsets as
    :func:`line_offsets`), each of at most ``rows`` lines and ``size`` bytes of lines, but for
    a single line longer than ``size``, which is a range of its own."""
    count = len(offsets) - 1
    slices: list[tuple[int, int]] = []
    start = 0
    while start < count:
        fits = int(np.searchsorted(offsets, offsets[start] + size, side="right")) - 1
        stop = max(start + 1, min(start + rows, fits, count))
        slices.append((start, stop))
        start = stop
    return slices


class _Chunks:
    """Slices of files' lines (:func:`line_slices`) gathered into Arrow tables of ``raw.events``
    rows, each of at most ``rows`` lines and ``size`` bytes of lines (but for a longer line)."""

    def __init__(self, load_id: int, rows: int, size: int) -> None:
        self.load_id, self.rows, self.size = load_id, rows, size
        self.batches: list[pa.RecordBatch] = []
        self.held_rows = self.held_bytes = 0

    def add(self, file: _Prepared) -> Iterator[pa.Table]:
        """Add ``file``'s lines; yield each chunk that is full before one of them is added."""
        for start, stop in line_slices(file.offsets, self.rows, self.size):
            nbytes = int(file.offsets[stop] - file.offsets[start])
            overfull = (
                self.held_rows + stop - start > self.rows or self.held_bytes + nbytes > self.size
            )
            if self.batches and overfull:
                yield self._take()
            self.batches.append(_events_batch(self.load_id, file, start, stop))
            self.held_rows += stop - start
            self.held_bytes += nbytes

    def rest(self) -> pa.Table | None:
        """The last chunk, if any lines are held."""
        return self._take() if self.batches else None

    def _take(self) -> pa.Table:
        chunk = pa.Table.from_batches(self.batches, schema=_EVENTS_SCHEMA)
        self.batches, self.held_rows, self.held_bytes = [], 0, 0
        return chunk


def _events_batch(load_id: int, file: _Prepared, start: int, stop: int) -> pa.RecordBatch:
    """The ``raw.events`` rows of ``file``'s lines ``start`` to ``stop`` (0-based, stop out)."""
    count = stop - start
    return pa.record_batch(
        [
            pa.repeat(pa.scalar(load_id, pa.int32()), count),
            pa.repeat(pa.scalar(file.rel, pa.string()), count),
            pa.array(np.arange(start + 1, stop + 1, dtype=np.int64)),
            file.lines.slice(start, count),
            pa.repeat(pa.scalar(file.loaded_at, pa.timestamp("us")), count),
        ],
        schema=_EVENTS_SCHEMA,
    )


def _append(con: duckdb.DuckDBPyConnection, chunk: pa.Table) -> None:
    """Append one chunk (:class:`_Chunks`) to ``raw.events``."""
    _insert_arrow(con, "raw.events", chunk)


def _insert_arrow(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """Insert the Arrow table ``rows`` (its columns in ``table``'s order) into ``table``.

    Through a relation, not ``register``: a registered table stays referenced (its memory
    held) until the transaction ends."""
    con.from_arrow(rows).insert_into(table)
