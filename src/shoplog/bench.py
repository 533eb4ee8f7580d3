"""``shoplog bench``: time the project on a log of N events against a floor (issue 15, item 1).

One run, in one process: generate (or reuse) a log of about N lines with the main job's fault
rates, then time each step and sample the process's peak RSS during it: load of the first
``1 - share`` of the files (by path) into a fresh database, a full ``dbt build``, load of the
rest, an incremental ``dbt build``, a ``dbt build`` with nothing new and a
``dbt build --full-refresh``. dbt runs in this process (:func:`shoplog.build.run_dbt`), so the
peaks are dbt's and DuckDB's. Then the floor, ``scripts/bench_floor.sql``: one plain DuckDB
script on the same files (read every line verbatim with its file and line number, parse the
envelope once, dedup, sessions, 5-minute page hits), run in a child process so that its memory
is its own. Figures, not assertions: the machine is shared, so quote ratios from one run.

Sizing: the generator writes about :data:`LINES_PER_USER_DAY` lines per simulated person and
day at the main job's fault rates (issue 15 measured 87,000 users x 28 days = 10,282,407
lines: 4.22; a 1,000-user sample gives 4.3), so N events take ``N / (4.22 x 28)`` users.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from shoplog.build import UNIT_TESTS_EXCLUDED, BuildError, DbtOutcome, run_dbt
from shoplog.load import discover, load

#: Lines the generator writes per simulated person and day (see the module's docstring).
LINES_PER_USER_DAY = 4.22
#: The benchmark's log: 28 days from the main job's start date, one seed.
BENCH_DAYS = 28
BENCH_START = date(2026, 1, 1)
BENCH_SEED = 42
#: The floor's script, relative to the project.
FLOOR_SCRIPT = Path("scripts/bench_floor.sql")
#: Where the floor finds the event catalogue (the project's seed), relative to the project.
CATALOGUE_SEED = Path("seeds/event_catalogue.csv")
#: The parameters of the log, beside it (a log is reused when they are the same).
LOG_PARAMS = "log.json"
#: All steps, in the order they run (``--steps`` picks some; the loads always run).
STEPS = ("load", "full_build", "tail_load", "incremental_build", "noop_build", "full_refresh")
#: Issue 15's targets.
TARGET_LOAD_BUILD_VS_FLOOR = 2.0
TARGET_LOAD_VS_FLOOR_READ = 1.5
TARGET_INCREMENTAL_SHARE = 0.05
TARGET_NOOP_S = 10.0
TARGET_PEAK_RSS_GIB = 6.0
_GIB_KIB = 2**20
_SAMPLE_S = 0.2


def users_for(events: int) -> int:
    """Simulated persons for about ``events`` lines over :data:`BENCH_DAYS` days."""
    return max(1, round(events / (LINES_PER_USER_DAY * BENCH_DAYS)))


def _status_kib(name: str) -> int:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in KiB; 0 if unreadable."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """The process's peak RSS per step: a background thread samples ``VmRSS`` every 0.2 s, and
    the kernel's high-water mark ``VmHWM`` is reset at each step where Linux allows it
    (``/proc/self/clear_refs``), so short peaks between two samples count too."""

    def __init__(self) -> None:
        self._peak_kib = 0
        self._hwm_reset = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(_SAMPLE_S):
            self._peak_kib = max(self._peak_kib, _status_kib("VmRSS"))

    def reset(self) -> None:
        """Start a new step: the peak is the RSS of now."""
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self._hwm_reset = True
        except OSError:
            self._hwm_reset = False
        self._peak_kib = _status_kib("VmRSS")

    def peak_gib(self) -> float:
        """The peak RSS since the last :meth:`reset`, in GiB."""
        peak = max(self._peak_kib, _status_kib("VmRSS"))
        if self._hwm_reset:
            peak = max(peak, _status_kib("VmHWM"))
        return peak / _GIB_KIB


@dataclass
class Step:
    """One timed step: wall seconds and the peak RSS (GiB) of the process doing it."""

    name: str
    seconds: float
    peak_rss_gib: float


@dataclass
class BenchResult:
    """What one benchmark run measured (:meth:`summary` is its JSON line)."""

    events: int
    users: int
    files: int
    tail_files: int
    log_reused: bool
    steps: list[Step] = field(default_factory=list)
    floor_steps: dict[str, float] = field(default_factory=dict)
    floor_peak_rss_gib: float = 0.0
    slowest_models: list[tuple[str, float]] = field(default_factory=list)
    test_seconds: float = 0.0
    #: Node seconds summed by layer (:func:`layer_seconds`), for each build step that ran.
    layers: dict[str, dict[str, float]] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)

    def seconds(self, name: str) -> float | None:
        """The wall seconds of step ``name`` (None when it did not run)."""
        return next((step.seconds for step in self.steps if step.name == name), None)

    def ratios(self) -> dict[str, float | None]:
        """The figures issue 15 sets targets for (None when a step did not run)."""
        load_s = (self.seconds("load") or 0.0) + (self.seconds("tail_load") or 0.0)
        full, incremental = self.seconds("full_build"), self.seconds("incremental_build")
        floor = sum(self.floor_steps.values())
        return {
            "load_and_full_build_vs_floor": (load_s + full) / floor if full and floor else None,
            "load_vs_floor_read": load_s / self.floor_steps["read"]
            if self.floor_steps.get("read")
            else None,
            "incremental_vs_full_build": incremental / full if incremental and full else None,
        }

    def summary(self) -> dict[str, Any]:
        """The run as one JSON object (seconds, GiB)."""
        generated = self.seconds("generate")
        return {
            "events": self.events,
            "users": self.users,
            "files": self.files,
            "tail_files": self.tail_files,
            "log_reused": self.log_reused,
            "generate_s": _rounded(generated),
            "floor_s": round(sum(self.floor_steps.values()), 3),
            "floor_steps_s": {name: round(s, 3) for name, s in self.floor_steps.items()},
            "floor_peak_rss_gib": round(self.floor_peak_rss_gib, 3),
            **{f"{name}_s": _rounded(self.seconds(name)) for name in STEPS},
            "peak_rss_gib": round(
                max((s.peak_rss_gib for s in self.steps if s.name in STEPS), default=0.0), 3
            ),
            # ru_maxrss alone falls short: resetting VmHWM per step resets the kernel's peak
            "process_peak_rss_gib": round(
                max(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / _GIB_KIB,
                    *(step.peak_rss_gib for step in self.steps),
                ),
                3,
            ),
            "ratios": {k: _rounded(v) for k, v in self.ratios().items()},
            "sessions": self.sessions,
            "dbt_test_s": round(self.test_seconds, 3),
            "slowest_models": [[name, round(s, 3)] for name, s in self.slowest_models],
            "layers_s": {
                step: {layer: round(s, 3) for layer, s in layers.items()}
                for step, layers in self.layers.items()
            },
        }


def _rounded(value: float | None) -> float | None:
    """``value`` to the millisecond (None stays None)."""
    return None if value is None else round(value, 3)


def _log_params(users: int) -> dict[str, Any]:
    """The generator's arguments for the benchmark log of ``users`` persons."""
    from shoplog.cli import DEFAULT_SAMPLE_FAULTS

    return {
        "start": BENCH_START.isoformat(),
        "days": BENCH_DAYS,
        "users": users,
        "seed": BENCH_SEED,
        "faults": DEFAULT_SAMPLE_FAULTS,
    }


def prepare_log(workdir: Path, events: int) -> tuple[Path, dict[str, Any], bool]:
    """The log of about ``events`` lines under ``workdir/log`` (reused when ``workdir`` holds
    one generated with the same parameters): its folder, its parameters and whether it was
    reused. Its parameters are written to ``workdir/log.json`` once it is complete."""
    from shoplog.generate import Faults, generate

    log, params_file = workdir / "log", workdir / LOG_PARAMS
    params = _log_params(users_for(events))
    if params_file.is_file() and log.is_dir():
        recorded = json.loads(params_file.read_text())
        if {k: recorded.get(k) for k in params} == params:
            return log, recorded, True
    params_file.unlink(missing_ok=True)
    shutil.rmtree(log, ignore_errors=True)
    summary = generate(
        out=log,
        start=BENCH_START,
        days=BENCH_DAYS,
        users=params["users"],
        seed=BENCH_SEED,
        faults=Faults(**params["faults"]),
        progress=False,
    )
    recorded = {**params, "lines": summary.lines_written, "files": summary.files_written}
    params_file.write_text(json.dumps(recorded, indent=2) + "\n")
    return log, recorded, False


def _link_files(files: list[Path], source: Path, target: Path) -> None:
    """Land ``files`` (under ``source``) in ``target`` at the same relative paths (hard links,
    else copies)."""
    for path in files:
        landed = target / path.relative_to(source)
        landed.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, landed)
        except OSError:
            shutil.copy2(path, landed)


def layer_seconds(timings: dict[str, float], manifest: Path) -> dict[str, float]:
    """dbt's node seconds (``timings``, by unique id) summed by layer: a model's folder under
    ``models/`` (staging, identity, core, marts, features), ``seeds``, ``snapshots``,
    ``data tests`` for every test and ``hooks`` for the on-run-start/end operations; exposures
    (which dbt lists in a build's results but which run nothing) are left out. Node seconds, so
    with two threads they can add up to more than the build's wall time."""
    nodes = json.loads(manifest.read_text())["nodes"] if manifest.is_file() else {}
    layers: dict[str, float] = {}
    for unique_id, seconds in timings.items():
        kind = unique_id.split(".", 1)[0]
        if kind == "exposure":
            continue
        if kind == "test":
            layer = "data tests"
        elif kind == "operation":
            layer = "hooks"
        elif kind == "model":
            path = Path(nodes.get(unique_id, {}).get("original_file_path", "models/other/x"))
            layer = path.parts[1] if len(path.parts) > 2 else "other"
        else:
            layer = f"{kind}s"
        layers[layer] = layers.get(layer, 0.0) + seconds
    return layers


def _node_name(unique_id: str) -> str:
    """``model.shoplog.stg_raw__events`` → ``stg_raw__events``."""
    return unique_id.rsplit(".", 1)[-1]


def split_floor_script(text: str) -> list[tuple[str, str]]:
    """The ``-- step: NAME`` blocks of the floor's script, in order: (name, SQL)."""
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("-- step:"):
            steps.append((line.removeprefix("-- step:").strip(), []))
        elif steps:
            steps[-1][1].append(line)
    return [(name, "\n".join(lines).strip()) for name, lines in steps]


def run_floor(script: Path, landing_glob: str, catalogue: Path, database: Path) -> dict[str, Any]:
    """Run the floor's script on a fresh ``database`` and time each step; in this process
    (:func:`floor_in_child` runs it in a process of its own). Returns the steps' seconds, the
    sessions, page-hit windows and lines it found, and this process's peak RSS (GiB)."""
    database.unlink(missing_ok=True)
    text = script.read_text()
    text = text.replace("{landing_glob}", landing_glob).replace("{catalogue_csv}", str(catalogue))
    steps: dict[str, float] = {}
    with duckdb.connect(str(database)) as con:
        for name, sql in split_floor_script(text):
            started = time.perf_counter()
            con.execute(sql)
            steps[name] = time.perf_counter() - started
        counts = con.execute(
            "select (select count(*) from raw_lines), (select count(*) from events), "
            "(select count(*) from sessions), (select count(*) from page_hits)"
        ).fetchall()[0]
    lines, events, sessions, page_hits = (int(n) for n in counts)
    return {
        "steps": steps,
        "lines": lines,
        "events": events,
        "sessions": sessions,
        "page_hit_rows": page_hits,
        # VmHWM, not ru_maxrss: Linux carries the parent's peak over fork and exec into it
        "peak_rss_gib": _status_kib("VmHWM") / _GIB_KIB,
    }


def floor_in_child(
    script: Path, landing_glob: str, catalogue: Path, database: Path
) -> dict[str, Any]:
    """:func:`run_floor` in a child process (its peak RSS is then the floor's alone)."""
    args = [str(script), landing_glob, str(catalogue), str(database)]
    done = subprocess.run(
        [sys.executable, "-m", "shoplog.bench", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the floor script failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def project_sessions(database: Path) -> dict[str, int]:
    """Sessions of the built project: all of them (``int_sessions__aggregated``) and those
    the marts show (``fct_sessions``, without the persons who asked to be forgotten)."""
    with duckdb.connect(str(database), read_only=True) as con:
        aggregated, marts = con.execute(
            "select (select count(*) from core.int_sessions__aggregated), "
            "(select count(*) from marts.fct_sessions)"
        ).fetchall()[0]
    return {"project": int(aggregated), "project_fct_sessions": int(marts)}


class Bench:
    """One benchmark run in ``workdir`` (scratch under ``workdir/run``, emptied first)."""

    def __init__(self, project_dir: Path, workdir: Path, sampler: RssSampler) -> None:
        self.project_dir = project_dir
        self.scratch = workdir / "run"
        self.landing = self.scratch / "landing"
        self.database = self.scratch / "bench.duckdb"
        self.sampler = sampler
        self.steps: list[Step] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block and take the process's peak RSS during it, as step ``name``."""
        self.sampler.reset()
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.steps.append(Step(name, seconds, self.sampler.peak_gib()))

    def fresh(self) -> None:
        """Empty the scratch folder (a fresh database and landing folder)."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.landing.mkdir(parents=True)

    def load(self, name: str, files: list[Path], log: Path) -> None:
        """Land ``files`` of ``log`` and load them (each file stamped with its partition's end,
        as the main job backfills), as step ``name``."""
        _link_files(files, log, self.landing)
        with self.step(name):
            loaded = load(self.landing, self.database, progress=False, from_partition=True)
        if loaded.rejected or loaded.files_loaded != len(files):
            raise BuildError(f"{name}: loaded {loaded.files_loaded} of {len(files)} files")

    def layers(self, outcome: DbtOutcome) -> dict[str, float]:
        """The build's node seconds by layer (:func:`layer_seconds`)."""
        return layer_seconds(outcome.timings, self.scratch / "target" / "manifest.json")

    def build(self, name: str, extra: list[str] | None = None) -> DbtOutcome:
        """``dbt build`` (without the unit tests) as step ``name``; raise if it fails."""
        with self.step(name):
            outcome = run_dbt(
                [*UNIT_TESTS_EXCLUDED, *(extra or [])],
                self.project_dir,
                self.database,
                quiet=True,
                target_path=self.scratch / "target",
                log_path=self.scratch / "logs",
            )
        if not outcome.success:
            raise BuildError(f"{name} failed: {'; '.join(outcome.failures[:5])}")
        return outcome


def bench(
    events: int,
    workdir: Path,
    project_dir: Path,
    incremental_share: float = 0.01,
    steps: tuple[str, ...] = STEPS,
    keep_log: bool = False,
) -> BenchResult:
    """Run the benchmark (see the module's docstring) on a log of about ``events`` lines.

    ``steps`` leaves out builds (the loads always run); the log under ``workdir/log`` is kept
    for the next run when ``keep_log`` or when it was already there, else removed, and the
    scratch databases always are."""
    if not 0 <= incremental_share < 1:
        raise ValueError(f"--incremental-share must be in [0, 1), got {incremental_share}")
    workdir.mkdir(parents=True, exist_ok=True)
    with RssSampler() as sampler:
        run = Bench(project_dir, workdir, sampler)
        with run.step("generate"):
            log, params, reused = prepare_log(workdir, events)
        if reused:
            run.steps.pop()
        files = discover(log)
        tail = min(len(files) - 1, round(len(files) * incremental_share)) if files else 0
        result = BenchResult(
            events=0,
            users=params["users"],
            files=len(files),
            tail_files=tail,
            log_reused=reused,
        )
        try:
            run.fresh()
            run.load("load", files[: len(files) - tail], log)
            if "full_build" in steps:
                full = run.build("full_build")
                result.layers["full_build"] = run.layers(full)
                models = {k: v for k, v in full.timings.items() if k.startswith("model.")}
                slowest = sorted(models.items(), key=lambda item: -item[1])[:10]
                result.slowest_models = [(_node_name(k), v) for k, v in slowest]
                result.test_seconds = sum(
                    v for k, v in full.timings.items() if k.startswith("test.")
                )
            run.load("tail_load", files[len(files) - tail :], log)
            for name, extra in (
                ("incremental_build", []),
                ("noop_build", []),
                ("full_refresh", ["--full-refresh"]),
            ):
                if name in steps:
                    result.layers[name] = run.layers(run.build(name, extra))
            with duckdb.connect(str(run.database), read_only=True) as con:
                result.events = int(con.execute("select count(*) from raw.events").fetchall()[0][0])
            if any(name in steps for name in STEPS[1:]):
                result.sessions = project_sessions(run.database)
            floor = floor_in_child(
                project_dir / FLOOR_SCRIPT,
                str(log / "source=*" / "date=*" / "hour=*" / "*.ndjson.gz"),
                project_dir / CATALOGUE_SEED,
                run.scratch / "floor.duckdb",
            )
        finally:
            shutil.rmtree(run.scratch, ignore_errors=True)
            if not (keep_log or reused):
                shutil.rmtree(log, ignore_errors=True)
                (workdir / LOG_PARAMS).unlink(missing_ok=True)
    result.steps = run.steps
    result.floor_steps = floor["steps"]
    result.floor_peak_rss_gib = floor["peak_rss_gib"]
    result.sessions["floor"] = floor["sessions"]
    result.sessions["floor_lines"] = floor["lines"]
    return result


def report_lines(result: BenchResult) -> list[str]:
    """The human part of the report: the steps, the floor, the ratios against issue 15's
    targets and the slowest models of the full build."""
    lines = [f"{'step':<22} {'seconds':>9} {'peak RSS GiB':>13}"]
    lines += [f"{s.name:<22} {s.seconds:9.1f} {s.peak_rss_gib:13.2f}" for s in result.steps]
    floor = sum(result.floor_steps.values())
    lines.append(f"{'floor (all steps)':<22} {floor:9.1f} {result.floor_peak_rss_gib:13.2f}")
    lines += [f"  floor {name:<16} {s:9.1f}" for name, s in result.floor_steps.items()]
    ratios = result.ratios()
    full, noop = result.seconds("full_build"), result.seconds("noop_build")

    def shown(value: float | None, unit: str = "x") -> str:
        return "n/a" if value is None else f"{value:.2f}{unit}"

    lines.append("ratios (issue 15's targets are for 10M events):")
    lines.append(
        f"  load + full build vs floor: {shown(ratios['load_and_full_build_vs_floor'])} "
        f"(target <= {TARGET_LOAD_BUILD_VS_FLOOR:g}x)"
    )
    lines.append(
        f"  load vs floor's verbatim read: {shown(ratios['load_vs_floor_read'])} "
        f"(target <= {TARGET_LOAD_VS_FLOOR_READ:g}x)"
    )
    incremental = ratios["incremental_vs_full_build"]
    budget = None if full is None else TARGET_INCREMENTAL_SHARE * full + (noop or 0.0)
    percent = None if incremental is None else incremental * 100
    lines.append(
        f"  incremental vs full build: {shown(percent, '%')} "
        f"(target <= {TARGET_INCREMENTAL_SHARE:.0%} of a full build plus the fixed overhead, "
        f"the no-op build: {shown(budget, ' s')})"
    )
    lines.append(f"  build with nothing new: {shown(noop, ' s')} (target <= {TARGET_NOOP_S:g} s)")
    peak = result.summary()["peak_rss_gib"]
    lines.append(f"  peak RSS: {peak:.2f} GiB (target <= {TARGET_PEAK_RSS_GIB:g} GiB at 10M)")
    sessions = result.sessions
    lines.append(
        f"sessions: floor {sessions.get('floor', 0):,}, project {sessions.get('project', 0):,} "
        f"(fct_sessions {sessions.get('project_fct_sessions', 0):,}: without erased persons)"
    )
    if result.layers:
        names = sorted({layer for layers in result.layers.values() for layer in layers})
        steps = list(result.layers)
        lines.append("node seconds by layer: " + ", ".join(steps))
        lines += [
            f"  {layer:<12} "
            + " ".join(f"{result.layers[step].get(layer, 0.0):8.1f}" for step in steps)
            for layer in names
        ]
    if result.slowest_models:
        lines.append(f"slowest models of the full build (data tests: {result.test_seconds:.1f} s):")
        lines += [f"  {s:7.1f} s  {name}" for name, s in result.slowest_models]
    return lines


if __name__ == "__main__":
    # the floor's child process (floor_in_child): SCRIPT GLOB CATALOGUE DATABASE
    script_arg, glob_arg, catalogue_arg, database_arg = sys.argv[1:5]
    print(
        json.dumps(run_floor(Path(script_arg), glob_arg, Path(catalogue_arg), Path(database_arg)))
    )
