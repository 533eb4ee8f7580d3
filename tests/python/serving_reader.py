"""A reader of the serving location, run as its own process by test_publish.py.

``loop SERVING STOP``: until the file STOP exists, open ``SERVING/serving.duckdb`` read-only
(a new connection each time) and, in one transaction, read the publication's build id and
tables, then check that every view reads that build's folder and that its row count and
content hash are what the publication says. Print a JSON report: queries run, errors (their
messages), mixed answers (a view of another build, or counts or hashes not the publication's),
per build id seen each table's (row count, content hash), the seconds it ran and its longest
read (connect and check a whole build).

``hold SERVING STOP``: open one connection, print its build id, wait for STOP, then read that
build's tables through the same connection and print the report: a reader that held the file
across a publication.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from shoplog.publish import BUILDS_DIR, PUBLICATION_SCHEMA, SERVING_FILE, content_sql, quote


def read_build(con: duckdb.DuckDBPyConnection, report: dict[str, Any]) -> str:
    """Read the connection's build whole, in one transaction; count queries and mixed answers
    into ``report`` and record the tables seen under the build id; return the build id."""
    con.execute("begin transaction")
    (build_id,) = con.execute(f"select build_id from {PUBLICATION_SCHEMA}.build").fetchall()[0]
    published = con.execute(
        f"select schema_name, table_name, row_count, content_hash from {PUBLICATION_SCHEMA}.tables "
        "where build_id = ? order by all",
        [build_id],
    ).fetchall()
    views = dict(
        con.execute(
            "select schema_name || '.' || view_name, sql from duckdb_views() "
            f"where not internal and schema_name <> '{PUBLICATION_SCHEMA}'"
        ).fetchall()
    )
    seen = {}
    for schema_name, table_name, row_count, content_hash in published:
        name = f"{schema_name}.{table_name}"
        got = con.execute(content_sql(f"{quote(schema_name)}.{quote(table_name)}")).fetchone()
        report["queries"] += 1
        seen[name] = list(got) if got else None
        of_this_build = f"/{BUILDS_DIR}/{build_id}/" in views.pop(name, "")
        if not of_this_build or seen[name] != [row_count, content_hash]:
            report["mixed"] += 1
    report["mixed"] += len(views)  # a view the publication does not list
    con.execute("commit")
    if report["builds"].setdefault(build_id, seen) != seen:
        report["mixed"] += 1  # the same build id read differently
    return str(build_id)


def main(mode: str, serving: Path, stop: Path) -> dict[str, Any]:
    """Run the reader (see the module's docstring) and return its report."""
    report: dict[str, Any] = {"queries": 0, "connections": 0, "errors": [], "mixed": 0}
    report["builds"] = {}
    path = str(serving / SERVING_FILE)
    if mode == "hold":
        with duckdb.connect(path, read_only=True) as con:
            print(read_build(con, report), flush=True)
            while not stop.exists():
                time.sleep(0.05)
            read_build(con, report)
        return report
    started = last = time.monotonic()
    report["longest_read_s"] = 0.0
    while not stop.exists():
        try:
            with duckdb.connect(path, read_only=True) as con:
                report["connections"] += 1
                read_build(con, report)
        except duckdb.Error as exc:
            report["errors"].append(str(exc))
        now = time.monotonic()
        report["longest_read_s"] = max(report["longest_read_s"], round(now - last, 3))
        last = now
        time.sleep(0.01)  # leave the builds some CPU
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))), flush=True)
