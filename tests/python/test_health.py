"""``shoplog health``: each condition an operator must hear about is one finding, and a log
with none of them exits 0."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from shoplog.cli import main
from shoplog.generate import Faults, generate
from shoplog.health import Finding, HealthReport, check_health

from .conftest import PROJECT_DIR, make_event


def test_warnings_alone_are_healthy() -> None:
    report = HealthReport("db", None, None)
    report.add("stale_source", [Finding("stale_source", "privacy", "no file", "warn")])
    assert report.healthy
    report.add("clock_ahead", [Finding("clock_ahead", "web", "1 line")])
    assert not report.healthy
    assert json.loads(report.to_json())["findings"][1] == {
        "check": "clock_ahead",
        "subject": "web",
        "message": "1 line",
        "severity": "error",
    }


def _findings(database: Path, target: Path) -> list[tuple[str, str, str]]:
    report = check_health(database, PROJECT_DIR, target_path=target)
    return [(f.check, f.subject, f.severity) for f in report.findings]


def _faults_landing(root: Path, clean: Path, now: datetime) -> Path:
    """One web file of today: 30 unparseable lines, a conflicting re-delivery of a clean event,
    a line received 3 h after its load; and a shop file that is not gzip."""
    today = now.strftime("%Y-%m-%d")
    first_web = sorted(clean.glob("source=web/**/part-00000.ndjson.gz"))[0]
    original = json.loads(gzip.decompress(first_web.read_bytes()).splitlines()[0])
    conflicting = {**original, "properties": {**original["properties"], "title": "changed"}}
    ahead = (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    ahead_event = make_event(9001, "web", "page_view", ahead, anonymous_id="a-ahead")
    lines = ["{not json"] * 30 + [json.dumps(conflicting), json.dumps(ahead_event)]
    web = root / "source=web" / f"date={today}" / "hour=00" / "part-00000.ndjson"
    web.parent.mkdir(parents=True)
    web.write_text("\n".join(lines) + "\n")
    shop = root / "source=shop" / f"date={today}" / "hour=00" / "part-00000.ndjson.gz"
    shop.parent.mkdir(parents=True)
    shop.write_bytes(b"this is not gzip")
    return root


@pytest.mark.e2e
def test_health_names_each_condition(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    clean, faults, database = tmp_path / "clean", tmp_path / "faults", tmp_path / "log.duckdb"
    generate(clean, date.fromordinal(now.toordinal() - 3), 1, 15, 5, Faults(), progress=False)
    db, project = ["--db", str(database)], ["--project-dir", str(PROJECT_DIR)]
    stamp = (now - timedelta(hours=5)).isoformat()

    # a clean log, loaded 5 hours ago: only the web producer (error after 3 h) is stale
    assert main(["load", "--landing", str(clean), "--loaded-at", stamp, *db]) == 0
    assert main(["build", *db, *project]) == 0
    stale = _findings(database, tmp_path / "t1")

    # now: the hostile file (web is fresh again), an unreadable shop file
    assert main(["load", "--landing", str(_faults_landing(faults, clean, now)), *db]) == 1
    assert main(["build", *db, *project]) == 0
    faulty = _findings(database, tmp_path / "t2")

    # a staged line lost from staging: conservation fails, and so does the build that tests it
    with duckdb.connect(str(database)) as con:
        con.execute(
            "delete from staging.base_raw__lines where raw_line_key = "
            "(select min(raw_line_key) from staging.base_raw__lines)"
        )
    assert main(["build", *db, *project]) == 1
    lost = _findings(database, tmp_path / "t3")
    code = main(["health", "--no-freshness", *db, *project])

    privacy = ("stale_source", "privacy", "warn")  # no privacy file: a warning only
    assert stale == [privacy, ("stale_source", "web", "error")]
    today = f"web {now:%Y-%m-%d}"
    arrived = [
        ("quarantine_rate", today, "error"),
        ("conflicting_duplicates", "web", "error"),
        ("clock_ahead", "web", "error"),
        ("rejected_load", f"source=shop/date={now:%Y-%m-%d}/hour=00/part-00000.ndjson.gz", "error"),
    ]
    assert faulty == [*arrived, privacy]
    last_build = [f for f in lost if f[0] == "last_build"]
    conservation = ("conservation", "assert_raw_lines_conserved", "error")
    assert lost == [*arrived, *last_build, conservation, privacy]
    assert len(last_build) == 1 and code == 1
