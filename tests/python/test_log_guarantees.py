"""The log's guarantees (DESIGN invariants): replay, time travel, the lambda, determinism,
reconciliation. The tests build small logs with faults switched on; tests that only read the
same grown log share one module fixture (``grown_log``), and builds that prove something about
one part of the models select that part (with its upstream models and their data tests)."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from shoplog.build import run_dbt
from shoplog.generate import Faults, generate
from shoplog.load import load, split_lines
from shoplog.replay import (
    MODEL_SCHEMAS,
    batch_clock,
    batch_files,
    deliver,
    replay_check,
    table_hashes,
)
from shoplog.report import print_reconciliation, reconcile

from .conftest import (
    BUILT_DB,
    NO_UNIT_TESTS,
    PROJECT_DIR,
    make_event,
    person_key,
    query,
    write_landing,
)

LATE_AND_DUPLICATE = Faults(
    duplicate_rate=0.05,
    late_rate=0.05,
    skew_rate=0.01,
    malformed_rate=0.01,
    unknown_type_rate=0.01,
    v2_rate=0.3,
)


def build(database: Path, *args: str) -> None:
    outcome = run_dbt(["build", *args, *NO_UNIT_TESTS], PROJECT_DIR, database, quiet=True)
    assert outcome.success, outcome.failures


#: The tests reading ``grown_log`` run in one pytest-xdist worker (``--dist loadgroup``).
GROWN_LOG = pytest.mark.xdist_group("grown_log")


@pytest.fixture(scope="module")
def faulty_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faulty")
    # No deletion requests here: a request applies to builds of every time, before it too (the
    # privacy invariant, tests/python/test_privacy.py), which time travel and point in time
    # deliberately give way to.
    generate(
        out,
        date(2026, 3, 1),
        days=5,
        users=150,
        seed=11,
        faults=LATE_AND_DUPLICATE,
        progress=False,
        deletion_rate=0.0,
    )
    return out


@pytest.mark.e2e
def test_incremental_runs_over_batches_equal_a_full_refresh_and_snapshots_replay(
    faulty_landing: Path, tmp_path: Path
) -> None:
    verdicts = replay_check(faulty_landing, tmp_path / "work", 2, PROJECT_DIR)

    different = [v.relation for v in verdicts if not v.same]
    assert different == []
    relations = {v.relation for v in verdicts}
    assert {
        "staging.base_raw__lines",
        "staging.stg_raw__duplicates",
        "core.int_web_events__sessionized",
        "core.int_sessions__aggregated",
        "core.int_page_hits__5min_settled",
        "marts.fct_sessions",
        "features.feat_person_daily",
        "snapshots.snap_product_prices",
    } <= relations
    late = query(
        tmp_path / "work" / "incremental.duckdb",
        "select count(*) from staging.base_raw__lines "
        "where line_status = 'staged' and received_at - event_at > interval 1 hour",
    )[0][0]
    duplicates = query(
        tmp_path / "work" / "incremental.duckdb", "select count(*) from staging.stg_raw__duplicates"
    )[0][0]
    assert late > 0 and duplicates > 0


FEATURE_ROWS = "select * exclude (person_day_key) from features.feat_person_daily"


@dataclass
class GrownLog:
    """What the builds of ``grown_log`` showed, step by step."""

    withheld: Path  # a web file of first deliveries, loaded after their redeliveries
    at_the_time: dict[str, tuple[int, str]]  # model hashes after the first stage's build
    known_then: set[tuple]  # complete-day feature rows after the first stage's build
    grown: dict[str, tuple[int, str]]  # model hashes after the last incremental build
    known_now: set[tuple]  # feature rows of those same days after the last incremental build
    refreshed: dict[str, tuple[int, str]]  # model hashes after a full refresh of the grown log
    as_of_then: dict[str, tuple[int, str]]  # after a full refresh as of the first stage's clock


def _first_deliveries_loaded_late(files: list[Path]) -> Path:
    """A web ``part-00000`` file among ``files`` holding the first delivery of an event whose
    redelivery (a ``part-00001`` file) is also among them."""
    first_deliveries = {}
    for path in files:
        if path.name == "part-00000.ndjson.gz" and "source=web" in path.as_posix():
            for line in split_lines(path.read_bytes(), compressed=True):
                if line.startswith(b"{") and line.endswith(b"}"):
                    first_deliveries[json.loads(line)["event_id"]] = path
    redelivered = [
        json.loads(line)["event_id"]
        for path in files
        if path.name == "part-00001.ndjson.gz" and "source=web" in path.as_posix()
        for line in split_lines(path.read_bytes(), compressed=True)
    ]
    return next(first_deliveries[e] for e in redelivered if e in first_deliveries)


@pytest.fixture(scope="module")
def grown_log(faulty_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> GrownLog:
    """The faulty log grown in two stages, each file loaded as a backfill (stamped at the end of
    its hour, so the knowledge clock moves through the days and the first build has complete
    days): the first half of the hours, built; the rest but one web file of first deliveries,
    built; that file, after its redeliveries, built; then a full refresh, and a full refresh as
    of the first stage's clock (its last load time, the end of its last hour: every later file
    is stamped after it). One sequence of five builds read by three tests."""
    root = tmp_path_factory.mktemp("grown")
    first, *rest = batch_files(faulty_landing, 2)
    later = [path for files in rest for path in files]
    withheld = _first_deliveries_loaded_late(later)
    landing, database = root / "landing", root / "log.duckdb"

    deliver(faulty_landing, first, landing)
    load(landing, database, progress=False, from_partition=True)
    build(database)
    at_the_time = table_hashes(database, MODEL_SCHEMAS)
    [(clock,)] = query(database, "select max(loaded_at) from raw.load_manifest")
    known_then = set(query(database, f"{FEATURE_ROWS} where is_complete_day"))

    deliver(faulty_landing, [p for p in later if p != withheld], landing)
    load(landing, database, progress=False, from_partition=True)
    build(database)
    deliver(faulty_landing, [withheld], landing)
    load(landing, database, progress=False, from_partition=True)
    build(database)
    grown = table_hashes(database, MODEL_SCHEMAS)
    last_complete_day = max(row[1] for row in known_then)
    known_now = set(query(database, f"{FEATURE_ROWS} where feature_date <= '{last_complete_day}'"))

    build(database, "--full-refresh")
    refreshed = table_hashes(database, MODEL_SCHEMAS)

    build(database, "--full-refresh", "--vars", f"{{as_of: '{clock.isoformat(sep=' ')}'}}")
    as_of_then = table_hashes(database, MODEL_SCHEMAS)
    return GrownLog(withheld, at_the_time, known_then, grown, known_now, refreshed, as_of_then)


@pytest.mark.e2e
@GROWN_LOG
def test_a_first_delivery_loaded_after_its_redelivery_re_ranks_like_a_full_refresh(
    grown_log: GrownLog,
) -> None:
    # the incremental builds (the redeliveries first, then the withheld first deliveries)
    # equal a full refresh of the same log
    assert grown_log.grown == grown_log.refreshed


@pytest.mark.e2e
@GROWN_LOG
def test_as_of_rebuild_over_a_grown_log_equals_the_build_at_that_time(
    grown_log: GrownLog,
) -> None:
    # the log grew after the first stage's build: its models changed
    assert grown_log.grown != grown_log.at_the_time

    # base_raw__lines mirrors the whole log the build knows, whatever as_of (the staging models
    # apply it): it alone holds more; every model built on it is as it was at the time
    as_of_then, at_the_time = dict(grown_log.as_of_then), dict(grown_log.at_the_time)
    known = as_of_then.pop("staging.base_raw__lines")
    assert known[0] > at_the_time.pop("staging.base_raw__lines")[0]
    assert as_of_then == at_the_time


@pytest.mark.e2e
@GROWN_LOG
def test_feature_rows_of_past_days_do_not_change_as_the_log_grows(grown_log: GrownLog) -> None:
    assert len(grown_log.known_then) > 100
    assert grown_log.known_now == grown_log.known_then


#: The merge case needs the features and the identity graph's merges, and what they read.
FEATURES_AND_MERGES = [
    "--select",
    "+feat_person_daily",
    "+int_identity__person_key_merges",
    "--indirect-selection",
    "cautious",
]


def _two_stage_build(events: list[dict], tmp_path: Path) -> tuple[Path, set[tuple], set[tuple]]:
    """Build the first batch of hand-written events (up to day 3, 09:00), then all of them; the
    complete-day feature rows of the first build, and the rows of the second for those days."""
    database = tmp_path / "log.duckdb"
    first = [e for e in events if e["received_at"] <= "2026-01-03T09:00:00.000Z"]
    load(write_landing(tmp_path / "first", first), database, progress=False, from_partition=True)
    build(database, *FEATURES_AND_MERGES)
    known_then = set(query(database, f"{FEATURE_ROWS} where is_complete_day"))
    load(write_landing(tmp_path / "first", events), database, progress=False, from_partition=True)
    build(database, *FEATURES_AND_MERGES)
    last_complete_day = max(row[1] for row in known_then)
    known_now = set(query(database, f"{FEATURE_ROWS} where feature_date <= '{last_complete_day}'"))
    return database, known_then, known_now


def _key(anonymous_id: str) -> str:
    return person_key("anonymous_id", anonymous_id)


MERGE_ACROSS_DAYS = [
    make_event(1, "web", "page_view", "2026-01-01T00:10:00.000Z", anonymous_id="a1"),
    make_event(
        2,
        "web",
        "signup",
        "2026-01-01T00:20:00.000Z",
        anonymous_id="a1",
        user_id="u1",
        email="one@x.com",
    ),
    make_event(3, "web", "page_view", "2026-01-01T01:00:00.000Z", anonymous_id="a2"),
    make_event(4, "web", "page_view", "2026-01-02T10:00:00.000Z", anonymous_id="a2"),
    make_event(5, "web", "page_view", "2026-01-03T09:00:00.000Z", anonymous_id="a1"),
    # later: u1 logs in on the second device, whose person (key of a2) merges into a1's
    make_event(6, "web", "login", "2026-01-03T12:00:00.000Z", anonymous_id="a2", user_id="u1"),
    make_event(7, "web", "page_view", "2026-01-04T08:00:00.000Z", anonymous_id="a2"),
]


@pytest.mark.e2e
def test_a_later_merge_adds_rows_under_the_surviving_key_and_rewrites_no_earlier_row(
    tmp_path: Path,
) -> None:
    database, known_then, known_now = _two_stage_build(MERGE_ACROSS_DAYS, tmp_path)

    assert known_now == known_then
    rows = query(
        database,
        "select person_key, strftime(feature_date, '%d'), is_complete_day, events_1d, "
        "page_views_7d, active_days_28d, days_since_first_seen "
        "from features.feat_person_daily order by person_key = '" + _key("a2") + "', feature_date",
    )
    a1, a2 = _key("a1"), _key("a2")
    assert rows == [
        (a1, "01", True, 2, 1, 1, 0),
        (a1, "02", True, 0, 1, 1, 1),
        (a1, "03", True, 2, 4, 3, 2),  # from day 3 on, a2's days count for the person
        (a1, "04", False, 1, 5, 4, 3),
        (a2, "01", True, 1, 1, 1, 0),  # the second device's own rows stay as they were
        (a2, "02", True, 1, 2, 2, 1),
    ]
    assert query(
        database,
        "select old_person_key, new_person_key, strftime(merged_at, '%d %H:%M') "
        "from identity.int_identity__person_key_merges",
    ) == [(a2, a1, "03 13:00")]  # the login's load time: the end of its 12:00 partition


@pytest.mark.e2e
@BUILT_DB
def test_as_of_on_an_incremental_run_is_refused(built_db: Path) -> None:
    outcome = run_dbt(
        [
            "build",
            "--select",
            "int_web_events__sessionized",
            "--vars",
            "{as_of: '2026-01-05 00:00:00'}",
        ],
        PROJECT_DIR,
        built_db,
        quiet=True,
    )
    assert not outcome.success
    assert len(outcome.failures) == 1
    assert outcome.failures[0].startswith(
        "model.shoplog.int_web_events__sessionized: Compilation Error"
    )
    assert "as_of builds rebuild from the log: run `dbt build --full-refresh" in outcome.failures[0]


#: The page-hit models (the live view and the settled table) and what they read.
PAGE_HITS = ["--select", "+fct_page_hits_5min", "--indirect-selection", "cautious"]


@pytest.mark.e2e
def test_live_page_hits_include_a_loaded_batch_without_a_rebuild_and_settle_to_the_same_counts(
    tmp_path: Path,
) -> None:
    source = tmp_path / "generated"
    generate(source, date(2026, 4, 1), days=3, users=120, seed=5, progress=False)
    batches = batch_files(source, 6)
    landing, database = tmp_path / "landing", tmp_path / "log.duckdb"
    deliver(source, batches[0], landing)
    load(landing, database, progress=False, from_partition=True)
    build(database, *PAGE_HITS)

    deliver(source, batches[1], landing)
    load(landing, database, progress=False, from_partition=True)
    live_sql = (
        "select window_start, host, page_url, hit_count from marts.fct_page_hits_5min "
        "where not is_settled"
    )
    live = {row[:3]: row[3] for row in query(database, live_sql)}
    expected = dict(
        (row[:3], row[3])
        for row in query(
            database,
            "with lines as (select try(decode(line)::json) as j from raw.events), hits as ("
            "select time_bucket(interval 5 minute, (j->>'event_time')::timestamptz "
            "at time zone 'UTC') as w, j->'context'->>'host' as host, "
            "j->'context'->>'page_url' as url from lines "
            "where j->>'event_type' in ('page_view', 'product_view')) "
            "select w, host, url, count(*) from hits where w > (select max(window_start) "
            "from core.int_page_hits__5min_settled) group by all",
        )
    )
    assert live == expected and len(live) > 0

    # the live windows settle in the next build (its clock is a batch of hours past them), and
    # a later build over three more loads leaves them as they settled
    for step in (batches[2:3], batches[3:]):
        for files in step:
            deliver(source, files, landing)
            load(landing, database, progress=False, from_partition=True)
        build(database, *PAGE_HITS)
    settled = {
        row[:3]: row[3]
        for row in query(
            database,
            "select window_start, host, page_url, hit_count from core.int_page_hits__5min_settled",
        )
    }
    assert {key: settled.get(key) for key in live} == live


@pytest.mark.e2e
@BUILT_DB
def test_two_builds_of_the_same_log_are_identical(
    built_db: Path, small_landing: Path, tmp_path: Path
) -> None:
    again = tmp_path / "log.duckdb"  # the file name of built_db: dbt need not reparse (conftest)
    with duckdb.connect(str(again)) as con:
        con.execute(f"attach '{built_db}' as first (read_only)")
        con.execute("create schema raw")
        con.execute("create table raw.events as select * from first.raw.events")
        con.execute("create table raw.load_manifest as select * from first.raw.load_manifest")

    build(again)

    assert table_hashes(again, MODEL_SCHEMAS) == table_hashes(built_db, MODEL_SCHEMAS)


NONDETERMINISTIC = re.compile(
    r"\b(now|current_timestamp|current_date|random|uuid|gen_random_uuid|rand)\s*\(|"
    r"\bcurrent_timestamp\b|\bcurrent_date\b",
    re.IGNORECASE,
)


def test_model_sql_uses_no_clock_or_randomness() -> None:
    offenders = [
        f"{path.relative_to(PROJECT_DIR)}:{number}"
        for folder in ("models", "macros", "snapshots")
        for path in sorted((PROJECT_DIR / folder).rglob("*.sql"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if NONDETERMINISTIC.search(line)
    ]
    assert offenders == []


@BUILT_DB
def test_reconciliation_balances_and_flags_a_file_not_yet_loaded(
    built_db: Path, small_landing: Path, tmp_path: Path
) -> None:
    rows = reconcile(built_db, small_landing)
    assert print_reconciliation(rows)
    assert (
        sum(r["landed"] for r in rows) == query(built_db, "select count(*) from raw.events")[0][0]
    )
    assert {r["source"] for r in rows} == {"web", "shop", "payments", "catalog"}

    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    extra = landing / "source=web" / "date=2030-01-01" / "hour=00" / "part-00000.ndjson"
    extra.parent.mkdir(parents=True)
    extra.write_text('{"event_id": "x"}\n')
    rows = reconcile(built_db, landing)
    assert not print_reconciliation(rows)
    assert [r for r in rows if r["day"] == "2030-01-01"] == [
        {
            "source": "web",
            "day": "2030-01-01",
            "landed": 1,
            "raw": 0,
            "staged": 0,
            "quarantined": 0,
            "duplicates": 0,
        }
    ]


def test_batches_hold_whole_hours_and_their_clock_ends_the_last_one(faulty_landing: Path) -> None:
    batches = batch_files(faulty_landing, 5)

    hours = [
        sorted({re.search(r"date=([\d-]+)/hour=(\d+)", p.as_posix()).groups() for p in b})
        for b in batches
    ]
    assert len(batches) == 5
    assert sum(len(b) for b in batches) == len(list(faulty_landing.rglob("*.ndjson.gz")))
    assert all(earlier[-1] < later[0] for earlier, later in zip(hours, hours[1:], strict=False))
    last_day, last_hour = hours[-1][-1]
    assert batch_clock(faulty_landing, batches[-1]) == datetime.fromisoformat(
        f"{last_day}T{last_hour}:59:59.999999"
    )
