"""Publishing a build to the serving location: readers never block and never see half a build.

The fast tests publish from a small database made by hand (the schemas ``marts`` and
``features`` with tables of every contract type, a view, and ``staging.stg_raw__log_clock``);
the end-to-end test runs a reader process in a loop while the log grows and ``shoplog build``
builds and publishes it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from shoplog.build import UNIT_TESTS_EXCLUDED, DbtOutcome
from shoplog.cli import main
from shoplog.publish import (
    PublishError,
    build_ids,
    content_sql,
    publish,
    relation_name,
)

from .conftest import PROJECT_DIR, make_event, query, write_landing

READER = Path(__file__).with_name("serving_reader.py")

#: The hand-made build: the contract types of the marts (DECIMAL, TIMESTAMP, DATE, ...), NULLs,
#: an empty table and a view (fct_page_hits_5min is one).
SOURCE = """
create schema marts;
create schema features;
create schema staging;
create table marts.fct_orders as
    select 'o_' || i as order_id, (i * 10.25)::decimal(38, 2) as total_amount,
        (i * 0.5)::decimal(18, 2) as refunded_amount,
        timestamp '2026-01-01 00:00:00.123456' + to_minutes(i) as placed_at,
        i % 2 = 0 as is_person_erased, if(i = 3, null, 'p' || i) as person_key
    from range(1, 6) as t (i);
create table marts.dim_persons (person_key varchar, first_seen_at timestamp, orders bigint);
create view marts.fct_big_orders as select * from marts.fct_orders where total_amount > 30;
create table features.feat_person_daily as
    select 'p' || (i % 3) as person_key, date '2026-01-01' + i::integer as feature_date,
        i::bigint as events_1d
    from range(4) as t (i);
create table staging.stg_raw__log_clock as select timestamp '2026-01-02 10:00:00' as log_clock_at;
"""
RELATIONS = [
    ("features", "feat_person_daily"),
    ("marts", "dim_persons"),
    ("marts", "fct_big_orders"),
    ("marts", "fct_orders"),
]
T0 = datetime(2026, 11, 26, 12, 0, 0)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    database = tmp_path / "built.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(SOURCE)
    return database


def _execute(database: Path, sql: str) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute(sql)


def _content(database: Path) -> dict[tuple[str, str], tuple[list[tuple], list[tuple]]]:
    """Each published relation's columns with their types, and its rows (sorted)."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            (s, t): (
                con.execute(f"describe select * from {relation_name(s, t)}").fetchall(),
                con.execute(f"select * from {relation_name(s, t)} order by all").fetchall(),
            )
            for s, t in RELATIONS
        }


def _hashes(database: Path) -> list[tuple[str, str, int, str]]:
    """Each published relation's schema, name, row count and content hash."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = [
            (s, t, *con.execute(content_sql(relation_name(s, t))).fetchall()[0])
            for s, t in RELATIONS
        ]
    return rows


def _serving_state(serving: Path) -> dict[str, bytes | None]:
    """Every file under ``serving`` with its bytes (None for a folder)."""
    return {
        str(p.relative_to(serving)): None if p.is_dir() else p.read_bytes()
        for p in sorted(serving.rglob("*"))
    }


def test_the_serving_views_are_the_built_tables_whole(source: Path, tmp_path: Path) -> None:
    serving = tmp_path / "serving"
    done = publish(source, serving, now=T0)

    served = serving / "serving.duckdb"
    assert done.serving_file == served
    assert _content(served) == _content(source)  # columns, types and every row
    assert done.build_id.startswith("20261126T120000000000Z-")
    assert build_ids(serving) == [done.build_id]
    assert sorted(
        p.relative_to(done.build_dir).as_posix() for p in done.build_dir.rglob("*.parquet")
    ) == [f"{s}/{t}.parquet" for s, t in RELATIONS]
    publication = [(done.build_id, T0, *row) for row in _hashes(source)]
    assert query(served, "select * from shoplog_publication.tables order by all") == publication
    assert [(t.schema_name, t.table_name, t.row_count, t.content_hash) for t in done.tables] == [
        row[2:] for row in publication
    ]
    assert [row[2:5] for row in publication] == [
        ("features", "feat_person_daily", 4),
        ("marts", "dim_persons", 0),
        ("marts", "fct_big_orders", 3),
        ("marts", "fct_orders", 5),
    ]
    clock = datetime(2026, 1, 2, 10)
    assert query(served, "select * from shoplog_publication.build") == [(done.build_id, T0, clock)]
    assert done.knowledge_clock == clock
    current = json.loads((serving / "current.json").read_text())
    assert current["build_id"] == done.build_id
    assert current["tables"]["marts.fct_orders"]["path"] == str(
        done.build_dir / "marts/fct_orders.parquet"
    )
    assert sorted(p.name for p in serving.iterdir()) == ["builds", "current.json", "serving.duckdb"]


def test_each_publication_switches_readers_and_keeps_the_newest_builds(
    source: Path, tmp_path: Path
) -> None:
    serving = tmp_path / "serving"
    # what a killed publication left (older than any build) and a running one is writing
    killed, running = "20261126T115900000000Z-aaaaaa", "20261126T130000000000Z-bbbbbb"
    for build_id in (killed, running):
        (serving / "builds" / f".tmp-{build_id}" / "marts").mkdir(parents=True)
        (serving / f".serving.duckdb.{build_id}.tmp").write_text("partial")
    published = []
    for n in range(4):
        _execute(
            source, f"insert into marts.dim_persons values ('p{n}', timestamp '2026-01-01', {n})"
        )
        published.append(publish(source, serving, keep=2, now=T0 + timedelta(minutes=n)))
        assert _content(serving / "serving.duckdb") == _content(source)

    ids = [p.build_id for p in published]
    assert ids == sorted(ids)  # build ids sort by time
    assert [p.pruned for p in published] == [(), (), (ids[0],), (ids[1],)]
    assert build_ids(serving) == ids[2:]
    assert sorted(p.relative_to(serving).as_posix() for p in serving.glob("*/*")) == [
        f"builds/.tmp-{running}",
        *(f"builds/{build_id}" for build_id in ids[2:]),
    ]
    assert sorted(p.name for p in serving.iterdir()) == [
        f".serving.duckdb.{running}.tmp",
        "builds",
        "current.json",
        "serving.duckdb",
    ]
    assert query(serving / "serving.duckdb", "select build_id from shoplog_publication.build") == [
        (ids[3],)
    ]


def test_a_reader_holding_the_serving_file_keeps_its_build_until_it_reconnects(
    source: Path, tmp_path: Path
) -> None:
    serving = tmp_path / "serving"
    publish(source, serving, now=T0)
    before = _content(serving / "serving.duckdb")
    held = duckdb.connect(str(serving / "serving.duckdb"), read_only=True)
    try:
        _execute(source, "delete from marts.fct_orders where order_id = 'o_1'")
        publish(source, serving, keep=2, now=T0 + timedelta(minutes=1))
        # the old file (its inode) and the old build's Parquet files are still there for it
        rows = held.execute("select * from marts.fct_orders order by all").fetchall()
        assert rows == before[("marts", "fct_orders")][1]
    finally:
        held.close()
    assert _content(serving / "serving.duckdb") == _content(source) != before


def test_a_failed_publication_leaves_the_serving_location_as_it_was(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serving = tmp_path / "serving"
    publish(source, serving, now=T0)
    state = _serving_state(serving)

    # a type Parquet does not keep: the export is refused after writing, before the switch
    _execute(source, "create table marts.fct_huge as select 1::hugeint as n")
    with pytest.raises(PublishError, match=r"marts.fct_huge: Parquet does not keep .*HUGEINT"):
        publish(source, serving, now=T0 + timedelta(minutes=1))
    assert _serving_state(serving) == state

    _execute(source, "drop table marts.fct_huge; drop table staging.stg_raw__log_clock")
    with pytest.raises(PublishError, match="no staging.stg_raw__log_clock"):
        publish(source, serving)
    with pytest.raises(PublishError, match="cannot read"):
        publish(tmp_path / "missing" / "built.duckdb", serving)
    assert main(["publish", "--db", str(source), "--serving", str(serving)]) == 2
    assert "publish failed" in capsys.readouterr().err.replace("\n", " ")
    assert _serving_state(serving) == state
    with pytest.raises(ValueError, match="at least 2"):
        publish(source, serving, keep=1)


def test_shoplog_publish_serves_beside_the_database_by_default(
    source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["publish", "--db", str(source), "--keep", "1"]) == 2  # a usage error
    assert main(["publish", "--db", str(source)]) == 0
    served = source.parent / "serving" / "serving.duckdb"
    assert _content(served) == _content(source)
    assert f"to {served}" in capsys.readouterr().err.replace("\n", "")


@pytest.mark.parametrize("command", ["build", "run"])
def test_a_failed_build_publishes_nothing_and_a_good_one_publishes(
    command: str, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving = tmp_path / "serving"
    outcomes = iter([False, True])
    builds: list[list[str]] = []

    def dbt(args: list[str], *rest: object, **options: object) -> DbtOutcome:
        builds.append(args)
        return DbtOutcome(command=args, success=next(outcomes))

    monkeypatch.setattr("shoplog.cli.run_dbt", dbt)
    options = ["--db", str(source), "--serving", str(serving), "--project-dir", str(PROJECT_DIR)]
    if command == "run":  # the job loads first: one event, so it does not generate a sample
        landing = write_landing(tmp_path / "landing", [_batch(1)[0]])
        options += ["--landing", str(landing)]

    assert main([command, *options]) == 1
    assert not serving.exists()
    if command == "build":
        assert main([command, *options]) == 0
        assert _content(serving / "serving.duckdb") == _content(source)
    assert builds == [UNIT_TESTS_EXCLUDED] * (2 if command == "build" else 1)


def _batch(day: int) -> list[dict]:
    """A day of the shop: a visit, a signup and an order of a new person."""
    at = f"2026-01-0{day}T0{day}:00:00.000Z"
    anonymous_id, user_id = f"a{day}", f"u{day}"
    return [
        make_event(10 * day, "web", "page_view", at, anonymous_id=anonymous_id),
        make_event(10 * day + 1, "web", "signup", at, anonymous_id=anonymous_id, user_id=user_id),
        make_event(
            10 * day + 2,
            "shop",
            "order_created",
            at,
            {"currency": "EUR", "total_amount": 10.0 * day, "lines": []},
            order_id=f"o_{day}",
            user_id=user_id,
        ),
    ]


def _reader(mode: str, serving: Path, stop: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(READER), mode, str(serving), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.e2e
def test_a_reader_in_a_loop_never_errs_and_always_sees_one_whole_build(tmp_path: Path) -> None:
    landing, database, serving = tmp_path / "landing", tmp_path / "log.duckdb", tmp_path / "serving"
    stop, hold_stop = tmp_path / "stop", tmp_path / "stop-holding"
    options = ["--db", str(database), "--project-dir", str(PROJECT_DIR)]
    built: dict[str, list[tuple[str, str, int, str]]] = {}  # build id -> its tables' content

    def grow_build_publish(day: int) -> None:
        write_landing(landing, _batch(day))
        assert main(["load", "--landing", str(landing), "--from-partition", *options]) == 0
        assert main(["build", "--serving", str(serving), "--keep", "2", *options]) == 0
        build_id = json.loads((serving / "current.json").read_text())["build_id"]
        built[build_id] = query(
            serving / "serving.duckdb",
            "select schema_name, table_name, row_count, content_hash "
            "from shoplog_publication.tables order by all",
        )

    started = time.perf_counter()
    grow_build_publish(1)
    reader = _reader("loop", serving, stop)
    holder = _reader("hold", serving, hold_stop)
    try:
        assert holder.stdout is not None
        held_build = holder.stdout.readline().strip()  # the holder has its connection open
        grow_build_publish(2)  # a build and a publication while a reader holds serving.duckdb
        hold_stop.touch()
        grow_build_publish(3)
    finally:
        stop.touch()
        hold_stop.touch()
        report = json.loads(reader.communicate(timeout=120)[0])
        held = json.loads(holder.communicate(timeout=120)[0])
    elapsed = time.perf_counter() - started

    print(
        f"\nreader loop: {report['queries']} queries on {report['connections']} connections, "
        f"{len(report['errors'])} errors, {report['mixed']} mixed answers, "
        f"{len(report['builds'])} build ids seen of {len(built)} published; reader ran "
        f"{report['seconds']} s, longest read {report['longest_read_s']} s; test {elapsed:.0f} s"
    )
    assert report["errors"] == []
    assert report["mixed"] == 0
    assert len(report["builds"]) >= 2
    # every build the reader saw is one the writer published, table for table
    for build_id, seen in report["builds"].items():
        assert {f"{s}.{t}": [n, h] for s, t, n, h in built[build_id]} == seen
    # the holder read its build whole before and after two publications
    assert held["errors"] == [] and held["mixed"] == 0
    assert list(held["builds"]) == [held_build] == [next(iter(built))]
    assert len(built) == 3
    fct_orders = [row[2] for rows in built.values() for row in rows if row[1] == "fct_orders"]
    assert fct_orders == [1, 2, 3]  # each build published its own log
