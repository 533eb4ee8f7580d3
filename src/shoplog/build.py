"""The one seam between shoplog and dbt: :func:`run_dbt` runs dbt in this process.

dbt runs through its programmatic entry point, ``dbtRunner``, so a process that builds several
times (the main job, replay, the test suite) imports dbt once instead of once per build, and
the results come back as dbt's own result objects rather than a ``run_results.json`` read by
hand. What that takes, and what :func:`run_dbt` does about it:

- One at a time. dbt keeps global state (flags, adapters, the event logger, the invocation
  context), so invocations in one process are serialised by a lock. Separate processes (say
  pytest-xdist workers) may build at once in the same project: give each its own target and log
  path (the ``target_path``/``log_path`` parameters, or ``DBT_TARGET_PATH``/``DBT_LOG_PATH``).
- The profile's ``env_var()``. dbt renders ``profiles.yml`` from ``os.environ`` as it is when an
  invocation starts; there is no other channel into it. ``SHOPLOG_DB`` (the database) and
  ``SHOPLOG_KEY_FILE`` (for the ``shoplog.dbt_plugin`` key plugin) are set for the duration of
  the invocation, under the lock, and put back as they were afterwards: nothing outlives the
  call. Both are absolute paths, since in-process dbt does not change the working directory.
- The DuckDB file. dbt-duckdb closes its connection when the invocation's adapters are cleaned
  up, and its cached environment (with the key plugin's padded keys) is dropped after each
  invocation, so the loader (or another build) can open the file as soon as this returns.
- Interrupts. dbt catches Ctrl-C and SIGTERM (which ``shoplog`` turns into ``SystemExit``)
  while it runs nodes, cancels the running queries and waits for its threads; ``dbtRunner``
  then returns the interrupt as the result's exception, and :func:`run_dbt` raises it again, so
  the caller's clean-up runs only once dbt has stopped writing.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from shoplog.keys import ensure_key_file
from shoplog.locations import DEFAULT_DB, find_project_dir

if TYPE_CHECKING:
    from dbt_common.events.base_types import EventMsg

__all__ = [
    "DEFAULT_DB",
    "BuildError",
    "UNIT_TESTS_EXCLUDED",
    "DbtOutcome",
    "ensure_profiles",
    "find_project_dir",
    "run_dbt",
]

#: A build of the log: the dbt unit tests check model logic on fixed inputs, not the log, so a
#: build leaves them out (`make test` runs them once).
UNIT_TESTS_EXCLUDED = ["build", "--exclude-resource-type", "unit_test"]

TARGET_PATH_ENV = "DBT_TARGET_PATH"
LOG_PATH_ENV = "DBT_LOG_PATH"

_DBT_LOCK = threading.Lock()


class BuildError(RuntimeError):
    """A dbt invocation that failed (a model error or a failing test)."""


@dataclass
class DbtOutcome:
    """What one dbt invocation did, by resource type and status."""

    command: list[str]
    success: bool
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Where this invocation wrote its artifacts (manifest, docs) and its log.
    target_path: Path | None = None
    log_path: Path | None = None
    #: Wall seconds of each node dbt ran (its result's ``execution_time``), by unique id.
    timings: dict[str, float] = field(default_factory=dict)

    def count(self, resource_type: str, status: str) -> int:
        return self.counts.get((resource_type, status), 0)


def ensure_profiles(project_dir: Path) -> Path:
    """Make sure ``profiles.yml`` exists beside the project (copied from the example)."""
    profiles = project_dir / "profiles.yml"
    if not profiles.exists():
        shutil.copyfile(project_dir / "profiles.yml.example", profiles)
    return project_dir


def _take_option(args: list[str], name: str) -> tuple[list[str], str | None]:
    """``args`` without ``name VALUE``, and VALUE (None when absent)."""
    if name not in args:
        return args, None
    at = args.index(name)
    if at + 1 >= len(args):
        raise ValueError(f"{name} needs a value")
    return args[:at] + args[at + 2 :], args[at + 1]


def _artifact_dir(
    chosen: Path | str | None,
    env_name: str,
    default: str,
    project_dir: Path,
    environ: Mapping[str, str],
) -> Path:
    """``chosen``, else ``$env_name``, else ``default``; relative to the project, as dbt takes
    its target path."""
    path = Path(chosen or environ.get(env_name) or default).expanduser()
    return path if path.is_absolute() else project_dir / path


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the block only (see the module's docstring)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _forget_duckdb_environment() -> None:
    """Drop dbt-duckdb's cached environment, so the next invocation opens the database and
    initialises the key plugin afresh (a changed key or file is seen)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    DuckDBConnectionManager.close_all_connections()


def _summarise(outcome: DbtOutcome, result: object) -> None:
    """Count the node results of a dbt invocation (run, build, compile, …) into ``outcome``."""
    for node in getattr(result, "results", None) or []:
        unique_id = str(node.node.unique_id)
        status = str(node.status)
        key = (unique_id.split(".", 1)[0], status)
        outcome.counts[key] = outcome.counts.get(key, 0) + 1
        outcome.timings[unique_id] = float(getattr(node, "execution_time", 0.0) or 0.0)
        if status in {"error", "fail"}:
            outcome.failures.append(f"{unique_id}: {node.message}")
        elif status == "warn":
            outcome.warnings.append(f"{unique_id}: {node.message}")


def run_dbt(
    args: list[str],
    project_dir: Path,
    database: Path,
    target: str | None = None,
    quiet: bool = False,
    target_path: Path | None = None,
    log_path: Path | None = None,
    on_event: Callable[[EventMsg], None] | None = None,
) -> DbtOutcome:
    """Run dbt with ``args`` (e.g. ``["build"]``) on ``database`` in this process.

    ``target_path`` and ``log_path`` (else ``--target-path`` in ``args``, else
    ``$DBT_TARGET_PATH`` / ``$DBT_LOG_PATH``, else ``target`` and ``logs``; relative to the
    project) are where this invocation writes its artifacts and its log. The outcome counts
    dbt's result objects by resource type and status and lists failures and warnings.
    ``on_event`` is called with each of dbt's structured events (``dbtRunner``'s callbacks),
    in the thread that fires it: e.g. a node's ``NodeFinished`` before its children start.
    """
    from dbt.cli.main import dbtRunner

    args, target_in_args = _take_option(list(args), "--target-path")
    args, log_in_args = _take_option(args, "--log-path")
    if (target_path and target_in_args) or (log_path and log_in_args):
        raise ValueError("give the target or log path as a parameter or in args, not both")
    project_dir = Path(project_dir).resolve()
    targets = _artifact_dir(
        target_path or target_in_args, TARGET_PATH_ENV, "target", project_dir, os.environ
    )
    logs = _artifact_dir(log_path or log_in_args, LOG_PATH_ENV, "logs", project_dir, os.environ)
    ensure_profiles(project_dir)
    key_file = ensure_key_file(project_dir)
    environment = {"SHOPLOG_DB": str(Path(database).resolve())}
    if key_file is not None:
        environment["SHOPLOG_KEY_FILE"] = str(key_file.resolve())

    command = [
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(targets),
        "--log-path",
        str(logs),
    ]
    if target:
        command += ["--target", target]
    if not os.environ.get("DBT_SEND_ANONYMOUS_USAGE_STATS"):
        command = ["--no-send-anonymous-usage-stats", *command]
    if quiet:
        command = ["--quiet", *command]

    with _DBT_LOCK, _environment(environment):
        try:
            result = dbtRunner(callbacks=[on_event] if on_event else None).invoke(command)
        finally:
            _forget_duckdb_environment()
    if result.exception is not None and not isinstance(result.exception, Exception):
        # Ctrl-C or SIGTERM: dbt has cancelled its queries and stopped; unwind the caller too
        raise result.exception
    outcome = DbtOutcome(
        command=command, success=result.success, target_path=targets, log_path=logs
    )
    _summarise(outcome, result.result)
    if not outcome.success and not outcome.failures:
        outcome.failures.append(f"dbt failed: {result.exception or 'see ' + str(logs)}")
    return outcome
