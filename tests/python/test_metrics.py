"""The semantic layer: every metric, queried through MetricFlow (`mf query`, as an analyst
does), equals a plain SQL aggregate over the marts it is defined on."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from .conftest import BUILT_DB, PROJECT_DIR, query

pytestmark = [BUILT_DB, pytest.mark.e2e]

SEMANTIC_YML = PROJECT_DIR / "models" / "marts" / "semantic" / "_semantic__models.yml"

#: Per metric: the plain SQL over the marts, one row per day (and currency), value last.
SESSION_METRICS = {
    "sessions": "count(*)",
    "converted_sessions": "count(*) filter (where reached_order)",
    "conversion_rate": "(count(*) filter (where reached_order))::double / count(*)",
}
ORDER_METRICS = {
    "orders": "count(*)",
    "gross_revenue": "sum(total_amount)",
    "net_revenue": "sum(net_revenue)",
    "average_order_value": "sum(total_amount) / count(*)",
    "new_customers": "count(*) filter (where customer_order_number = 1)",
    "returning_customer_orders": "count(*) filter (where customer_order_number > 1)",
}


def mf_query(database: Path, workdir: Path, metrics: list[str], group_by: str) -> list[dict]:
    """Run `mf query` on ``database`` and return its CSV rows. MetricFlow reads the semantic
    manifest from ``<project>/target/``: the project is linked into ``workdir`` with a target
    of its own, written by `dbt parse` there, so test workers never share one."""
    project = workdir / "project"
    project.mkdir()
    for entry in PROJECT_DIR.iterdir():
        if entry.name not in {"target", "logs", ".venv", "data"}:
            (project / entry.name).symlink_to(entry)
    out = workdir / "result.csv"
    env = {
        **os.environ,
        "SHOPLOG_DB": str(database),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(project / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "dbt", "parse", "--quiet"], cwd=project, env=env, check=True)
    subprocess.run(
        [bin_dir / "mf", "query", "--metrics", ",".join(metrics), "--group-by", group_by,
         "--csv", str(out)],
        cwd=project, env=env, check=True, capture_output=True,
    )  # fmt: skip
    with out.open() as handle:
        return list(csv.DictReader(handle))


def as_number(text: str) -> Decimal | None:
    return None if text in {"", "None"} else Decimal(text)


def close(left: Decimal | None, right: object) -> bool:
    if left is None or right is None:
        return left is None and right is None
    return abs(left - Decimal(str(right))) <= Decimal("1e-6") * max(1, abs(left))


def test_every_metric_defined_is_checked_here() -> None:
    defined = {metric["name"] for metric in yaml.safe_load(SEMANTIC_YML.read_text())["metrics"]}
    assert defined == set(SESSION_METRICS) | set(ORDER_METRICS)


def test_session_metrics_by_day_equal_sql_over_the_funnel_mart(
    built_db: Path, tmp_path: Path
) -> None:
    rows = mf_query(built_db, tmp_path, list(SESSION_METRICS), "metric_time__day")
    expected = {
        str(row[0]): row[1:]
        for row in query(
            built_db,
            f"select session_date, {', '.join(SESSION_METRICS.values())} "
            "from marts.fct_session_funnel where not is_bot group by 1",
        )
    }

    got = {row["metric_time__day"][:10]: row for row in rows}
    assert set(got) == set(expected) and len(expected) >= 10
    for day, values in expected.items():
        for name, value in zip(SESSION_METRICS, values, strict=True):
            assert close(as_number(got[day][name]), value), (day, name, got[day][name], value)


def test_order_metrics_by_day_and_currency_equal_sql_over_the_orders_mart(
    built_db: Path, tmp_path: Path
) -> None:
    rows = mf_query(built_db, tmp_path, list(ORDER_METRICS), "metric_time__day,order__currency")
    expected = {
        (str(row[0]), row[1]): row[2:]
        for row in query(
            built_db,
            f"select order_date, currency, {', '.join(ORDER_METRICS.values())} "
            "from marts.fct_orders group by 1, 2",
        )
    }

    got = {(row["metric_time__day"][:10], row["order__currency"]): row for row in rows}
    assert set(got) == set(expected) and len(expected) > 0
    for key, values in expected.items():
        for name, value in zip(ORDER_METRICS, values, strict=True):
            assert close(as_number(got[key][name]), value), (key, name, got[key][name], value)
