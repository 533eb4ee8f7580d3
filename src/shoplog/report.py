"""Summaries of what the log and the build hold: rows per layer, quarantine, reconciliation."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import duckdb
from rich.table import Table

from shoplog.build import DbtOutcome
from shoplog.progress import console

#: Schemas in the order data flows through them.
LAYERS = ("raw", "staging", "identity", "core", "marts", "features", "snapshots")


def layer_row_counts(database: Path) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every table of the project's layers, in flow order."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in "
            f"({', '.join(repr(layer) for layer in LAYERS)})"
        ).fetchall()
        rows = []
        for schema, table in tables:
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchall()[0][0]
            rows.append((schema, table, count))
    return sorted(rows, key=lambda row: (LAYERS.index(row[0]), row[1]))


def quarantine_counts(database: Path) -> list[tuple[str, int]]:
    """Quarantined lines by reason (empty before the first build)."""
    with duckdb.connect(str(database), read_only=True) as con:
        try:
            return con.execute(
                "select quarantine_reason, count(*) from staging.base_raw__lines "
                "where line_status = 'quarantined' group by 1 order by 1"
            ).fetchall()
        except duckdb.CatalogException:
            return []


def build_counts(database: Path) -> tuple[int, int, int] | None:
    """(raw lines in the last build's bound, staged rows, quarantined rows) of
    ``staging.base_raw__lines``; None before a build or when the database cannot be read."""
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            raw, staged, quarantined = con.execute(
                "select (select count(*) from raw.events where load_id <= "
                "(select max(load_id) from staging.base_raw__lines)), "
                "count(*) filter (where line_status = 'staged'), "
                "count(*) filter (where line_status = 'quarantined') "
                "from staging.base_raw__lines"
            ).fetchall()[0]
    except duckdb.Error:
        return None
    return int(raw), int(staged), int(quarantined)


def print_summary(
    rows: list[tuple[str, str, int]],
    quarantined: list[tuple[str, int]],
    built: DbtOutcome,
    timings: dict[str, float],
    docs_path: Path,
) -> None:
    """Print the main job's summary: rows per layer, tests, quarantine, timings."""
    table = Table(title="rows per layer")
    table.add_column("layer")
    table.add_column("relation")
    table.add_column("rows", justify="right")
    for schema, name, count in rows:
        table.add_row(schema, name, f"{count:,}")
    console.print(table)
    tests_passed = built.count("test", "pass") + built.count("unit_test", "pass")
    tests_total = sum(
        n for (kind, _status), n in built.counts.items() if kind in {"test", "unit_test"}
    )
    console.print(f"tests passed: {tests_passed} of {tests_total}")
    total_quarantined = sum(n for _reason, n in quarantined)
    detail = ", ".join(f"{reason}: {n:,}" for reason, n in quarantined) or "none"
    console.print(f"quarantined lines: {total_quarantined:,} ({detail})")
    console.print(
        "wall time: " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items())
    )
    console.print(f"docs: {docs_path}")


#: A landing file's producer and day, from the ``source=``/``date=`` partitions of its path (else
#: the path's first folder and the day it was loaded): SQL over ``file_path`` and ``loaded_at``.
FILE_SOURCE_SQL = (
    "coalesce(nullif(regexp_extract(file_path, 'source=([^/]+)', 1), ''), "
    "split_part(file_path, '/', 1))"
)
FILE_DAY_SQL = (
    "coalesce(nullif(regexp_extract(file_path, 'date=([0-9-]+)', 1), ''), "
    "cast(cast(loaded_at as date) as varchar))"
)

RECONCILE_COLUMNS = ("source", "day", "landed", "raw", "staged", "quarantined", "duplicates")


def _landed_lines(path: Path) -> int:
    """Lines in a landing file; 0 for one the loader rejects (unreadable or corrupt)."""
    from shoplog.load import read_landing_file, split_lines

    try:
        return len(split_lines(read_landing_file(path), path.name.lower().endswith(".gz")))
    except (OSError, EOFError, zlib.error):
        return 0


def reconcile(database: Path, landing: Path | None = None) -> list[dict]:
    """Lines landed / raw / staged / quarantined / duplicates per source and day.

    Source and day come from the file's ``source=``/``date=`` partitions (else the first folder
    of its path and the day it was loaded). ``landed`` counts the lines of the files on disk
    when ``landing`` is given (files not loaded yet included), else the manifest's line counts.
    """
    from shoplog.load import discover

    with duckdb.connect(str(database), read_only=True) as con:
        con.execute("create temp table landed_files (file_path varchar, landed_lines bigint)")
        if landing is not None:
            rows = [
                (path.relative_to(landing).as_posix(), _landed_lines(path))
                for path in discover(landing)
            ]
            if rows:
                con.executemany("insert into landed_files values (?, ?)", rows)
        else:
            con.execute(
                "insert into landed_files select file_path, line_count from raw.load_manifest"
            )
        try:
            con.execute("select 1 from staging.base_raw__lines limit 0")
            classified = (
                "select file_path, count(case when line_status = 'staged' then 1 end) as staged, "
                "count(case when line_status = 'quarantined' then 1 end) as quarantined, "
                "count(case when line_status = 'duplicate' then 1 end) as duplicates "
                "from staging.base_raw__lines group by file_path"
            )
        except duckdb.CatalogException:
            classified = (
                "select null::varchar as file_path, 0 as staged, 0 as quarantined, "
                "0 as duplicates where false"
            )
        result = con.execute(
            f"""
            with raw_files as (
                select file_path, count(*) as raw_lines, min(loaded_at) as loaded_at
                from raw.events group by file_path
            ),
            classified as ({classified}),
            files as (
                select
                    coalesce(landed_files.file_path, raw_files.file_path) as file_path,
                    coalesce(landed_files.landed_lines, 0) as landed,
                    coalesce(raw_files.raw_lines, 0) as raw,
                    coalesce(classified.staged, 0) as staged,
                    coalesce(classified.quarantined, 0) as quarantined,
                    coalesce(classified.duplicates, 0) as duplicates,
                    raw_files.loaded_at
                from landed_files
                full outer join raw_files on landed_files.file_path = raw_files.file_path
                left join classified
                    on coalesce(landed_files.file_path, raw_files.file_path) = classified.file_path
            )
            select
                {FILE_SOURCE_SQL} as source,
                coalesce({FILE_DAY_SQL}, 'not loaded') as day,
                sum(landed), sum(raw), sum(staged), sum(quarantined), sum(duplicates)
            from files
            group by all
            order by source, day
            """
        ).fetchall()
    return [dict(zip(RECONCILE_COLUMNS, row, strict=True)) for row in result]


def print_reconciliation(rows: list[dict]) -> bool:
    """Print the reconciliation; True when every landed line is in raw exactly once and every
    raw line is staged, quarantined or a duplicate."""
    table = Table(title="reconciliation: landed = raw = staged + quarantined + duplicates")
    for column in RECONCILE_COLUMNS:
        table.add_column(
            column, justify="left" if column in ("source", "day") else "right", no_wrap=True
        )
    table.add_column("check")
    balanced = True
    for row in rows:
        classified = row["staged"] + row["quarantined"] + row["duplicates"]
        if row["landed"] != row["raw"]:
            verdict, balanced = "[red]landed ≠ raw (load them)", False
        elif classified != row["raw"]:
            verdict, balanced = "[red]raw ≠ classified (run dbt build)", False
        else:
            verdict = "[green]ok"
        table.add_row(
            *(
                str(row[c]) if c in ("source", "day") else f"{int(row[c]):,}"
                for c in RECONCILE_COLUMNS
            ),
            verdict,
        )
    console.print(table)
    totals = {c: sum(int(r[c]) for r in rows) for c in RECONCILE_COLUMNS[2:]}
    console.print(", ".join(f"{name}: {value:,}" for name, value in totals.items()))
    return balanced


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def print_history(runs: list[dict[str, Any]], trend: dict[str, dict[str, Any]]) -> None:
    """The run history as a table on stdout (newest first) and one line of trends."""
    import sys

    from rich import box
    from rich.console import Console

    from shoplog.history import quarantine_rate

    out = Console(width=None if sys.stdout.isatty() else 132)
    table = Table(title="run history (UTC)", box=box.SIMPLE_HEAD)
    for name in ("started", "command", "who", "result"):
        table.add_column(name, no_wrap=True)
    for name in ("duration", "rows in", "rows out", "quarantined", "failures"):
        table.add_column(name, justify="right", no_wrap=True)
    for run in runs:
        colour = {"success": "green", "failed": "red", "interrupted": "yellow"}[run["result"]]
        table.add_row(
            run["started_at"].isoformat(sep=" ", timespec="seconds"),
            run["command"],
            run["who"],
            f"[{colour}]{run['result']}[/]",
            _seconds(run["duration_s"]),
            _count(run["rows_in"]),
            _count(run["rows_out"]),
            _rate(quarantine_rate(run["quarantined"], run["rows_in"])),
            _count(run["failures"]),
        )
    out.print(table)
    builds, rates = trend["build_seconds"], trend["quarantine_rate"]
    out.print(
        f"build time: last {_seconds(builds['last'])}, median of the "
        f"{builds['previous_runs']} before {_seconds(builds['median_previous'])}; "
        f"quarantine rate of new lines: last {_rate(rates['last'])}, median of the "
        f"{rates['previous_runs']} before {_rate(rates['median_previous'])}",
        soft_wrap=True,
    )
