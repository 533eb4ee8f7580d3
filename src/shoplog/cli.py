"""The ``shoplog`` console command: generate, load, run and the log's checks (built on click).

Every subcommand finds the project, the database and the landing folder the same way, through
:func:`shoplog.locations.locate`: ``--project-dir``, else ``$SHOPLOG_PROJECT_DIR``, else the
nearest folder with ``dbt_project.yml`` at or above the working directory; ``--db``, else
``$SHOPLOG_DB``, else ``<project>/data/shoplog.duckdb``; ``--landing``, else
``<project>/data/landing``. Relative paths given on the command line are relative to the
working directory.

Exit codes: 0 done, 1 the command found a problem (a rejected file, a failed build or check,
a difference), 2 a usage error or a load or build that could not run, 128 + N on signal N.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypedDict

import click

from shoplog.build import UNIT_TESTS_EXCLUDED, BuildError, DbtOutcome, run_dbt
from shoplog.generate import DELETION_RATE
from shoplog.load import JOURNAL_SUFFIX, LoadError, LoadSummary, discover, load
from shoplog.locations import DEFAULT_DB, DEFAULT_LANDING, Locations, locate
from shoplog.progress import console
from shoplog.report import layer_row_counts, print_summary, quarantine_counts

if TYPE_CHECKING:
    from shoplog.generate import Faults


class Sample(TypedDict):
    """Arguments of :func:`shoplog.generate.generate` that pick the sample."""

    start: date
    days: int
    users: int
    seed: int


#: The default sample the main job generates when the landing directory is empty.
DEFAULT_SAMPLE: Sample = {"start": date(2026, 1, 1), "days": 28, "users": 1000, "seed": 42}
#: Faults in the main job's sample, at small rates, so quarantine and duplicates show.
DEFAULT_SAMPLE_FAULTS = {
    "duplicate_rate": 0.005,
    "late_rate": 0.01,
    "skew_rate": 0.002,
    "malformed_rate": 0.001,
    "unknown_type_rate": 0.001,
    "v2_rate": 0.3,
}
DEFAULT_WORKDIR = Path("data/replay-check")
#: The fault flags of ``generate``: option name, help.
FAULT_FLAGS = (
    ("duplicate-rate", "re-deliver an event (same line, later file)"),
    ("late-rate", "deliver an event hours to days after it happened"),
    ("skew-rate", "set the event time in the future (producer clock skew)"),
    ("malformed-rate", "write a line that is not valid JSON"),
    ("unknown-type-rate", "write an event of a type the catalogue does not know"),
    ("v2-rate", "write add_to_cart as schema version 2 (renamed fields)"),
)

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class IsoDate(click.ParamType):
    """A date argument (ISO-8601, ``YYYY-MM-DD``)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"not an ISO-8601 date: {value!r}", param, ctx)


class IsoTimestamp(click.ParamType):
    """A timestamp argument (ISO-8601); the loader converts an offset to UTC and takes a naive
    value as UTC."""

    name = "timestamp"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"not an ISO-8601 timestamp: {value!r}", param, ctx)


PATH = click.Path(path_type=Path)


def _path_option(name: str, help_text: str, required: bool = False) -> Decorator:
    # no default=None: click 8.3+ takes an explicit None as a default and stops requiring it
    return click.option(name, type=PATH, required=required, help=help_text)


project_dir_option = _path_option(
    "--project-dir",
    "dbt project folder (default: $SHOPLOG_PROJECT_DIR, else the nearest folder with "
    "dbt_project.yml at or above the working directory)",
)
db_option = _path_option("--db", f"DuckDB file (default: $SHOPLOG_DB, else <project>/{DEFAULT_DB})")
landing_option = _path_option("--landing", f"landing folder (default: <project>/{DEFAULT_LANDING})")
journal_option = _path_option(
    "--journal",
    "the load journal, an append-only file outside the database (default: "
    f"<db>{JOURNAL_SUFFIX} beside the database)",
)


def _faults(rates: dict[str, float]) -> Faults:
    from shoplog.generate import Faults

    return Faults(**rates)


def _report_load(summary: LoadSummary) -> int:
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


class _InOrder(click.Group):
    """A group that lists its commands in the order they are defined (the job's order)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=_InOrder, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """An append-only shop event log in DuckDB, modelled with dbt."""


def _fault_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for name, help_text in reversed(FAULT_FLAGS):
        command = click.option(
            f"--{name}",
            type=float,
            default=0.0,
            show_default=True,
            help=f"fault to inject (rate from 0 to 1): {help_text}",
        )(command)
    return command


@cli.command(short_help="write a deterministic synthetic event log")
@_path_option("--out", "landing directory to write", required=True)
@click.option("--start", type=IsoDate(), default=DEFAULT_SAMPLE["start"], show_default=True)
@click.option("--days", type=int, default=DEFAULT_SAMPLE["days"], show_default=True)
@click.option("--users", type=int, default=DEFAULT_SAMPLE["users"], show_default=True)
@click.option("--seed", type=int, default=DEFAULT_SAMPLE["seed"], show_default=True)
@click.option(
    "--no-hard-cases",
    is_flag=True,
    help="leave out shared devices, similar emails and claimed guest orders",
)
@click.option(
    "--deletion-rate",
    type=float,
    default=DELETION_RATE,
    show_default=True,
    help="share of known persons who later ask to be forgotten",
)
@_fault_options
def generate(
    out: Path,
    start: date,
    days: int,
    users: int,
    seed: int,
    no_hard_cases: bool,
    deletion_rate: float,
    **rates: float,
) -> int:
    """Write a deterministic synthetic event log (gzip NDJSON partitioned by source, date and
    hour) and its ground truth under OUT/_truth."""
    from shoplog.generate import generate as generate_log

    started = time.perf_counter()
    summary = generate_log(
        out=out,
        start=start,
        days=days,
        users=users,
        seed=seed,
        faults=_faults(rates),
        hard_cases=not no_hard_cases,
        deletion_rate=deletion_rate,
    )
    console.print(
        f"generated {summary.lines_written:,} lines in {summary.files_written:,} files "
        f"under {out} in {time.perf_counter() - started:.1f} s"
    )
    return 0


@cli.command("load", short_help="append new landing files to the raw log")
@landing_option
@click.option(
    "--loaded-at",
    type=IsoTimestamp(),
    default=None,
    help="stamp the load with this time instead of now (a backfill: the log's clock when "
    "the files would have been loaded; an offset is converted to UTC)",
)
@click.option(
    "--from-partition",
    is_flag=True,
    help="backfill of a partitioned archive: stamp each file with the end of its "
    "date=/hour= partition (never before a file already loaded, never after now); "
    "not with --loaded-at",
)
@db_option
@project_dir_option
@journal_option
def load_command(
    landing: Path | None,
    loaded_at: datetime | None,
    from_partition: bool,
    db: Path | None,
    project_dir: Path | None,
    journal: Path | None,
) -> int:
    """Append new landing files to the raw log: each line verbatim, each file once."""
    if loaded_at is not None and from_partition:
        raise click.UsageError("--from-partition is not allowed with --loaded-at")
    where = locate(project_dir, db, landing)
    started = time.perf_counter()
    summary = load(
        where.landing,
        where.database,
        loaded_at=loaded_at,
        from_partition=from_partition,
        journal=journal,
    )
    console.print(
        f"loaded {summary.lines_loaded:,} lines from {summary.files_loaded:,} new files "
        f"({summary.files_skipped:,} already loaded) into {where.database} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return _report_load(summary)


@cli.command("run", short_help="main job: sample (if none), load, dbt build, dbt docs, summary")
@landing_option
@project_dir_option
@db_option
@click.option(
    "--wall-clock",
    is_flag=True,
    help="stamp new files with the time of this run (default: the end of each file's "
    "date=/hour= partition, a backfill of the sample archive, so as_of demos work)",
)
@journal_option
def run_command(
    landing: Path | None,
    project_dir: Path | None,
    db: Path | None,
    wall_clock: bool,
    journal: Path | None,
) -> int:
    """The main job: generate the default sample if the landing folder is empty, load it,
    dbt build, dbt docs generate, and print a summary."""
    where = locate(project_dir, db, landing)
    return _main_job(where, wall_clock, journal)


def _main_job(where: Locations, wall_clock: bool, journal: Path | None = None) -> int:
    timings: dict[str, float] = {}
    project, database, landing = where.project_dir, where.database, where.landing
    if not landing.exists() or not discover(landing):
        from shoplog.generate import generate as generate_log

        console.print(f"no landing files in {landing}: generating the default sample")
        started = time.perf_counter()
        generate_log(out=landing, faults=_faults(DEFAULT_SAMPLE_FAULTS), **DEFAULT_SAMPLE)
        timings["generate"] = time.perf_counter() - started

    started = time.perf_counter()
    loaded = load(landing, database, from_partition=not wall_clock, journal=journal)
    timings["load"] = time.perf_counter() - started
    console.print(f"loaded {loaded.lines_loaded:,} new lines from {loaded.files_loaded:,} files")
    load_status = _report_load(loaded)

    started = time.perf_counter()
    built = _dbt_build(where)
    timings["dbt build"] = time.perf_counter() - started
    if not built.success:
        return 1

    started = time.perf_counter()
    docs = run_dbt(["docs", "generate", "--static"], project, database, quiet=True)
    timings["dbt docs"] = time.perf_counter() - started
    if not docs.success:
        console.print("[red bold]dbt docs generate failed")
        return 1

    print_summary(
        layer_row_counts(database),
        quarantine_counts(database),
        built,
        timings,
        docs_path=(docs.target_path or project / "target") / "static_index.html",
    )
    return load_status


def _dbt_build(where: Locations) -> DbtOutcome:
    # unit tests check model logic on fixed inputs, not this log: `make test` runs them once
    built = run_dbt(UNIT_TESTS_EXCLUDED, where.project_dir, where.database)
    if not built.success:
        for failure in built.failures:
            console.print(f"[red]{failure}")
        console.print("[red bold]dbt build failed")
    return built


@cli.command("build", short_help="dbt build on the log loaded so far (without the unit tests)")
@project_dir_option
@db_option
def build_command(project_dir: Path | None, db: Path | None) -> int:
    """dbt build of every model, snapshot, seed and data test on the lines loaded so far (the
    dbt unit tests, which check logic on fixed inputs, run in `make test`). Exit 1 if it fails."""
    where = locate(project_dir, db)
    started = time.perf_counter()
    built = _dbt_build(where)
    if built.success:
        console.print(f"built {where.database} in {time.perf_counter() - started:.1f} s")
    return 0 if built.success else 1


@cli.command(short_help="run the Great Expectations suite on the feature mart")
@db_option
@project_dir_option
def validate(db: Path | None, project_dir: Path | None) -> int:
    """Run the Great Expectations suite on features.feat_person_daily; exit 1 if it fails."""
    from shoplog.validate import validate_features

    outcome = validate_features(locate(project_dir, db).database)
    for kind, column, ok in outcome.results:
        mark = "[green]pass" if ok else "[red]FAIL"
        console.print(f"{mark}[/] {kind} {column}")
    verdict = "passed" if outcome.success else "failed"
    console.print(f"feature mart suite {verdict} on {outcome.rows:,} rows")
    return 0 if outcome.success else 1


@cli.command(short_help="lines landed / raw / staged / quarantined / duplicates per source and day")
@_path_option(
    "--landing", "also count the landed lines of this folder (default: the manifest's counts)"
)
@db_option
@project_dir_option
def reconcile(landing: Path | None, db: Path | None, project_dir: Path | None) -> int:
    """Lines landed / raw / staged / quarantined / duplicates per source and day; exit 1 when
    they do not balance."""
    from shoplog.report import print_reconciliation
    from shoplog.report import reconcile as reconcile_rows

    where = locate(project_dir, db, landing)
    rows = reconcile_rows(where.database, where.landing if landing else None)
    return 0 if print_reconciliation(rows) else 1


@cli.command(
    "replay-check",
    short_help="incremental runs over batches vs a full refresh, and snapshots vs their replay",
)
@landing_option
@click.option("--batches", type=int, default=4, show_default=True)
@_path_option("--workdir", f"scratch folder, emptied first (default: <project>/{DEFAULT_WORKDIR})")
@project_dir_option
def replay_check_command(
    landing: Path | None, batches: int, workdir: Path | None, project_dir: Path | None
) -> int:
    """Deliver the landing folder in batches, building after each; compare every model with a
    full refresh and the snapshots with their replay. Exit 1 on a difference."""
    from shoplog.replay import replay_check

    where = locate(project_dir, landing=landing)
    verdicts = replay_check(
        where.landing,
        where.under_project(workdir, DEFAULT_WORKDIR),
        batches,
        where.project_dir,
    )
    for verdict in verdicts:
        mark = "[green]same" if verdict.same else "[red bold]DIFFERENT"
        left = verdict.left[0] if verdict.left else "-"
        right = verdict.right[0] if verdict.right else "-"
        console.print(f"{mark}[/] {verdict.relation} ({left} vs {right} rows)")
    differing = [v.relation for v in verdicts if not v.same]
    console.print(f"{len(verdicts) - len(differing)} of {len(verdicts)} relations identical")
    return 1 if differing else 0


@cli.command(
    "replay", short_help="rebuild the snapshots into an empty database from the raw log alone"
)
@_path_option("--out", "the new (empty) DuckDB file", required=True)
@project_dir_option
@db_option
def replay_command(out: Path, project_dir: Path | None, db: Path | None) -> int:
    """Rebuild the snapshots of the database into the empty OUT from its raw log alone."""
    from shoplog.replay import replay, snapshot_rows

    where = locate(project_dir, db)
    steps = replay(where.database, out, where.project_dir, quiet=False)
    console.print(f"replayed {len(steps)} load(s) into {out}")
    for name, (rows, _digest) in snapshot_rows(out).items():
        console.print(f"{name}: {rows:,} rows")
    return 0


@cli.command("recover", short_help="rebuild a lost database from the landing files and the journal")
@journal_option
@landing_option
@_path_option(
    "--db",
    f"the new DuckDB file to build (must not exist; default: $SHOPLOG_DB, else <project>/"
    f"{DEFAULT_DB})",
)
@project_dir_option
def recover_command(
    journal: Path | None, landing: Path | None, db: Path | None, project_dir: Path | None
) -> int:
    """Rebuild a lost database into the new DB: check the landing files against the journal,
    reload each loader run with its original load id and load time, rebuild the snapshots run
    by run (as `shoplog replay`), then dbt build. Nothing is left behind if it fails."""
    from shoplog.load import journal_path
    from shoplog.recover import recover

    where = locate(project_dir, db, landing)
    journal = journal or journal_path(where.database)
    started = time.perf_counter()
    done = recover(journal, where.landing, where.database, where.project_dir, quiet=False)
    console.print(
        f"recovered {where.database} from {journal} and {where.landing} "
        f"in {time.perf_counter() - started:.1f} s: {done.loads} loader run(s), "
        f"{done.files:,} files, {done.lines:,} lines, {done.rejections} rejection(s) "
        f"with their original load times; snapshots replayed as of {done.as_ofs[0]} .. "
        f"{done.as_ofs[-1]}; dbt build done (not published)"
    )
    return 0


@cli.command(
    "er-report", short_help="entity resolution accuracy against the generator's ground truth"
)
@_path_option("--truth", "the landing's _truth directory", required=True)
@db_option
@project_dir_option
def er_report_command(truth: Path, db: Path | None, project_dir: Path | None) -> int:
    """Entity resolution accuracy (pairwise precision, recall, F1; payment matches) as JSON."""
    import json

    from shoplog.er_report import er_report
    from shoplog.keys import project_key

    where = locate(project_dir, db)
    key = project_key(where.project_dir_if_any)
    console.print_json(json.dumps(er_report(where.database, truth, key=key)))
    return 0


@cli.command(short_help="dbt-project-evaluator's rules over the project, with its waivers")
@click.option("--json", "as_json", is_flag=True, help="print the violations as JSON")
@project_dir_option
def evaluate(as_json: bool, project_dir: Path | None) -> int:
    """dbt-project-evaluator's rules (re-implemented) over the project's manifest; exit 1 when a
    violation is not waived in tests/project_evaluator_waivers.toml or a waiver is stale."""
    from shoplog.project_evaluator import main as evaluate_project

    args = ["--project-dir", str(locate(project_dir).project_dir)]
    return evaluate_project([*args, "--json"] if as_json else args)


_signals_received: list[int] = []


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so clean-up (a half-written replay, a running dbt) happens.
    # It is also recorded: raised inside a DuckDB query, the SystemExit reaches the caller as
    # DuckDB's "Query interrupted" error (a dbt hook or the loader would call that a failure).
    _signals_received.append(signum)
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    _signals_received.clear()
    try:
        code = _run(list(sys.argv[1:] if argv is None else argv))
    except BaseException:
        if not _signals_received:
            raise
        code = 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    # Stopped by a signal: 128 + N, whatever the interrupted step made of it
    return 128 + _signals_received[0] if _signals_received else code


def _run(args: list[str]) -> int:
    try:
        with cli.make_context("shoplog", args) as ctx:
            code = cli.invoke(ctx)
    except click.exceptions.Exit as done:  # --help
        return done.exit_code
    except click.ClickException as error:  # a usage error: exit 2, as argparse did
        error.show()
        return error.exit_code
    except (LoadError, BuildError, ValueError) as exc:
        console.print(f"[red bold]error:[/] {exc}")
        return 2
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
