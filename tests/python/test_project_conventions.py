"""Project conventions that sqlfluff cannot see: documentation coverage, keys, macro names."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from shoplog.build import run_dbt

from .conftest import BUILT_DB, PROJECT_DIR


@BUILT_DB
def test_every_model_seed_snapshot_and_column_is_described(built_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "docs_target"
    outcome = run_dbt(
        ["docs", "generate", "--target-path", str(target)], PROJECT_DIR, built_db, quiet=True
    )
    assert outcome.success, outcome.failures
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())

    undescribed = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] not in {"model", "seed", "snapshot"}:
            continue
        if not node.get("description", "").strip():
            undescribed.append(unique_id)
        documented = {
            name.lower() for name, column in node["columns"].items() if column["description"]
        }
        built_columns = catalog["nodes"].get(unique_id, {}).get("columns", {})
        undescribed += [
            f"{unique_id}.{name}" for name in built_columns if name.lower() not in documented
        ]
    for unique_id, source in manifest["sources"].items():
        if not source.get("description", "").strip():
            undescribed.append(unique_id)
    assert undescribed == []


def _manifest() -> dict:
    """The manifest of this test process's dbt runs (``built_db`` made one)."""
    target = os.environ.get("DBT_TARGET_PATH") or PROJECT_DIR / "target"
    return json.loads((Path(target) / "manifest.json").read_text())


@BUILT_DB
def test_every_table_model_has_a_tested_primary_key(built_db: Path) -> None:
    manifest = _manifest()
    keyed = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        name = node.get("test_metadata", {}).get("name")
        if name in {"unique", "unique_combination"}:
            keyed.update(node["depends_on"]["nodes"])
    unkeyed = [
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] in {"table", "incremental"}
        and unique_id not in keyed
    ]
    assert unkeyed == []


def test_each_macro_file_holds_one_macro_named_after_it_and_its_dispatch_versions() -> None:
    mismatched = {}
    for path in sorted((PROJECT_DIR / "macros").glob("*.sql")):
        names = re.findall(r"{%-?\s*macro\s+(\w+)\s*\(", path.read_text())
        strays = [n for n in names if n != path.stem and not n.endswith(f"__{path.stem}")]
        if path.stem not in names or strays:
            mismatched[path.name] = names
    assert mismatched == {}


@BUILT_DB
def test_every_project_macro_is_documented(built_db: Path) -> None:
    manifest = _manifest()
    undocumented = [
        macro["name"]
        for macro in manifest["macros"].values()
        if macro["package_name"] == "shoplog"
        and "__" not in macro["name"]
        and not macro.get("description", "").strip()
    ]
    assert undocumented == []
