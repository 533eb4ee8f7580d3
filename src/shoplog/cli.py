"""The ``shoplog`` console command: generate, load, run and the log's checks (built on click).

Every subcommand finds the project, the database and the landing folder the same way, through
:func:`shoplog.locations.locate`: ``--project-dir``, else ``$SHOPLOG_PROJECT_DIR``, else the
nearest folder with ``dbt_project.yml`` at or above the working directory; ``--db``, else
``$SHOPLOG_DB``, else ``<project>/data/shoplog.duckdb``; ``--landing``, else
``<project>/data/landing``. Relative paths given on the command line are relative to the
working directory.

Exit codes: 0 done, 1 the command found a problem (a rejected file, a failed build or check,
a difference), 2 a usage error or a load or build that could not run (another writer holds the
database's lock: :mod:`shoplog.lock`), 128 + N on signal N. Commands that write take the lock
(``--wait SECONDS`` to wait for it) and record their run in ``ops.run_history``
(:mod:`shoplog.history`, shown by ``shoplog history``).
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypedDict

import click

from shoplog.bench import STEPS as BENCH_STEPS
from shoplog.build import UNIT_TESTS_EXCLUDED, BuildError, DbtOutcome, run_dbt
from shoplog.generate import DELETION_RATE
from shoplog.history import RunRecord, recorded
from shoplog.load import JOURNAL_SUFFIX, LoadError, LoadSummary, discover, load
from shoplog.locations import DEFAULT_DB, DEFAULT_LANDING, DEFAULT_SERVING_NAME, Locations, locate
from shoplog.lock import LockHeldError, foreign_holder_message, is_duckdb_lock_conflict, writer_lock
from shoplog.progress import console
from shoplog.publish import DEFAULT_KEEP, MIN_KEEP, PublishError, publish
from shoplog.report import build_counts, layer_row_counts, print_summary, quarantine_counts

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
DEFAULT_BENCH_WORKDIR = Path("data/bench")
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
wait_option = click.option(
    "--wait",
    type=float,
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="when another shoplog writer holds the database, wait up to SECONDS for it "
    "(default: fail at once, naming the holder)",
)


@contextmanager
def _writing(database: Path, command: str, wait: float) -> Iterator[RunRecord]:
    """Hold the writer lock of ``database`` and record the run in its history (``command``:
    the history's command, also named in the lock as ``shoplog <command>``)."""
    with writer_lock(database, f"shoplog {command}", wait), _recorded(database, command) as record:
        yield record


def _recorded(database: Path, command: str) -> AbstractContextManager[RunRecord]:
    """:func:`shoplog.history.recorded`, counting a run stopped by a signal as interrupted."""
    return recorded(database, command, interrupted=lambda: bool(_signals_received))


serving_option = _path_option(
    "--serving",
    f"serving folder that readers open (default: {DEFAULT_SERVING_NAME}/ beside the database)",
)
keep_option = click.option(
    "--keep",
    type=click.IntRange(min=MIN_KEEP),
    default=DEFAULT_KEEP,
    show_default=True,
    help="published builds to keep in the serving folder (readers on an older one lose it)",
)
journal_option = _path_option(
    "--journal",
    "the load journal, an append-only file outside the database (default: "
    f"<db>{JOURNAL_SUFFIX} beside the database)",
)


def _faults(rates: dict[str, float]) -> Faults:
    from shoplog.generate import Faults

    return Faults(**rates)


def _record_load(record: RunRecord, summary: LoadSummary) -> None:
    """The history row of a load: lines in and appended, rejected files, what was loaded."""
    record.rows_in = record.rows_out = summary.lines_loaded
    record.failures = len(summary.rejected)
    record.details = {
        "load_id": summary.load_id,
        "files_loaded": summary.files_loaded,
        "files_skipped": summary.files_skipped,
        "files_rejected": [f"{r.file_path}: {r.reason}" for r in summary.rejected],
        "files_unrecognised": len(summary.unrecognised),
    }


def _record_build(record: RunRecord, database: Path, built: DbtOutcome) -> None:
    """The history row of a build: raw lines in its bound, staged and quarantined rows, failed
    nodes and the count of nodes by resource type and status."""
    counts = build_counts(database)
    if counts is not None:
        record.rows_in, record.rows_out, record.quarantined = counts
    record.failures = len(built.failures)
    nodes: dict[str, dict[str, int]] = {}
    for (resource_type, status), count in sorted(built.counts.items()):
        nodes.setdefault(resource_type, {})[status] = count
    record.details["nodes"] = nodes
    if not built.success:
        record.result = "failed"
        record.message = built.failures[0] if built.failures else "dbt build failed"


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
@wait_option
@journal_option
def load_command(
    landing: Path | None,
    loaded_at: datetime | None,
    from_partition: bool,
    db: Path | None,
    project_dir: Path | None,
    wait: float,
    journal: Path | None,
) -> int:
    """Append new landing files to the raw log: each line verbatim, each file once."""
    if loaded_at is not None and from_partition:
        raise click.UsageError("--from-partition is not allowed with --loaded-at")
    where = locate(project_dir, db, landing)
    started = time.perf_counter()
    with _writing(where.database, "load", wait) as record:
        summary = load(
            where.landing,
            where.database,
            loaded_at=loaded_at,
            from_partition=from_partition,
            journal=journal,
        )
        _record_load(record, summary)
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
@serving_option
@keep_option
@wait_option
@journal_option
def run_command(
    landing: Path | None,
    project_dir: Path | None,
    db: Path | None,
    wall_clock: bool,
    serving: Path | None,
    keep: int,
    wait: float,
    journal: Path | None,
) -> int:
    """The main job: generate the default sample if the landing folder is empty, load it,
    dbt build, publish to the serving folder, dbt docs generate, and print a summary."""
    where = locate(project_dir, db, landing, serving)
    with _writing(where.database, "run", wait) as record:
        return _main_job(where, wall_clock, keep, record, journal)


def _main_job(
    where: Locations, wall_clock: bool, keep: int, record: RunRecord, journal: Path | None
) -> int:
    timings: dict[str, float] = {}
    project, database, landing = where.project_dir, where.database, where.landing
    if not landing.exists() or not discover(landing):
        from shoplog.generate import generate as generate_log

        console.print(f"no landing files in {landing}: generating the default sample")
        started = time.perf_counter()
        generate_log(out=landing, faults=_faults(DEFAULT_SAMPLE_FAULTS), **DEFAULT_SAMPLE)
        timings["generate"] = time.perf_counter() - started

    started = time.perf_counter()
    with _recorded(database, "load") as load_record:
        loaded = load(landing, database, from_partition=not wall_clock, journal=journal)
        _record_load(load_record, loaded)
    timings["load"] = time.perf_counter() - started
    console.print(f"loaded {loaded.lines_loaded:,} new lines from {loaded.files_loaded:,} files")
    load_status = _report_load(loaded)

    started = time.perf_counter()
    built = _dbt_build(where)
    timings["dbt build"] = time.perf_counter() - started
    _record_build(record, database, built)
    record.details["timings_s"] = {step: round(s, 3) for step, s in timings.items()}
    if not built.success:
        return 1

    started = time.perf_counter()
    if _publish(where, keep):
        return 2
    timings["publish"] = time.perf_counter() - started

    started = time.perf_counter()
    docs = run_dbt(["docs", "generate", "--static"], project, database, quiet=True)
    timings["dbt docs"] = time.perf_counter() - started
    if not docs.success:
        console.print("[red bold]dbt docs generate failed")
        record.result, record.message = "failed", "dbt docs generate failed"
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
            if is_duckdb_lock_conflict(failure):  # we hold the shoplog lock: not a shoplog writer
                failure = foreign_holder_message(where.database, failure)
            console.print(failure, style="red", markup=False)
        console.print("[red bold]dbt build failed")
    return built


@cli.command("build", short_help="dbt build on the log loaded so far, then publish it")
@project_dir_option
@db_option
@serving_option
@keep_option
@wait_option
def build_command(
    project_dir: Path | None, db: Path | None, serving: Path | None, keep: int, wait: float
) -> int:
    """dbt build of every model, snapshot, seed and data test on the lines loaded so far (the
    dbt unit tests, which check logic on fixed inputs, run in `make test`), then publish the
    marts and features to the serving folder. Exit 1 if the build fails (nothing is
    published), 2 if the publication fails."""
    where = locate(project_dir, db, serving=serving)
    started = time.perf_counter()
    with _writing(where.database, "build", wait) as record:
        built = _dbt_build(where)
        _record_build(record, where.database, built)
        if not built.success:
            return 1
        console.print(f"built {where.database} in {time.perf_counter() - started:.1f} s")
        return _publish(where, keep)


@cli.command("publish", short_help="publish the built marts and features for readers")
@serving_option
@keep_option
@db_option
@project_dir_option
@wait_option
def publish_command(
    serving: Path | None, keep: int, db: Path | None, project_dir: Path | None, wait: float
) -> int:
    """Export the marts and features of the built database to Parquet under the serving
    folder and switch its serving.duckdb (views over them) to this build atomically; keep the
    newest KEEP builds. Exit 2 if it cannot (the serving folder is left as it was)."""
    where = locate(project_dir, db, serving=serving)
    with writer_lock(where.database, "shoplog publish", wait):
        return _publish(where, keep)


def _publish(where: Locations, keep: int) -> int:
    """Publish ``where.database`` to ``where.serving`` (the caller holds the writer lock) and
    record it in the run history: 0 when done, 2 when it could not."""
    started = time.perf_counter()
    with _recorded(where.database, "publish") as record:
        try:
            done = publish(where.database, where.serving, keep)
        except PublishError as exc:
            record.result, record.message = "failed", str(exc)
            console.print(f"[red bold]publish failed[/] (readers keep the previous build): {exc}")
            return 2
        record.rows_out = sum(table.row_count for table in done.tables)
        record.details = {"build_id": done.build_id, "tables": len(done.tables)}
    console.print(
        f"published build {done.build_id} ({len(done.tables)} tables) to {done.serving_file} "
        f"in {time.perf_counter() - started:.1f} s"
        + (f"; removed {len(done.pruned)} old build(s)" if done.pruned else "")
    )
    return 0


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


@cli.command(short_help="what an operator must look at: quarantine, duplicates, staleness, builds")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON (for alerting)")
@click.option(
    "--no-freshness", is_flag=True, help="skip `dbt source freshness` (wall-clock staleness)"
)
@db_option
@project_dir_option
@wait_option
def health(
    as_json: bool, no_freshness: bool, db: Path | None, project_dir: Path | None, wait: float
) -> int:
    """Check the log and the last build; print one line per finding and exit 1 when there is
    one (warnings alone exit 0). Thresholds: the `health` var in dbt_project.yml, freshness
    per producer in models/staging/raw/_raw__sources.yml."""
    from shoplog.health import check_health

    where = locate(project_dir, db)
    # dbt opens the database for writing, even for a freshness check: take the writers' turn
    with writer_lock(where.database, "shoplog health", wait):
        report = check_health(where.database, where.project_dir, freshness=not no_freshness)
    if as_json:
        click.echo(report.to_json())
    else:
        # plain lines, never wrapped: one per finding, for grep and log shippers
        click.echo(
            f"health of {where.database} (log clock {report.log_clock or '-'}; "
            f"window from {report.window_start or '-'})"
        )
        for finding in report.findings:
            click.echo(finding.line())
        ok = [check for check, state in report.checks.items() if state == "ok"]
        skipped = [f"{c} ({s})" for c, s in report.checks.items() if s.startswith("skipped")]
        click.echo(f"ok: {', '.join(ok) or 'none'}")
        if skipped:
            click.echo(f"skipped: {', '.join(skipped)}")
    return 0 if report.healthy else 1


@cli.command(
    "replay-check",
    short_help="incremental runs over batches vs a full refresh, and snapshots vs their replay",
)
@landing_option
@click.option("--batches", type=int, default=4, show_default=True)
@_path_option("--workdir", f"scratch folder, emptied first (default: <project>/{DEFAULT_WORKDIR})")
@project_dir_option
@wait_option
def replay_check_command(
    landing: Path | None,
    batches: int,
    workdir: Path | None,
    project_dir: Path | None,
    wait: float,
) -> int:
    """Deliver the landing folder in batches, building after each; compare every model with a
    full refresh and the snapshots with their replay. Exit 1 on a difference."""
    from shoplog.replay import replay_check

    where = locate(project_dir, landing=landing)
    scratch = where.under_project(workdir, DEFAULT_WORKDIR)
    # the lock file sits beside the workdir (<workdir>.lock): the check empties the workdir
    with writer_lock(scratch, "shoplog replay-check", wait):
        verdicts = replay_check(where.landing, scratch, batches, where.project_dir)
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
@wait_option
def replay_command(out: Path, project_dir: Path | None, db: Path | None, wait: float) -> int:
    """Rebuild the snapshots of the database into the empty OUT from its raw log alone (the
    run is recorded in the source database's history)."""
    from shoplog.replay import replay, snapshot_rows

    where = locate(project_dir, db)
    # The source is locked too: DuckDB will not open a file another process is writing. The
    # new database is locked when its folder exists: a failed replay leaves no folder it made.
    with (
        writer_lock(out, "shoplog replay", wait) if out.parent.is_dir() else nullcontext(),
        _writing(where.database, "replay", wait) as record,
    ):
        steps = replay(where.database, out, where.project_dir, quiet=False)
        snapshots = snapshot_rows(out)
        record.rows_out = sum(rows for rows, _digest in snapshots.values())
        record.details = {"out": str(out), "steps": len(steps)}
    console.print(f"replayed {len(steps)} load(s) into {out}")
    for name, (rows, _digest) in snapshots.items():
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
@serving_option
@keep_option
@wait_option
def recover_command(
    journal: Path | None,
    landing: Path | None,
    db: Path | None,
    project_dir: Path | None,
    serving: Path | None,
    keep: int,
    wait: float,
) -> int:
    """Rebuild a lost database into the new DB: check the landing files against the journal,
    reload each loader run with its original load id and load time, rebuild the snapshots run
    by run (as `shoplog replay`), dbt build, then publish. Nothing is left behind if it fails."""
    from shoplog.load import journal_path
    from shoplog.recover import recover

    where = locate(project_dir, db, landing, serving)
    journal = journal or journal_path(where.database)
    started = time.perf_counter()
    with writer_lock(where.database, "shoplog recover", wait):
        done = recover(journal, where.landing, where.database, where.project_dir, quiet=False)
        with _recorded(where.database, "recover") as record:
            record.rows_in = record.rows_out = done.lines
            record.details = {"loads": done.loads, "files": done.files}
        console.print(
            f"recovered {where.database} from {journal} and {where.landing} "
            f"in {time.perf_counter() - started:.1f} s: {done.loads} loader run(s), "
            f"{done.files:,} files, {done.lines:,} lines, {done.rejections} rejection(s) "
            f"with their original load times; snapshots replayed as of {done.as_ofs[0]} .. "
            f"{done.as_ofs[-1]}; dbt build done"
        )
        return _publish(where, keep)


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


@cli.command(short_help="the last runs (loads, builds, replays) and their trends")
@click.option("--limit", type=int, default=20, show_default=True, help="how many runs to show")
@click.option("--json", "as_json", is_flag=True, help="print the runs and trends as JSON")
@db_option
@project_dir_option
def history(limit: int, as_json: bool, db: Path | None, project_dir: Path | None) -> int:
    """The last runs recorded in ops.run_history (newest first) and the trends: the last build's
    duration and the quarantine rate of the lines it took in, against the median of the builds
    before. Exit 1 when there is no database."""
    import json

    import duckdb

    from shoplog.history import last_runs, trends
    from shoplog.report import print_history

    database = locate(project_dir, db).database
    if not database.is_file():
        console.print(f"[red bold]error:[/] no database at {database}")
        return 1
    try:
        runs, trend = last_runs(database, limit), trends(database)
    except duckdb.Error as exc:  # e.g. a writer has the file open: DuckDB allows one process
        console.print(f"[red bold]error:[/] cannot read {database}: {exc}")
        return 2
    if as_json:
        click.echo(json.dumps({"runs": runs, "trends": trend}, indent=2, default=str))
    else:
        print_history(runs, trend)
    return 0


@cli.command(short_help="time load and builds of a log of N events against a plain DuckDB floor")
@click.option("--events", type=click.IntRange(min=1), required=True, help="about N lines")
@click.option(
    "--incremental-share",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.01,
    show_default=True,
    help="share of the files (the last by path) loaded after the full build",
)
@_path_option(
    "--workdir",
    f"folder of the log (reused when generated with the same parameters) and the scratch "
    f"databases (default: <project>/{DEFAULT_BENCH_WORKDIR})",
)
@click.option(
    "--keep-log", is_flag=True, help="keep a newly generated log in the workdir for the next run"
)
@click.option("--json-only", is_flag=True, help="print only the JSON line")
@click.option(
    "--steps",
    default=",".join(BENCH_STEPS),
    show_default=True,
    help="comma-separated steps to run (the loads always run)",
)
@project_dir_option
def bench(
    events: int,
    incremental_share: float,
    workdir: Path | None,
    keep_log: bool,
    json_only: bool,
    steps: str,
    project_dir: Path | None,
) -> int:
    """Generate (or reuse) a log of about EVENTS lines; time the load of all but the last
    files, a full dbt build, the load of the rest, an incremental build, a build with nothing
    new and a full refresh, in this process, with its peak RSS per step; time the floor
    (scripts/bench_floor.sql) on the same files; print the table, the ratios against issue
    15's targets, the slowest models and, last, one line of JSON."""
    import json

    from shoplog.bench import bench as run_bench
    from shoplog.bench import report_lines

    chosen = tuple(step.strip() for step in steps.split(",") if step.strip())
    unknown = sorted(set(chosen) - set(BENCH_STEPS))
    if unknown:
        raise click.UsageError(f"unknown step(s) {', '.join(unknown)}; known: {BENCH_STEPS}")
    where = locate(project_dir)
    scratch = where.under_project(workdir, DEFAULT_BENCH_WORKDIR)
    result = run_bench(
        events, scratch, where.project_dir, incremental_share, chosen, keep_log=keep_log
    )
    if not json_only:
        for line in report_lines(result):
            click.echo(line)
    click.echo(json.dumps(result.summary()))
    return 0


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
    except LockHeldError as exc:  # one line, however long: scripts grep it
        console.print(f"error: {exc}", soft_wrap=True, markup=False, highlight=False)
        return 2
    except (LoadError, BuildError, ValueError) as exc:
        console.print(f"[red bold]error:[/] {exc}")
        return 2
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
