"""Summaries of what the log and the build hold: rows per layer, quarantine, reconciliation."""

from __future__ import annotations

from pathlib import Path

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
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            rows.append((schema, table, count))
    return sorted(rows, key=lambda row: (LAYERS.index(row[0]), row[1]))


def quarantine_counts(database: Path) -> list[tuple[str, int]]:
    """Quarantined lines by reason (empty before the first build)."""
    with duckdb.connect(str(database), read_only=True) as con:
        try:
            return con.execute(
                "select quarantine_reason, count(*) from staging.stg_raw__events "
                "where line_status = 'quarantined' group by 1 order by 1"
            ).fetchall()
        except duckdb.CatalogException:
            return []


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
