"""Publish a good build to the serving location: what BI tools and training pipelines read.

The built database is a writer's file: while a build or a load holds it, no other process may
open it, not even read-only ("Conflicting lock"), and a reader holding it open makes the next
build fail. So readers never open it. After a successful build, :func:`publish`:

1. reads the database read-only, in one transaction, and writes every table and view of the
   schemas ``marts`` and ``features`` to Parquet under
   ``<serving>/builds/<build_id>/<schema>/<table>.parquet`` (first into a hidden temporary
   folder, renamed into place once complete; each file is checked against its source: same
   column names and types, same row count and content hash);
2. writes a new small DuckDB file of views over those Parquet files (``marts.fct_orders`` is
   ``select * from read_parquet('<absolute path>')``) and of the publication's record
   (``shoplog_publication.build`` and ``shoplog_publication.tables``), and renames it onto
   ``<serving>/serving.duckdb`` (``os.replace``: atomic), then writes ``current.json`` (the same
   record, for readers of the Parquet files) the same way;
3. deletes build folders beyond the newest ``keep`` (never the one just published).

A reader therefore sees the previous build or the new one, never a mix: a connection opened
before the switch keeps the old file (on Linux, the old inode stays readable while open) and the
old build's Parquet files, which are kept for ``keep`` builds; a connection opened after it sees
the new one. The contract for readers: open a connection per session (a query, a dashboard
refresh, a training run), not one for ever, since a connection held across ``keep`` builds
points at deleted files. Within one process DuckDB shares one database instance per path while
any connection to it is open, so close them all to see the next build.

The dbt snapshots are not published: the BI dashboard and the training pipeline (the project's
exposures) read only the marts and the feature mart, whose contracts are enforced; the
snapshots are the warehouse's own history and stay in the built database.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

#: The schemas a build publishes: the BI marts and the ML feature marts.
PUBLISHED_SCHEMAS = ("marts", "features")
#: The schema of the serving file that records what was published.
PUBLICATION_SCHEMA = "shoplog_publication"
#: The relation holding the build's knowledge clock (the latest load time it knew).
LOG_CLOCK_RELATION = "staging.stg_raw__log_clock"
SERVING_FILE = "serving.duckdb"
CURRENT_FILE = "current.json"
BUILDS_DIR = "builds"
#: The prefix of a build folder being written.
TEMPORARY = ".tmp-"
BUILD_ID_IN_NAME = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{6}")
#: Build folders kept by default, and at least (a reader that connected just before a switch
#: must still find the previous build's files).
DEFAULT_KEEP = 3
MIN_KEEP = 2


class PublishError(RuntimeError):
    """A publication that could not be made; the serving location is left as it was."""


@dataclass(frozen=True)
class PublishedTable:
    """One published table: where its Parquet file is and what it holds."""

    schema_name: str
    table_name: str
    row_count: int
    content_hash: str
    path: Path


@dataclass(frozen=True)
class Publication:
    """What one :func:`publish` made current, and which older builds it deleted."""

    build_id: str
    published_at: datetime
    knowledge_clock: datetime | None
    serving_file: Path
    build_dir: Path
    tables: tuple[PublishedTable, ...]
    pruned: tuple[str, ...]


def quote(identifier: str) -> str:
    """``identifier`` as a quoted SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str | Path) -> str:
    """``text`` as a SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def relation_name(schema_name: str, table_name: str) -> str:
    """The quoted ``schema.table`` name of a relation."""
    return f"{quote(schema_name)}.{quote(table_name)}"


def content_sql(relation: str) -> str:
    """A query of ``relation``'s row count and content hash: the sum of every row's hash, so it
    does not depend on row order and counts duplicate rows. The publisher and any reader that
    checks a table against the publication use this one query."""
    return f"select count(*), coalesce(sum(hash(r)), 0)::varchar from {relation} as r"


def new_build_id(now: datetime) -> str:
    """A build id that sorts by time: the UTC time to the microsecond and a random suffix."""
    return f"{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"


def _content(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, str]:
    """The row count and content hash of ``relation`` (see :func:`content_sql`)."""
    row = con.execute(content_sql(relation)).fetchone()
    assert row is not None  # an aggregate returns one row
    return int(row[0]), str(row[1])


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    """The names and types of ``relation``'s columns, in order."""
    return [
        (str(r[0]), str(r[1])) for r in con.execute(f"describe select * from {relation}").fetchall()
    ]


def _parquet(path: Path) -> str:
    """The SQL that reads the Parquet file ``path``."""
    return f"read_parquet({literal(path)})"


def _export(
    con: duckdb.DuckDBPyConnection, folder: Path
) -> tuple[datetime | None, list[tuple[PublishedTable, list[tuple[str, str]]]]]:
    """Write every published relation of ``con`` to Parquet under ``folder``; return the
    build's knowledge clock and each table with its columns (one read transaction)."""
    con.execute("begin transaction")
    names = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() and table_schema in "
        f"({', '.join(literal(s) for s in PUBLISHED_SCHEMAS)}) order by all"
    ).fetchall()
    if not names:
        raise PublishError(f"nothing to publish: no table in {', '.join(PUBLISHED_SCHEMAS)}")
    try:
        clock_row = con.execute(f"select max(log_clock_at) from {LOG_CLOCK_RELATION}").fetchone()
    except duckdb.CatalogException as exc:
        raise PublishError(f"no {LOG_CLOCK_RELATION}: is this a built database?") from exc
    tables = []
    for schema_name, table_name in names:
        relation = relation_name(schema_name, table_name)
        path = folder / schema_name / f"{table_name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy (select * from {relation}) to {literal(path)} (format parquet)")
        row_count, content_hash = _content(con, relation)
        published = PublishedTable(schema_name, table_name, row_count, content_hash, path)
        tables.append((published, _columns(con, relation)))
    con.execute("commit")
    return (clock_row[0] if clock_row else None), tables


def _check(tables: Iterable[tuple[PublishedTable, list[tuple[str, str]]]]) -> None:
    """Raise :class:`PublishError` unless each Parquet file has its source's columns, types,
    row count and content."""
    with duckdb.connect() as con:
        for table, columns in tables:
            name = f"{table.schema_name}.{table.table_name}"
            written = _columns(con, _parquet(table.path))
            if written != columns:
                changed = sorted(set(columns) - set(written))
                raise PublishError(f"{name}: Parquet does not keep the column types {changed}")
            if _content(con, _parquet(table.path)) != (table.row_count, table.content_hash):
                raise PublishError(f"{name}: the Parquet file differs from the table")


def _fsync(path: Path) -> None:
    """Flush ``path`` (a file or a folder) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_serving_file(
    path: Path,
    build_id: str,
    published_at: datetime,
    clock: datetime | None,
    tables: list[PublishedTable],
) -> None:
    """Write the serving catalogue: a view per table and the publication's record."""
    statements = [f"create schema {quote(s)}" for s in sorted({t.schema_name for t in tables})]
    statements += [
        f"create view {relation_name(t.schema_name, t.table_name)} as "
        f"select * from {_parquet(t.path)}"
        for t in tables
    ]
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
        con.execute(f"create schema {PUBLICATION_SCHEMA}")
        con.execute(
            f"create table {PUBLICATION_SCHEMA}.build "
            "(build_id varchar, published_at timestamp, knowledge_clock timestamp)"
        )
        con.execute(
            f"insert into {PUBLICATION_SCHEMA}.build values (?, ?, ?)",
            [build_id, published_at, clock],
        )
        con.execute(
            f"create table {PUBLICATION_SCHEMA}.tables (build_id varchar, published_at "
            "timestamp, schema_name varchar, table_name varchar, row_count bigint, "
            "content_hash varchar)"
        )
        con.executemany(
            f"insert into {PUBLICATION_SCHEMA}.tables values (?, ?, ?, ?, ?, ?)",
            [
                [build_id, published_at, t.schema_name, t.table_name, t.row_count, t.content_hash]
                for t in tables
            ],
        )
        con.execute("checkpoint")
    _fsync(path)


def _replace(temporary: Path, final: Path) -> None:
    """Rename ``temporary`` onto ``final`` (atomic) and make the rename durable."""
    os.replace(temporary, final)
    _fsync(final.parent)


def _current_record(publication: Publication) -> str:
    """``current.json``: the publication's record, with each table's Parquet path."""
    tables = {
        f"{t.schema_name}.{t.table_name}": {**asdict(t), "path": str(t.path)}
        for t in publication.tables
    }
    clock = publication.knowledge_clock
    return json.dumps(
        {
            "build_id": publication.build_id,
            "published_at": publication.published_at.isoformat(),
            "knowledge_clock": clock.isoformat() if clock else None,
            "tables": tables,
        },
        indent=2,
    )


def build_ids(serving: Path) -> list[str]:
    """The published builds still kept under ``serving``, oldest first."""
    builds = serving / BUILDS_DIR
    if not builds.is_dir():
        return []
    return sorted(p.name for p in builds.iterdir() if p.is_dir() and not p.name.startswith("."))


def _leftovers(serving: Path) -> Iterator[tuple[str, Path]]:
    """The temporary files and folders under ``serving`` (of a publication that is running,
    or one that was killed), with their build ids."""
    for path in [*serving.glob(".*.tmp*"), *(serving / BUILDS_DIR).glob(f"{TEMPORARY}*")]:
        found = BUILD_ID_IN_NAME.search(path.name)
        if found:
            yield found.group(0), path


def prune(serving: Path, keep: int, current: str) -> tuple[str, ...]:
    """Delete the build folders beyond the newest ``keep`` (never ``current``), and what
    killed publications left behind that is older than every kept build; return the ids of
    the deleted builds."""
    kept = build_ids(serving)
    doomed = [b for b in kept[:-keep] if b != current]
    for build_id in doomed:
        shutil.rmtree(serving / BUILDS_DIR / build_id)
    oldest = min(b for b in kept if b not in doomed)
    for build_id, path in _leftovers(serving):
        if build_id < oldest:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    return tuple(doomed)


def publish(
    database: Path, serving: Path, keep: int = DEFAULT_KEEP, now: datetime | None = None
) -> Publication:
    """Publish the marts and features of the built ``database`` to ``serving``, switch readers
    to them atomically and keep the newest ``keep`` builds (at least 2).

    ``now`` (UTC; default: the wall clock) is the publication time. On any failure the serving
    location is left as it was and :class:`PublishError` is raised.
    """
    if keep < MIN_KEEP:
        raise ValueError(
            f"keep must be at least {MIN_KEEP} (a reader may be on the previous build)"
        )
    published_at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    build_id = new_build_id(published_at)
    serving = serving.resolve()
    builds = serving / BUILDS_DIR
    build_dir = builds / build_id
    staging_dir = builds / f"{TEMPORARY}{build_id}"
    staging_file = serving / f".{SERVING_FILE}.{build_id}.tmp"
    builds.mkdir(parents=True, exist_ok=True)
    try:
        try:
            source = duckdb.connect(str(database), read_only=True)
        except duckdb.Error as exc:
            raise PublishError(f"cannot read {database}: {exc}") from exc
        with source:
            clock, exported = _export(source, staging_dir)
        _check(exported)
        staging_dir.rename(build_dir)
        tables = [
            PublishedTable(
                t.schema_name,
                t.table_name,
                t.row_count,
                t.content_hash,
                build_dir / t.path.relative_to(staging_dir),
            )
            for t, _ in exported
        ]
        _write_serving_file(staging_file, build_id, published_at, clock, tables)
    except BaseException as exc:
        shutil.rmtree(staging_dir, ignore_errors=True)
        shutil.rmtree(build_dir, ignore_errors=True)
        staging_file.unlink(missing_ok=True)
        if isinstance(exc, duckdb.Error | OSError):
            raise PublishError(f"{type(exc).__name__}: {exc}") from exc
        raise
    serving_file = serving / SERVING_FILE
    _replace(staging_file, serving_file)
    publication = Publication(
        build_id, published_at, clock, serving_file, build_dir, tuple(tables), ()
    )
    current = serving / f".{CURRENT_FILE}.{build_id}.tmp"
    current.write_text(_current_record(publication) + "\n")
    _replace(current, serving / CURRENT_FILE)
    return replace(publication, pruned=prune(serving, keep, build_id))


__all__ = [
    "DEFAULT_KEEP",
    "MIN_KEEP",
    "Publication",
    "PublishError",
    "PublishedTable",
    "build_ids",
    "content_sql",
    "publish",
]
