"""Replay: prove that incremental runs equal a full refresh, and rebuild snapshots from the log.

``replay_check`` delivers a landing directory in batches (by the received hour of its files),
loading and running ``dbt build`` after each batch, then fully refreshes and compares every
model table by an order-independent content hash; it also rebuilds the snapshots into an empty
database with ``replay`` and compares them with the ones the batch runs accumulated.

``replay`` rebuilds the snapshots of a database from its raw log alone: into an empty database
it replays the load history (one step per loader run), appending each run's lines and
building the snapshots with ``as_of`` at that run's load time, as the scheduled runs did.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from shoplog.build import UNIT_TESTS_EXCLUDED, BuildError, run_dbt
from shoplog.load import discover, load

#: Schemas whose tables are models (compared by replay-check and time travel).
MODEL_SCHEMAS = ("staging", "identity", "core", "marts", "features")
# unit tests check model logic on fixed inputs, not the log: `make test` runs them once
SNAPSHOT_SCHEMA = "snapshots"

_PARTITION = re.compile(r"date=(\d{4}-\d{2}-\d{2})/hour=(\d{2})")


@dataclass
class Verdict:
    """One relation's comparison: rows and content hash on each side."""

    relation: str
    left: tuple[int, str] | None
    right: tuple[int, str] | None

    @property
    def same(self) -> bool:
        return self.left == self.right


def table_hashes(database: Path, schemas: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    """(rows, content hash) of every base table in ``schemas``; the hash ignores row order."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in "
            f"({', '.join(repr(s) for s in schemas)}) order by 1, 2"
        ).fetchall()
        return {
            f"{schema}.{table}": _content_hash(con, f'"{schema}"."{table}"')
            for schema, table in tables
        }


def database_schemas(database: Path) -> tuple[str, ...]:
    """Every schema of ``database`` that holds a base table (raw, the models', snapshots,
    seeds' …), sorted: with :func:`table_hashes`, the whole database's content."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select distinct table_schema from information_schema.tables "
            "where table_type = 'BASE TABLE' order by 1"
        ).fetchall()
    return tuple(schema for (schema,) in rows)


def _content_hash(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, str]:
    """(rows, order-independent content hash) of ``relation`` (a table or a subquery)."""
    rows, digest = con.execute(
        "select count(*), coalesce(md5(string_agg(row_hash, '' order by row_hash)), '') "
        f"from (select md5(cast(t as varchar)) as row_hash from {relation} as t)"
    ).fetchall()[0]
    return int(rows), str(digest)


def snapshot_rows(database: Path) -> dict[str, tuple[int, str]]:
    """Content hashes of the snapshots, without dbt's run-specific surrogate columns."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1",
            [SNAPSHOT_SCHEMA],
        ).fetchall()
        return {
            f"{SNAPSHOT_SCHEMA}.{table}": _content_hash(
                con,
                "(select * exclude (dbt_scd_id, dbt_updated_at) "
                f'from "{SNAPSHOT_SCHEMA}"."{table}")',
            )
            for (table,) in tables
        }


def compare(left: dict[str, tuple[int, str]], right: dict[str, tuple[int, str]]) -> list[Verdict]:
    return [Verdict(name, left.get(name), right.get(name)) for name in sorted({*left, *right})]


def batch_files(landing: Path, batches: int) -> list[list[Path]]:
    """Split the landing files into ``batches`` consecutive groups of received hours.

    Files are ordered by their ``date=/hour=`` partition (then path); files without one come
    first. Each batch holds whole hours, so a batch's clock is the end of its last hour.
    """
    files = discover(landing)
    keyed: dict[str, list[Path]] = {}
    for path in files:
        match = _PARTITION.search(path.relative_to(landing).as_posix())
        hour = f"{match.group(1)}T{match.group(2)}" if match else ""
        keyed.setdefault(hour, []).append(path)
    hours = sorted(keyed)
    size = max(1, -(-len(hours) // batches))
    return [
        [path for hour in hours[i : i + size] for path in keyed[hour]]
        for i in range(0, len(hours), size)
    ]


def batch_clock(landing: Path, files: list[Path]) -> datetime | None:
    """The log's clock at the end of a batch: the last instant of its last received hour.

    None when no file of the batch has a ``date=/hour=`` partition (the load is then stamped
    with the wall time).
    """
    hours = [
        (m.group(1), m.group(2))
        for m in (_PARTITION.search(p.relative_to(landing).as_posix()) for p in files)
        if m
    ]
    if not hours:
        return None
    day, hour = max(hours)
    start = datetime.fromisoformat(f"{day}T{hour}:00:00")
    return start + timedelta(hours=1) - timedelta(microseconds=1)


def deliver(landing: Path, files: list[Path], target: Path) -> None:
    """Copy ``files`` (relative to ``landing``) into the ``target`` landing directory; a file
    that cannot be read (the loader would reject it) is left out."""
    for path in files:
        if not path.is_file():
            continue
        destination = target / path.relative_to(landing)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def replay(source_db: Path, out_db: Path, project_dir: Path, quiet: bool = True) -> list[str]:
    """Rebuild the snapshots of ``source_db`` into the empty ``out_db`` from the raw log alone.

    Steps through the distinct load times of the manifest: at each, the lines loaded by then
    are appended to the new database's raw log (as the loader did) and the snapshots, with the
    models they read, are rebuilt with ``as_of`` set to the load time. Returns the as_of values.
    """
    if not Path(source_db).is_file():
        raise BuildError(f"no database to replay at {source_db}")
    with building_into(out_db, "replay"):
        with duckdb.connect(str(out_db)) as con:
            _attach(con, source_db)
            con.execute("create schema raw")
            con.execute("create table raw.events as select * from source_log.raw.events limit 0")
            con.execute(
                "create table raw.load_manifest as "
                "select * from source_log.raw.load_manifest limit 0"
            )
            # One step per loader run (load id), as the scheduled builds followed the loads; a
            # backfill stamped per partition is one run with many load times, its clock the last.
            steps = con.execute(
                "select load_id, max(loaded_at) from source_log.raw.load_manifest "
                "group by load_id order by load_id"
            ).fetchall()

        def append(load_id: int) -> None:
            with duckdb.connect(str(out_db)) as con:
                _attach(con, source_db)
                for table in ("events", "load_manifest"):
                    con.execute(
                        f"insert into raw.{table} select * from source_log.raw.{table} "
                        "where load_id = ?",
                        [load_id],
                    )

        return replay_steps(out_db, project_dir, steps, append, quiet)


@contextmanager
def building_into(out_db: Path, what: str) -> Iterator[None]:
    """Build into the new ``out_db`` (refused if it exists); a failed or interrupted build
    leaves nothing behind: no half-built database to mistake for one, and no folder it made."""
    if out_db.exists():
        raise BuildError(f"{out_db} exists; {what} builds into a new database")
    created = [d for d in (out_db.parent, *out_db.parent.parents) if not d.exists()]
    out_db.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for leftover in (out_db, out_db.with_name(out_db.name + ".wal")):
            leftover.unlink(missing_ok=True)
        for folder in created:  # deepest first
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise


def _attach(con: duckdb.DuckDBPyConnection, source_db: Path) -> None:
    path = str(source_db).replace("'", "''")
    con.execute(f"attach '{path}' as source_log (read_only)")


def replay_steps(
    out_db: Path,
    project_dir: Path,
    steps: Sequence[tuple[int, datetime]],
    append: Callable[[int], object],
    quiet: bool,
) -> list[str]:
    """Step through the loader runs ``steps`` (load id, its last load time), in order: at each,
    ``append(load_id)`` adds that run's lines to ``out_db``'s raw log, then the snapshots, with
    the models they read, are rebuilt with ``as_of`` at the run's load time, as the scheduled
    build after that run saw the log. Returns the as_of values."""
    as_ofs = []
    for load_id, moment in steps:
        append(load_id)
        as_of = moment.isoformat(sep=" ")
        outcome = run_dbt(
            [
                "build",
                "--full-refresh",
                "--select",
                "+resource_type:snapshot",
                "--exclude",
                "resource_type:test",
                "resource_type:unit_test",
                "--vars",
                f"{{as_of: '{as_of}'}}",
            ],
            project_dir,
            out_db,
            quiet=quiet,
        )
        if not outcome.success:
            raise BuildError(f"replay step as_of {as_of} failed: {outcome.failures}")
        as_ofs.append(as_of)
    return as_ofs


def replay_check(
    landing: Path, workdir: Path, batches: int, project_dir: Path, quiet: bool = True
) -> list[Verdict]:
    """Build incrementally over ``landing`` delivered in batches, then compare with a full
    refresh (every model table) and with a replay of the snapshots."""
    shutil.rmtree(workdir, ignore_errors=True)
    delivered, database = workdir / "landing", workdir / "incremental.duckdb"
    for files in batch_files(landing, batches):
        deliver(landing, files, delivered)
        load(delivered, database, progress=False, loaded_at=batch_clock(landing, files))
        outcome = run_dbt(UNIT_TESTS_EXCLUDED, project_dir, database, quiet=quiet)
        if not outcome.success:
            raise BuildError(f"incremental build failed: {outcome.failures}")
    incremental = table_hashes(database, MODEL_SCHEMAS)
    snapshots = snapshot_rows(database)

    outcome = run_dbt([*UNIT_TESTS_EXCLUDED, "--full-refresh"], project_dir, database, quiet=quiet)
    if not outcome.success:
        raise BuildError(f"full refresh failed: {outcome.failures}")
    refreshed = table_hashes(database, MODEL_SCHEMAS)

    replayed_db = workdir / "replayed.duckdb"
    replay(database, replayed_db, project_dir, quiet=quiet)
    replayed = snapshot_rows(replayed_db)
    return compare(incremental, refreshed) + compare(snapshots, replayed)
