"""The seam to dbt: in-process invocations, one after another with loads between, each writing
where it is told, and interrupts that stop dbt before the caller cleans up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shoplog.build import run_dbt
from shoplog.load import load

from .conftest import BUILT_DB, PROJECT_DIR, make_event, query, write_landing

if TYPE_CHECKING:
    from dbt_common.events.base_types import EventMsg


def _run(args: list[str], database: Path, tmp_path: Path) -> None:
    """``run_dbt`` writing to its own target and log path under ``tmp_path``; must succeed."""
    outcome = run_dbt(
        args,
        PROJECT_DIR,
        database,
        quiet=True,
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
    )
    assert outcome.success, outcome.failures
    assert outcome.target_path == tmp_path / "target"
    assert outcome.count("model", "error") == 0


def test_run_dbt_writes_where_the_invocation_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")  # dbt's default (conftest turns it off)
    database = tmp_path / "empty.duckdb"
    _run(["parse"], database, tmp_path)
    assert (tmp_path / "target/manifest.json").is_file()
    assert (tmp_path / "logs/dbt.log").is_file()

    # the caller's DBT_TARGET_PATH / DBT_LOG_PATH (relative: to the project, as dbt has it)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "env-target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "env-logs"))
    outcome = run_dbt(["parse"], PROJECT_DIR, database, quiet=True)
    assert outcome.success, outcome.failures
    assert outcome.target_path == tmp_path / "env-target"
    assert outcome.log_path == tmp_path / "env-logs"
    assert (tmp_path / "env-target/manifest.json").is_file()
    assert (tmp_path / "env-logs/dbt.log").is_file()
    with pytest.raises(ValueError, match="not both"):
        run_dbt(["parse", "--target-path", "x"], PROJECT_DIR, database, target_path=tmp_path)


@pytest.mark.e2e
def test_two_builds_in_one_process_with_a_load_between(tmp_path: Path) -> None:
    landing, database = tmp_path / "landing", tmp_path / "log.duckdb"
    events = [
        make_event(n, "web", "page_view", f"2026-01-01T0{n}:00:00.000Z", anonymous_id="a1")
        for n in range(1, 5)
    ]
    environ, cwd = dict(os.environ), Path.cwd()

    build = ["build", "--select", "+base_raw__lines", "--indirect-selection", "cautious"]

    load(write_landing(landing, events[:2]), database, progress=False, from_partition=True)
    _run(build, database, tmp_path)
    # dbt has let go of the file: the loader opens it for writing in this same process
    load(write_landing(landing, events[2:]), database, progress=False, from_partition=True)
    _run(build, database, tmp_path)

    assert query(database, "select count(*) from staging.base_raw__lines") == [(4,)]
    assert dict(os.environ) == environ  # SHOPLOG_DB and the key file were set for dbt only
    assert Path.cwd() == cwd


@pytest.mark.e2e
def test_a_load_landing_between_two_models_waits_for_the_next_build(tmp_path: Path) -> None:
    # DESIGN.md "Three clocks": a build reads the loads committed when its first model ran
    first, late = tmp_path / "first", tmp_path / "late"
    database = tmp_path / "log.duckdb"
    write_landing(
        first, [make_event(1, "web", "page_view", "2026-01-01T01:00:00.000Z", anonymous_id="a1")]
    )
    write_landing(
        late, [make_event(2, "web", "page_view", "2026-01-01T02:00:00.000Z", anonymous_id="a1")]
    )
    load(first, database, progress=False, loaded_at=datetime(2026, 1, 1, 3))
    landed_during_the_build: list[str] = []

    def load_after_the_base_model(event: EventMsg) -> None:
        # fired in base_raw__lines's thread before dbt starts the models that read it
        node = getattr(event.data, "node_info", None)
        if event.info.name == "NodeFinished" and node and node.unique_id == BASE_MODEL:
            load(late, database, progress=False, loaded_at=datetime(2026, 1, 1, 4))
            landed_during_the_build.append(node.unique_id)

    build = [
        "build",
        "--select",
        "+stg_web__events",
        "+stg_raw__log_clock",
        "assert_raw_lines_conserved",
    ]
    during = run_dbt(
        build,
        PROJECT_DIR,
        database,
        quiet=True,
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
        on_event=load_after_the_base_model,
    )
    seen_by_the_first_build = _layers(database)
    _run(build, database, tmp_path)

    assert (during.success, during.failures, landed_during_the_build) == (True, [], [BASE_MODEL])
    # the late line waited for the next build; conservation held against the same bound
    assert seen_by_the_first_build == (2, ["e0001"], ["e0001"], datetime(2026, 1, 1, 3))
    assert _layers(database) == (2, ["e0001", "e0002"], ["e0001", "e0002"], datetime(2026, 1, 1, 4))


BASE_MODEL = "model.shoplog.base_raw__lines"


def _layers(database: Path) -> tuple[int, list[str], list[str], datetime]:
    """Raw lines; event ids in base_raw__lines and in stg_web__events; the log clock."""
    [(raw,)] = query(database, "select count(*) from raw.events")
    base = query(database, "select event_id from staging.base_raw__lines order by 1")
    web = query(database, "select event_id from staging.stg_web__events order by 1")
    [(clock,)] = query(database, "select log_clock_at from staging.stg_raw__log_clock")
    return raw, [e for (e,) in base], [e for (e,) in web], clock


@pytest.mark.e2e
@BUILT_DB
def test_sigterm_stops_dbt_and_replay_leaves_nothing_behind(built_db: Path, tmp_path: Path) -> None:
    out, logs = tmp_path / "replayed" / "new.duckdb", tmp_path / "logs"
    replaying = subprocess.Popen(
        [sys.executable, "-m", "shoplog.cli", "replay", "--db", str(built_db), "--out", str(out)],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "DBT_LOG_PATH": str(logs),
            "DBT_LOG_LEVEL_FILE": "debug",  # the file log this test watches (conftest's is off)
            "DBT_TARGET_PATH": str(tmp_path / "target"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        log = logs / "dbt.log"
        while not (log.is_file() and " START " in log.read_text(errors="replace")):
            assert replaying.poll() is None, replaying.communicate()[1]
            assert time.monotonic() < deadline, "dbt did not start a node in time"
            time.sleep(0.2)
        replaying.send_signal(signal.SIGTERM)
        code = replaying.wait(timeout=120)
    finally:
        replaying.kill()
        replaying.wait()

    assert code == 128 + signal.SIGTERM
    assert not out.parent.exists()  # the half-built database and its folder are gone
