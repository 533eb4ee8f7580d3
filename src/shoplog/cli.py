"""The ``shoplog`` console command: generate, load, run and the log's checks."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from datetime import date, datetime
from pathlib import Path

from shoplog.build import DEFAULT_DB, BuildError, find_project_dir, run_dbt
from shoplog.generate import DELETION_RATE
from shoplog.load import LoadError, discover, load
from shoplog.progress import console
from shoplog.report import layer_row_counts, print_summary, quarantine_counts

DEFAULT_LANDING = Path("data/landing")
#: The default sample the main job generates when the landing directory is empty.
DEFAULT_SAMPLE = {"start": date(2026, 1, 1), "days": 28, "users": 1000, "seed": 42}
#: Faults in the main job's sample, at small rates, so quarantine and duplicates show.
DEFAULT_SAMPLE_FAULTS = {
    "duplicate_rate": 0.005,
    "late_rate": 0.01,
    "skew_rate": 0.002,
    "malformed_rate": 0.001,
    "unknown_type_rate": 0.001,
    "v2_rate": 0.3,
}


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", type=Path, default=DEFAULT_DB, help=f"DuckDB file (default {DEFAULT_DB})"
    )


def _add_fault_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("faults to inject (rates from 0 to 1, default 0)")
    for name, help_text in [
        ("duplicate-rate", "re-deliver an event (same line, later file)"),
        ("late-rate", "deliver an event hours to days after it happened"),
        ("skew-rate", "set the event time in the future (producer clock skew)"),
        ("malformed-rate", "write a line that is not valid JSON"),
        ("unknown-type-rate", "write an event of a type the catalogue does not know"),
        ("v2-rate", "write add_to_cart as schema version 2 (renamed fields)"),
    ]:
        group.add_argument(f"--{name}", type=float, default=0.0, help=help_text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shoplog",
        description="An append-only shop event log in DuckDB, modelled with dbt.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a deterministic synthetic event log")
    gen.add_argument("--out", type=Path, required=True, help="landing directory to write")
    gen.add_argument("--start", type=date.fromisoformat, default=DEFAULT_SAMPLE["start"])
    gen.add_argument("--days", type=int, default=DEFAULT_SAMPLE["days"])
    gen.add_argument("--users", type=int, default=DEFAULT_SAMPLE["users"])
    gen.add_argument("--seed", type=int, default=DEFAULT_SAMPLE["seed"])
    gen.add_argument(
        "--no-hard-cases",
        action="store_true",
        help="leave out shared devices, similar emails and claimed guest orders",
    )
    gen.add_argument(
        "--deletion-rate",
        type=float,
        default=DELETION_RATE,
        help="share of known persons who later ask to be forgotten (default %(default)s)",
    )
    _add_fault_flags(gen)

    ld = sub.add_parser("load", help="append new landing files to the raw log")
    ld.add_argument("--landing", type=Path, default=DEFAULT_LANDING)
    stamp = ld.add_mutually_exclusive_group()
    stamp.add_argument(
        "--loaded-at",
        type=_timestamp,
        default=None,
        help="stamp the load with this time instead of now (a backfill: the log's clock when "
        "the files would have been loaded; an offset is converted to UTC)",
    )
    stamp.add_argument(
        "--from-partition",
        action="store_true",
        help="backfill of a partitioned archive: stamp each file with the end of its "
        "date=/hour= partition (never before a file already loaded, never after now)",
    )
    _add_db(ld)

    run = sub.add_parser(
        "run", help="main job: sample (if none), load, dbt build, dbt docs, summary"
    )
    run.add_argument(
        "--landing", type=Path, default=None, help=f"default: <project>/{DEFAULT_LANDING}"
    )
    run.add_argument("--project-dir", type=Path, default=None)
    run.add_argument("--db", type=Path, default=None, help=f"default: <project>/{DEFAULT_DB}")
    run.add_argument(
        "--wall-clock",
        action="store_true",
        help="stamp new files with the time of this run (default: the end of each file's "
        "date=/hour= partition, a backfill of the sample archive, so as_of demos work)",
    )
    val = sub.add_parser("validate", help="run the Great Expectations suite on the feature mart")
    _add_db(val)

    rec = sub.add_parser(
        "reconcile",
        help="lines landed / raw / staged / quarantined / duplicates per source and day",
    )
    rec.add_argument("--landing", type=Path, default=None, help="also count the landed lines")
    _add_db(rec)

    chk = sub.add_parser(
        "replay-check",
        help="incremental runs over batches vs a full refresh, and snapshots vs their replay",
    )
    chk.add_argument("--landing", type=Path, default=DEFAULT_LANDING)
    chk.add_argument("--batches", type=int, default=4)
    chk.add_argument("--workdir", type=Path, default=Path("data/replay-check"))
    chk.add_argument("--project-dir", type=Path, default=None)

    rep = sub.add_parser(
        "replay", help="rebuild the snapshots into an empty database from the raw log alone"
    )
    rep.add_argument("--out", type=Path, required=True, help="the new (empty) DuckDB file")
    rep.add_argument("--project-dir", type=Path, default=None)
    _add_db(rep)
    err = sub.add_parser(
        "er-report", help="entity resolution accuracy against the generator's ground truth"
    )
    err.add_argument("--truth", type=Path, required=True, help="the landing's _truth directory")
    _add_db(err)
    return parser


def _timestamp(text: str) -> datetime:
    """A timestamp argument (ISO-8601); the loader converts an offset to UTC and takes a naive
    value as UTC."""
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 timestamp: {text!r}") from exc


def _report_load(summary) -> int:
    """Print what a load could not take; 1 when a file was rejected, else 0."""
    for name in summary.unrecognised:
        console.print(f"[yellow]not a landing file (name not recognised), left unloaded:[/] {name}")
    for rejection in summary.rejected:
        console.print(
            f"[red]rejected[/] {rejection.file_path}: {rejection.reason} ({rejection.detail})"
        )
    if summary.rejected:
        console.print(
            f"[red bold]{len(summary.rejected)} file(s) rejected[/] "
            "(recorded in raw.load_rejections; the other files were loaded)"
        )
        return 1
    return 0


def _faults(args: argparse.Namespace):
    from shoplog.generate import Faults

    return Faults(
        duplicate_rate=args.duplicate_rate,
        late_rate=args.late_rate,
        skew_rate=args.skew_rate,
        malformed_rate=args.malformed_rate,
        unknown_type_rate=args.unknown_type_rate,
        v2_rate=args.v2_rate,
    )


def cmd_generate(args: argparse.Namespace) -> int:
    from shoplog.generate import generate

    started = time.perf_counter()
    summary = generate(
        out=args.out,
        start=args.start,
        days=args.days,
        users=args.users,
        seed=args.seed,
        faults=_faults(args),
        hard_cases=not args.no_hard_cases,
        deletion_rate=args.deletion_rate,
    )
    console.print(
        f"generated {summary.lines_written:,} lines in {summary.files_written:,} files "
        f"under {args.out} in {time.perf_counter() - started:.1f} s"
    )
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    summary = load(
        args.landing, args.db, loaded_at=args.loaded_at, from_partition=args.from_partition
    )
    console.print(
        f"loaded {summary.lines_loaded:,} lines from {summary.files_loaded:,} new files "
        f"({summary.files_skipped:,} already loaded) into {args.db} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return _report_load(summary)


def cmd_run(args: argparse.Namespace) -> int:
    from shoplog.generate import generate

    project_dir = find_project_dir(args.project_dir)
    args.db = args.db or project_dir / DEFAULT_DB
    timings: dict[str, float] = {}
    landing = args.landing or project_dir / DEFAULT_LANDING
    if not landing.exists() or not discover(landing):
        from shoplog.generate import Faults

        console.print(f"no landing files in {landing}: generating the default sample")
        started = time.perf_counter()
        generate(out=landing, faults=Faults(**DEFAULT_SAMPLE_FAULTS), **DEFAULT_SAMPLE)
        timings["generate"] = time.perf_counter() - started

    started = time.perf_counter()
    loaded = load(landing, args.db, from_partition=not args.wall_clock)
    timings["load"] = time.perf_counter() - started
    console.print(f"loaded {loaded.lines_loaded:,} new lines from {loaded.files_loaded:,} files")
    load_status = _report_load(loaded)

    started = time.perf_counter()
    built = run_dbt(["build"], project_dir, args.db)
    timings["dbt build"] = time.perf_counter() - started
    if not built.success:
        for failure in built.failures:
            console.print(f"[red]{failure}")
        console.print("[red bold]dbt build failed")
        return 1

    started = time.perf_counter()
    docs = run_dbt(["docs", "generate", "--static"], project_dir, args.db, quiet=True)
    timings["dbt docs"] = time.perf_counter() - started
    if not docs.success:
        console.print("[red bold]dbt docs generate failed")
        return 1

    print_summary(
        layer_row_counts(args.db),
        quarantine_counts(args.db),
        built,
        timings,
        docs_path=project_dir / "target" / "static_index.html",
    )
    return load_status


def cmd_validate(args: argparse.Namespace) -> int:
    from shoplog.validate import validate_features

    outcome = validate_features(args.db)
    for kind, column, ok in outcome.results:
        mark = "[green]pass" if ok else "[red]FAIL"
        console.print(f"{mark}[/] {kind} {column}")
    verdict = "passed" if outcome.success else "failed"
    console.print(f"feature mart suite {verdict} on {outcome.rows:,} rows")
    return 0 if outcome.success else 1


def cmd_reconcile(args: argparse.Namespace) -> int:
    from shoplog.report import print_reconciliation, reconcile

    rows = reconcile(args.db, args.landing)
    return 0 if print_reconciliation(rows) else 1


def cmd_replay_check(args: argparse.Namespace) -> int:
    from shoplog.replay import replay_check

    verdicts = replay_check(
        args.landing, args.workdir, args.batches, find_project_dir(args.project_dir)
    )
    for verdict in verdicts:
        mark = "[green]same" if verdict.same else "[red bold]DIFFERENT"
        left = verdict.left[0] if verdict.left else "-"
        right = verdict.right[0] if verdict.right else "-"
        console.print(f"{mark}[/] {verdict.relation} ({left} vs {right} rows)")
    differing = [v.relation for v in verdicts if not v.same]
    console.print(f"{len(verdicts) - len(differing)} of {len(verdicts)} relations identical")
    return 1 if differing else 0


def cmd_replay(args: argparse.Namespace) -> int:
    from shoplog.replay import replay, snapshot_rows

    steps = replay(args.db, args.out, find_project_dir(args.project_dir), quiet=False)
    console.print(f"replayed {len(steps)} load(s) into {args.out}")
    for name, (rows, _digest) in snapshot_rows(args.out).items():
        console.print(f"{name}: {rows:,} rows")
    return 0


def cmd_er_report(args: argparse.Namespace) -> int:
    import json

    from shoplog.er_report import er_report

    console.print_json(json.dumps(er_report(args.db, args.truth)))
    return 0


COMMANDS = {
    "generate": cmd_generate,
    "load": cmd_load,
    "run": cmd_run,
    "validate": cmd_validate,
    "er-report": cmd_er_report,
    "reconcile": cmd_reconcile,
    "replay-check": cmd_replay_check,
    "replay": cmd_replay,
}


def _exit_on_sigterm(signum, frame) -> None:
    # SIGTERM unwinds like Ctrl-C, so clean-up (a half-written replay, a running dbt) happens
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (LoadError, BuildError, ValueError) as exc:
        console.print(f"[red bold]error:[/] {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
