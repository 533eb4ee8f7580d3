"""Recover a lost database from the landing files and the load journal (``shoplog recover``).

The raw log is the landing files plus what only the warehouse knew: when each file was loaded,
in which loader run, and which files it rejected. The load journal
(:mod:`shoplog.load`, ``<database>.journal.jsonl``) keeps that outside the database, so a lost
database is rebuilt, table for table, by:

1. checking every journaled file under the landing folder against its SHA-256 (a missing or
   changed file is an error naming it, before anything is written);
2. reloading the files loader run by loader run, each with its original load id and load time
   (:func:`shoplog.load.load_recorded`), and the rejections as recorded, so ``raw.events``,
   ``raw.load_manifest`` and ``raw.load_rejections`` hold the lost database's rows;
3. after each run, rebuilding the snapshots as the scheduled build after that run saw the log
   (``as_of`` at its load time, :func:`shoplog.replay.replay_steps`, as ``shoplog replay``):
   the snapshots' history depends on the builds that ran, and this reconstructs it;
4. a full ``dbt build`` (without the unit tests), so every model table exists;
5. publishing (not yet: see the marked place in :func:`recover`).

A failed or interrupted recovery leaves nothing behind (:func:`shoplog.replay.building_into`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from shoplog.build import UNIT_TESTS_EXCLUDED, BuildError, DbtOutcome, run_dbt
from shoplog.load import (
    Journal,
    LoadError,
    LoadRecord,
    load_recorded,
    read_journal,
    read_landing_file,
)
from shoplog.replay import building_into, replay_steps


@dataclass
class Recovery:
    """What one recovery did."""

    database: Path
    loads: int = 0
    files: int = 0
    lines: int = 0
    rejections: int = 0
    as_ofs: list[str] = field(default_factory=list)
    built: DbtOutcome | None = None


def loader_runs(journal: Journal) -> dict[int, list[LoadRecord]]:
    """The journal's loaded files by load id (loader run), in load order; a record repeated
    (a catch-up after a torn line) counts once, two different records of one file are an
    error."""
    by_path: dict[str, LoadRecord] = {}
    for record in journal.loads:
        seen = by_path.setdefault(record.file_path, record)
        if seen != record:
            raise LoadError(f"the journal records {record.file_path} twice, differently")
    runs: dict[int, list[LoadRecord]] = {}
    for record in sorted(by_path.values(), key=lambda r: (r.load_id, r.file_path)):
        runs.setdefault(record.load_id, []).append(record)
    return runs


def check_landing(runs: dict[int, list[LoadRecord]], landing: Path) -> None:
    """Raise a :class:`LoadError` naming every journaled file that is missing under ``landing``
    or whose bytes are not the ones loaded."""
    problems = []
    for records in runs.values():
        for record in records:
            try:
                digest = hashlib.sha256(read_landing_file(landing / record.file_path)).hexdigest()
            except OSError as exc:
                problems.append(f"{record.file_path} (missing or unreadable: {exc})")
                continue
            if digest != record.file_sha256:
                problems.append(f"{record.file_path} (changed: its SHA-256 is not the journal's)")
    if problems:
        raise LoadError(
            "cannot recover: landing files differ from the ones the journal recorded; "
            "restore them from backup. Nothing was written. " + "; ".join(problems)
        )


def recover(
    journal_file: Path, landing: Path, database: Path, project_dir: Path, quiet: bool = True
) -> Recovery:
    """Rebuild the lost database as the new ``database`` from ``landing`` and the journal.

    Refused if ``database`` exists. See the module's docstring for the steps.
    """
    database, landing = Path(database), Path(landing)
    if database.exists():
        raise BuildError(f"{database} exists; recover builds a new database")
    if not Path(journal_file).is_file():
        raise LoadError(f"no journal at {journal_file}")
    journal = read_journal(Path(journal_file))
    runs = loader_runs(journal)
    if not runs:
        raise LoadError(f"the journal {journal_file} records no loaded file")
    check_landing(runs, landing)
    # dedup as the database did (one row per file bytes and reason)
    rejections = list(dict.fromkeys(journal.rejections))
    recovery = Recovery(database, rejections=len(rejections))

    def append(load_id: int) -> None:
        # No model reads raw.load_rejections: they are restored with the first run.
        restored = rejections if recovery.loads == 0 else []
        summary = load_recorded(landing, database, runs[load_id], rejections=restored)
        recovery.loads += 1
        recovery.files += summary.files_loaded
        recovery.lines += summary.lines_loaded

    steps = [(load_id, max(r.loaded_at for r in records)) for load_id, records in runs.items()]
    with building_into(database, "recover"):
        recovery.as_ofs = replay_steps(database, project_dir, steps, append, quiet)
        built = run_dbt(UNIT_TESTS_EXCLUDED, project_dir, database, quiet=quiet)
        if not built.success:
            raise BuildError(f"the build of the recovered log failed: {built.failures}")
        recovery.built = built
        # publishing, recovery's last step, is the caller's (`shoplog recover` publishes)
    return recovery
