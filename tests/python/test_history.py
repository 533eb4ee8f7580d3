"""The run history: every load, build and replay leaves a row in ops.run_history, whatever its
outcome, and ``shoplog history`` shows them with their trends."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import Any

import duckdb
import pytest

from shoplog.cli import main
from shoplog.history import last_runs, recorded, trends
from shoplog.lock import lock_path, who

from .conftest import PROJECT_DIR, make_event, write_landing

#: The columns of a row a test can know in advance.
KNOWN = ("command", "result", "rows_in", "rows_out", "quarantined", "failures", "message")


def _known(runs: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(run[name] for name in KNOWN) for run in runs]


def _empty_database(path: Path) -> Path:
    duckdb.connect(str(path)).close()
    return path


def _tiny_landing(root: Path) -> Path:
    """Three page views in three files, and a line that is not JSON: 4 lines, 1 quarantined."""
    events = [
        make_event(n, "web", "page_view", f"2026-01-01T0{n}:00:00.000Z", anonymous_id="a1")
        for n in range(1, 4)
    ]
    write_landing(root, events)
    with (root / "source=web/date=2026-01-01/hour=01/part-00000.ndjson").open("a") as file:
        file.write("{not json\n")
    return root


@pytest.mark.e2e
def test_a_load_and_a_build_are_recorded_and_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing, database = _tiny_landing(tmp_path / "landing"), tmp_path / "shoplog.duckdb"
    where = ["--db", str(database), "--project-dir", str(PROJECT_DIR)]

    assert main(["load", "--landing", str(landing), *where]) == 0
    assert main(["build", *where]) == 0
    capsys.readouterr()
    assert main(["history", "--json", *where]) == 0
    shown = json.loads(capsys.readouterr().out)

    runs = last_runs(database, limit=10)
    assert _known(runs) == [
        # inside the build: 15 rows of marts and features, and the calendar dim_days (5,844 days)
        ("publish", "success", None, 15 + 5844, None, None, None),
        ("build", "success", 4, 3, 1, 0, None),
        ("load", "success", 4, 4, None, 0, None),
    ]
    publish, build, load = runs
    assert publish["details"]["tables"] == 12  # eleven marts and the feature mart
    assert load["details"] == {
        "load_id": 1,
        "files_loaded": 3,
        "files_skipped": 0,
        "files_rejected": [],
        "files_unrecognised": 0,
    }
    statuses = {status for by_status in build["details"]["nodes"].values() for status in by_status}
    assert set(build["details"]["nodes"]) == {
        "exposure",
        "model",
        "operation",
        "seed",
        "snapshot",
        "test",
    }
    assert statuses == {"no-op", "pass", "success"}  # nothing failed, errored or skipped
    assert {(run["who"], run["pid"]) for run in runs} == {(who(), os.getpid())}
    assert all(run["started_at"] <= run["finished_at"] for run in runs)
    assert load["finished_at"] <= build["started_at"]
    assert shown == {
        "runs": json.loads(json.dumps(runs, default=str)),
        "trends": {
            "build_seconds": {
                "last": build["duration_s"],
                "median_previous": None,
                "previous_runs": 0,
            },
            "quarantine_rate": {"last": 0.25, "median_previous": None, "previous_runs": 0},
        },
    }
    assert lock_path(database).read_bytes() == b""  # released


def test_a_refused_load_is_recorded_as_failed(tmp_path: Path) -> None:
    landing, database = _tiny_landing(tmp_path / "landing"), tmp_path / "shoplog.duckdb"
    args = ["load", "--landing", str(landing), "--db", str(database)]
    assert main(args) == 0
    changed = "source=web/date=2026-01-01/hour=02/part-00000.ndjson"
    (landing / changed).write_text("{}\n")

    assert main(args) == 2

    assert _known(last_runs(database)) == [
        (
            "load",
            "failed",
            None,
            None,
            None,
            None,
            "LoadError: landing files changed after they were loaded (landed files are "
            "immutable; write a new file instead). Nothing was loaded. Changed: " + changed,
        ),
        ("load", "success", 4, 4, None, 0, None),
    ]


def test_recorded_keeps_the_outcome_and_never_hides_the_commands_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = _empty_database(tmp_path / "shoplog.duckdb")
    with pytest.raises(ValueError, match="boom"), recorded(database, "build"):
        raise ValueError("boom")
    with pytest.raises(KeyboardInterrupt), recorded(database, "replay"):
        raise KeyboardInterrupt
    with recorded(database, "build") as record:  # a failure reported without raising
        record.result, record.failures, record.message = "failed", 2, "2 tests failed"
    with recorded(database, "publish", interrupted=lambda: True):
        pass  # a signal arrived inside a query: the command saw an error, not the signal

    missing = tmp_path / "gone" / "shoplog.duckdb"
    with pytest.raises(RuntimeError, match="own error"), recorded(missing, "load"):
        raise RuntimeError("own error")

    assert _known(last_runs(database)) == [
        ("publish", "interrupted", None, None, None, None, None),
        ("build", "failed", None, None, None, 2, "2 tests failed"),
        ("replay", "interrupted", None, None, None, None, "KeyboardInterrupt"),
        ("build", "failed", None, None, None, None, "ValueError: boom"),
    ]
    assert (
        capsys.readouterr().err == f"warning: run history not recorded: no database at {missing}\n"
    )
    assert not missing.parent.exists()  # recording never creates a database


def test_trends_compare_the_last_build_with_the_median_of_those_before(tmp_path: Path) -> None:
    database = _empty_database(tmp_path / "shoplog.duckdb")
    for rows_in, quarantined in ((100, 1), (200, 3), (200, 3), (400, 13)):
        with recorded(database, "build") as record:
            record.rows_in, record.quarantined = rows_in, quarantined
    with recorded(database, "load") as record:  # not a build: no part in the trends
        record.rows_in, record.quarantined = 10, 10

    durations = [run["duration_s"] for run in last_runs(database) if run["command"] == "build"]
    assert trends(database) == {
        "build_seconds": {
            "last": durations[0],
            "median_previous": statistics.median(durations[1:]),
            "previous_runs": 3,
        },
        # the lines new to each build: 1/100, 2/100, none (no rate), 10/200
        "quarantine_rate": {"last": 0.05, "median_previous": 0.015, "previous_runs": 2},
    }


def test_history_without_a_database_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.duckdb"
    assert main(["history", "--db", str(missing)]) == 1
    assert "no database at" in capsys.readouterr().err
    assert not missing.exists()  # reading the history creates nothing
