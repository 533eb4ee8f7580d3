"""The dbt unit tests (``unit_tests:`` beside the models): every one declared runs, and passes.

They run here, once, on empty parent relations (``dbt build --empty``: unit tests read their
inputs' column types from them) in a database and dbt target path of their own. Every other build
of the suite leaves them out (conftest sets DBT_EXCLUDE_RESOURCE_TYPES), as the main job should.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest
import yaml

from shoplog.build import run_dbt
from shoplog.load import RAW_DDL

from .conftest import PROJECT_DIR


def declared_unit_tests() -> list[str]:
    """The names of the unit tests declared in the yml files under models/."""
    names = []
    for path in sorted((PROJECT_DIR / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        names += [unit_test["name"] for unit_test in document.get("unit_tests") or []]
    return names


def test_unit_test_names_are_unique() -> None:
    names = declared_unit_tests()
    assert sorted({n for n in names if names.count(n) > 1}) == []


@pytest.mark.e2e
def test_every_declared_unit_test_runs_and_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBT_EXCLUDE_RESOURCE_TYPES", raising=False)
    database = tmp_path / "unit.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(RAW_DDL)
    target = str(tmp_path / "target")
    parents = run_dbt(
        [
            "build",
            "--empty",
            "--target-path",
            target,
            "--select",
            "+test_type:unit",
            "--exclude-resource-type",
            "test",
            "unit_test",
        ],
        PROJECT_DIR,
        database,
        quiet=True,
    )
    assert parents.success, parents.failures

    started = time.perf_counter()
    outcome = run_dbt(
        ["test", "--target-path", target, "--select", "test_type:unit"],
        PROJECT_DIR,
        database,
        quiet=True,
    )
    print(f"dbt unit tests: {time.perf_counter() - started:.1f} s")

    assert outcome.success, outcome.failures
    assert outcome.count("unit_test", "pass") == len(declared_unit_tests())
