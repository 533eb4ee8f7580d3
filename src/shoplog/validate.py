"""Great Expectations suite for the feature mart, run on a DuckDB query result."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.core import ExpectationValidationResult

FEATURE_TABLE = "features.feat_person_daily"

COUNT_COLUMNS = (
    "events_1d",
    "page_views_1d",
    "product_views_1d",
    "add_to_carts_1d",
    "checkouts_1d",
    "orders_1d",
    "page_views_7d",
    "product_views_7d",
    "add_to_carts_7d",
    "orders_to_date",
)


@dataclass
class ValidationOutcome:
    """The suite's verdict: success, and one line per expectation."""

    success: bool
    rows: int
    results: list[tuple[str, str, bool]]


def feature_suite(gx: ModuleType) -> ExpectationSuite:
    """The expectations a training pipeline relies on, for ``feat_person_daily``; ``gx`` is the
    great_expectations module, imported lazily (it is slow to import)."""
    suite: ExpectationSuite = gx.ExpectationSuite(name="feat_person_daily")
    expect = gx.expectations
    suite.add_expectation(expect.ExpectTableRowCountToBeBetween(min_value=1))
    suite.add_expectation(expect.ExpectColumnValuesToBeUnique(column="person_day_key"))
    suite.add_expectation(
        expect.ExpectCompoundColumnsToBeUnique(column_list=["person_key", "feature_date"])
    )
    for column in ("person_day_key", "person_key", "feature_date", "days_since_first_seen"):
        suite.add_expectation(expect.ExpectColumnValuesToNotBeNull(column=column))
    for column in COUNT_COLUMNS:
        suite.add_expectation(expect.ExpectColumnValuesToNotBeNull(column=column))
        suite.add_expectation(expect.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    suite.add_expectation(
        expect.ExpectColumnValuesToBeBetween(column="active_days_28d", min_value=0, max_value=28)
    )
    suite.add_expectation(
        expect.ExpectColumnValuesToBeBetween(column="days_since_first_seen", min_value=0)
    )
    suite.add_expectation(
        expect.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="page_views_7d", column_B="page_views_1d", or_equal=True
        )
    )
    return suite


def validate_features(database: Path) -> ValidationOutcome:
    """Run the feature-mart suite against ``database``'s ``feat_person_daily``."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx

    with duckdb.connect(str(database), read_only=True) as con:
        frame = con.execute(f"select * from {FEATURE_TABLE}").df()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("shoplog")
    asset = source.add_dataframe_asset(name="feat_person_daily")
    batch = asset.add_batch_definition_whole_dataframe("whole_table")
    suite = context.suites.add(feature_suite(gx))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="feat_person_daily", data=batch, suite=suite)
    )
    result = definition.run(batch_parameters={"dataframe": frame}, result_format="BASIC")
    lines = [_line(r) for r in result.results]
    return ValidationOutcome(success=bool(result.success), rows=len(frame), results=lines)


def _line(result: ExpectationValidationResult) -> tuple[str, str, bool]:
    """(expectation type, column or columns, passed) of one expectation's result."""
    config = result.expectation_config
    if config is None:  # only results made by hand have none; a suite's run always sets it
        return ("expectation", "", bool(result.success))
    column = config.kwargs.get("column") or config.kwargs.get("column_list") or ""
    return (config.type, str(column), bool(result.success))
