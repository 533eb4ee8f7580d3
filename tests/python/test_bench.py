"""``shoplog bench``: a tiny run end to end (its JSON line, the floor against the project), and
the pieces it is made of."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoplog.bench import (
    BENCH_DAYS,
    LINES_PER_USER_DAY,
    STEPS,
    layer_seconds,
    split_floor_script,
    users_for,
)
from shoplog.cli import main

from .conftest import PROJECT_DIR

#: Every key of the JSON line (scripts read it).
SUMMARY_KEYS = {
    "events",
    "users",
    "files",
    "tail_files",
    "log_reused",
    "generate_s",
    "floor_s",
    "floor_steps_s",
    "floor_peak_rss_gib",
    *(f"{step}_s" for step in STEPS),
    "peak_rss_gib",
    "process_peak_rss_gib",
    "ratios",
    "sessions",
    "dbt_test_s",
    "slowest_models",
    "layers_s",
}


def test_users_are_calibrated_on_lines_per_user_day() -> None:
    assert users_for(1_000_000) == round(1_000_000 / (LINES_PER_USER_DAY * BENCH_DAYS)) == 8463
    assert users_for(1) == 1


def test_layer_seconds_sums_node_seconds_by_folder_under_models(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "nodes": {
                    "model.shoplog.a": {"original_file_path": "models/staging/raw/base/a.sql"},
                    "model.shoplog.b": {"original_file_path": "models/staging/web/b.sql"},
                    "model.shoplog.c": {"original_file_path": "models/marts/c.sql"},
                }
            }
        )
    )
    timings = {
        "model.shoplog.a": 2.0,
        "model.shoplog.b": 0.5,
        "model.shoplog.c": 1.0,
        "test.shoplog.not_null_c_x.123": 0.25,
        "test.shoplog.unique_c_x.456": 0.5,
        "seed.shoplog.event_catalogue": 0.1,
        "snapshot.shoplog.snap": 0.2,
        "operation.shoplog.shoplog-on-run-end-0": 0.3,
        "exposure.shoplog.dashboard": 0.0,
    }

    layers = layer_seconds(timings, manifest)

    assert layers == {
        "staging": 2.5,
        "marts": 1.0,
        "data tests": 0.75,
        "seeds": 0.1,
        "snapshots": 0.2,
        "hooks": 0.3,
    }


def test_the_floor_script_has_its_steps_in_order() -> None:
    steps = split_floor_script((PROJECT_DIR / "scripts" / "bench_floor.sql").read_text())
    assert [name for name, _sql in steps] == ["read", "parse", "dedup", "sessions", "page hits"]
    assert all(sql.startswith(("--", "create table")) for _name, sql in steps)


@pytest.mark.e2e
def test_bench_on_a_tiny_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workdir = tmp_path / "bench"
    assert main(["bench", "--events", "3000", "--workdir", str(workdir)]) == 0
    out = capsys.readouterr().out.splitlines()
    summary = json.loads(out[-1])
    assert set(summary) == SUMMARY_KEYS
    assert summary["events"] == summary["sessions"]["floor_lines"] > 2500
    assert summary["log_reused"] is False
    times = [summary["floor_s"], *(summary[f"{step}_s"] for step in STEPS)]
    assert all(seconds > 0 for seconds in times), times
    assert list(summary["floor_steps_s"]) == ["read", "parse", "dedup", "sessions", "page hits"]
    assert 0 < summary["peak_rss_gib"] <= summary["process_peak_rss_gib"]
    assert summary["floor_peak_rss_gib"] > 0
    # the floor finds the project's sessions (no person of this log asked to be forgotten)
    sessions = summary["sessions"]
    assert sessions["floor"] == sessions["project"] == sessions["project_fct_sessions"] > 0
    assert len(summary["slowest_models"]) == 10
    # every build step's node seconds, by the layers of models/ plus seeds, snapshots and tests
    builds = ["full_build", "incremental_build", "noop_build", "full_refresh"]
    assert list(summary["layers_s"]) == builds
    full_layers = summary["layers_s"]["full_build"]
    assert set(full_layers) == {
        "staging",
        "identity",
        "core",
        "marts",
        "features",
        "seeds",
        "snapshots",
        "data tests",
        "hooks",
    }
    assert all(seconds > 0 for seconds in full_layers.values()), full_layers
    assert out[0].split() == ["step", "seconds", "peak", "RSS", "GiB"]
    # the log was generated for this run and not kept; the scratch databases are gone
    assert sorted(p.name for p in workdir.iterdir()) == []
