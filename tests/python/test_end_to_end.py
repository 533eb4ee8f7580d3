"""End to end: generate a small log with faults, load it, `dbt build` green, validate with GX."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from shoplog.validate import validate_features

from .conftest import BUILT_DB, query

#: Every test here reads the session build.
pytestmark = BUILT_DB


def test_dbt_build_passes_and_every_layer_has_rows(built_db: Path) -> None:
    for relation in (
        "staging.base_raw__lines",
        "identity.int_identity__person_map",
        "core.int_sessions__aggregated",
        "marts.fct_sessions",
        "marts.fct_orders",
        "marts.dim_customers",
        "marts.dim_products",
        "marts.fct_order_lines",
        "marts.fct_page_views",
        "marts.fct_session_funnel",
        "marts.fct_funnel_daily",
        "features.feat_person_daily",
        "snapshots.snap_product_prices",
    ):
        assert query(built_db, f"select count(*) > 0 from {relation}") == [(True,)], relation


def test_every_raw_line_is_staged_quarantined_or_duplicate(built_db: Path) -> None:
    raw = query(built_db, "select count(*) from raw.events")[0][0]
    by_status = dict(
        query(built_db, "select line_status, count(*) from staging.base_raw__lines group by 1")
    )
    reasons = {
        row[0]
        for row in query(
            built_db, "select distinct quarantine_reason from staging.stg_raw__quarantine"
        )
    }

    assert sum(by_status.values()) == raw
    assert set(by_status) == {"staged", "quarantined", "duplicate"}
    assert {"invalid_json", "unknown_event_type"} <= reasons
    assert (
        query(built_db, "select count(*) from staging.stg_raw__duplicates")[0][0]
        == by_status["duplicate"]
    )


def test_add_to_cart_v1_and_v2_read_into_one_shape(built_db: Path) -> None:
    rows = query(
        built_db,
        "select schema_version, count(*), count(product_id), count(quantity), count(unit_price) "
        "from staging.stg_web__events where event_type = 'add_to_cart' group by 1 order by 1",
    )
    assert [row[0] for row in rows] == [1, 2]
    for _version, total, products, quantities, prices in rows:
        assert total == products == quantities == prices


def test_order_lines_add_up_to_their_orders_and_each_has_its_product_as_then(
    built_db: Path,
) -> None:
    per_order = query(
        built_db,
        "select count(*) from marts.fct_orders as orders "
        "left join (select order_id, count(*) as lines from marts.fct_order_lines group by 1) "
        "as lines using (order_id) where orders.line_count <> coalesce(lines.lines, 0)",
    )
    versions = query(
        built_db,
        "select count(*), count(lines.product_version_key), "
        "count(*) filter (where products.valid_from <= lines.order_loaded_at "
        "and coalesce(lines.order_loaded_at < products.valid_to, true)) "
        "from marts.fct_order_lines as lines "
        "left join marts.dim_products as products using (product_version_key)",
    )
    current = query(
        built_db,
        "select count(distinct product_id), count(*) filter (where is_current) "
        "from marts.dim_products",
    )

    assert per_order == [(0,)]
    lines = versions[0][0]
    # the sample's catalogue is loaded before its orders: every line has its version
    assert lines > 0 and versions == [(lines, lines, lines)]
    assert current[0][0] == current[0][1] > 0


def test_no_raw_email_or_ip_reaches_marts_or_features(built_db: Path) -> None:
    columns = query(
        built_db,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('marts', 'features') and data_type = 'VARCHAR'",
    )
    for schema, table, column in columns:
        leaks = query(
            built_db,
            f"select count(*) from {schema}.{table} "
            f"where {column} like '%@%' or regexp_matches({column}, '^\\d+\\.\\d+\\.\\d+\\.\\d+$')",
        )
        assert leaks == [(0,)], f"{schema}.{table}.{column}"


def test_feature_mart_passes_the_great_expectations_suite(built_db: Path) -> None:
    outcome = validate_features(built_db)

    assert outcome.success, [line for line in outcome.results if not line[2]]
    assert outcome.rows == query(built_db, "select count(*) from features.feat_person_daily")[0][0]
    assert len(outcome.results) == 30


def test_great_expectations_suite_fails_on_a_broken_feature_mart(built_db: Path, tmp_path) -> None:
    broken = tmp_path / "broken.duckdb"
    import duckdb

    with duckdb.connect(str(broken)) as con:
        con.execute(f"attach '{built_db}' as built (read_only)")
        con.execute("create schema features")
        con.execute(
            "create table features.feat_person_daily as "
            "select * replace (case when feature_date = (select min(feature_date) from "
            "built.features.feat_person_daily) then -1 else page_views_1d end as page_views_1d) "
            "from built.features.feat_person_daily"
        )

    outcome = validate_features(broken)

    assert not outcome.success
    failed = {(kind, column) for kind, column, ok in outcome.results if not ok}
    assert ("expect_column_values_to_be_between", "page_views_1d") in failed


def test_sessions_mart_matches_the_30_minute_rule(built_db: Path) -> None:
    events = pd.DataFrame(
        query(
            built_db,
            "select anonymous_id, event_at, event_id from staging.stg_web__events "
            "where anonymous_id is not null order by anonymous_id, event_at, event_id",
        ),
        columns=["anonymous_id", "event_at", "event_id"],
    )
    gaps = events.groupby("anonymous_id")["event_at"].diff()
    expected_sessions = int((gaps.isna() | (gaps > pd.Timedelta(minutes=30))).sum())

    assert query(built_db, "select count(*) from marts.fct_sessions") == [(expected_sessions,)]
