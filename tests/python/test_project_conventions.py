"""Project conventions that sqlfluff cannot see: documentation coverage, keys, macro names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

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


def test_every_table_model_has_a_tested_primary_key(manifest: dict[str, Any]) -> None:
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


def test_each_macro_sits_in_one_file_with_its_dispatch_versions() -> None:
    # macros are grouped in files by job (json_parsing, privacy, log_clock, ...); a macro and
    # its engine versions (`duckdb__x`, `default__x`) are read together, in one file
    files_of: dict[str, list[str]] = {}
    for path in sorted((PROJECT_DIR / "macros").glob("*.sql")):
        for name in re.findall(r"{%-?\s*macro\s+(\w+)\s*\(", path.read_text()):
            files_of.setdefault(name, []).append(path.name)
    defined_twice = {name: files for name, files in files_of.items() if len(files) > 1}
    apart = {
        name: (files[0], files_of.get(name.split("__", 1)[1]))
        for name, files in files_of.items()
        if "__" in name and files_of.get(name.split("__", 1)[1]) != files
    }
    assert (defined_twice, apart) == ({}, {})


def test_every_project_macro_is_documented(manifest: dict[str, Any]) -> None:
    undocumented = [
        macro["name"]
        for macro in manifest["macros"].values()
        if macro["package_name"] == "shoplog"
        and "__" not in macro["name"]
        and not macro.get("description", "").strip()
    ]
    assert undocumented == []
