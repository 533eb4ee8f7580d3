"""Benchmark: generate, load and `dbt build` a log of about 1M events; print wall times.

Usage: python scripts/benchmark.py [--users 8700] [--days 28] [--workdir data/bench]
(8,700 persons over 28 days give about 1.0M events.) Figures, not assertions: machines are
shared and noisy, so quote ratios from one run.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from datetime import date
from pathlib import Path

from shoplog.build import find_project_dir, run_dbt
from shoplog.generate import generate
from shoplog.load import load
from shoplog.report import layer_row_counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8700)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"))
    args = parser.parse_args()

    shutil.rmtree(args.workdir, ignore_errors=True)
    landing, database = args.workdir / "landing", args.workdir / "bench.duckdb"
    timings = {}

    started = time.perf_counter()
    summary = generate(landing, date(2026, 1, 1), args.days, args.users, seed=1, progress=False)
    timings["generate"] = time.perf_counter() - started

    started = time.perf_counter()
    loaded = load(landing, database, progress=False)
    timings["load"] = time.perf_counter() - started

    started = time.perf_counter()
    outcome = run_dbt(["build"], find_project_dir(), database, quiet=True)
    timings["dbt build"] = time.perf_counter() - started
    if not outcome.success:
        raise SystemExit(f"dbt build failed: {outcome.failures}")

    started = time.perf_counter()
    outcome = run_dbt(["build"], find_project_dir(), database, quiet=True)
    timings["dbt build, nothing new (incremental)"] = time.perf_counter() - started
    if not outcome.success:
        raise SystemExit(f"incremental dbt build failed: {outcome.failures}")

    rows = {f"{schema}.{table}": n for schema, table, n in layer_row_counts(database)}
    # dbt runs in this process (shoplog.build), so its peak is this process's
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"events generated: {summary.events:,}; lines loaded: {loaded.lines_loaded:,}")
    for step, seconds in timings.items():
        print(f"{step:>38}: {seconds:7.1f} s")
    print(
        f"peak RSS (generate, load, dbt): {peak_mib:,.0f} MiB; "
        f"database: {database.stat().st_size / 2**20:,.0f} MiB"
    )
    for name in ("staging.base_raw__lines", "marts.fct_sessions", "features.feat_person_daily"):
        print(f"{name}: {rows.get(name, 0):,} rows")


if __name__ == "__main__":
    main()
