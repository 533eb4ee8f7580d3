"""dbt-project-evaluator's rules (src/shoplog/project_evaluator.py) on this project, and the
checker itself on small hand-made manifests."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shoplog.project_evaluator import (
    DEFAULT_WAIVERS,
    RULES,
    Project,
    Settings,
    Violation,
    Waiver,
    evaluate,
    hard_coded_references,
    load_config,
    parse_config,
    reconcile,
    report,
    settings_from_vars,
)

from .conftest import PROJECT_DIR

# -- the project ---------------------------------------------------------------------------------


def test_every_violation_is_waived_and_every_waiver_still_matches(
    manifest: dict[str, Any],
) -> None:
    config = load_config(PROJECT_DIR / DEFAULT_WAIVERS)
    outcome = reconcile(evaluate(manifest, config.settings), config.waivers)
    undocumented = [f"{v.rule}: {v.resource} [{v.detail}]" for v in outcome.undocumented]
    stale = [f"{w.rule}: {w.resource}" for w in outcome.stale]
    # fix the model, or waive it in tests/project_evaluator_waivers.toml with a reason
    assert undocumented == []
    # the violation is gone: remove its waiver
    assert stale == []


def test_model_types_follow_the_waiver_files_mapping(manifest: dict[str, Any]) -> None:
    project = Project(manifest, load_config(PROJECT_DIR / DEFAULT_WAIVERS).settings)
    types = {r.name: r.model_type for r in project.of_type("model")}
    assert types["base_raw__lines_parsed"] == "base"
    assert types["stg_shop__orders"] == "staging"
    assert types["int_identity__person_map"] == "intermediate"
    assert types["int_orders__with_payments"] == "intermediate"
    assert types["fct_orders"] == "marts"
    assert types["feat_person_daily"] == "other"
    readers = {c.name for c in project.child_resources("source.shoplog.raw.events")}
    assert readers == {"base_raw__lines_parsed", "base_raw__lines"}


def test_the_report_runs_on_the_project(manifest: dict[str, Any]) -> None:
    config = load_config(PROJECT_DIR / DEFAULT_WAIVERS)
    project = Project(manifest, config.settings)
    outcome = reconcile(evaluate(manifest, config.settings), config.waivers)
    text = report(outcome, project)
    assert "0 undocumented; 0 stale waivers" in text
    assert all(r.name in text for r in RULES)


# -- the checker on a hand-made manifest ----------------------------------------------------------

SETTINGS = settings_from_vars(
    {
        "model_types": ["base", "staging", "intermediate", "marts", "other"],
        "base_prefixes": ["base_"],
        "base_folder_name": "base",
        "intermediate_folder_name": ["identity", "core"],
        "primary_key_test_macros": [["dbt.test_unique", "dbt.test_not_null"]],
        "downstream_model_types": ["staging", "intermediate", "marts", "other"],
    }
)


def _model(
    name: str, folder: str, parents: list[str], materialized: str = "table"
) -> dict[str, Any]:
    return {
        "unique_id": f"model.demo.{name}",
        "name": name,
        "resource_type": "model",
        "package_name": "demo",
        "original_file_path": f"models/{folder}/{name}.sql",
        "patch_path": f"demo://models/{folder}/_{folder.replace('/', '_')}__models.yml",
        "description": f"Grain: one row per {name}.",
        "config": {"materialized": materialized},
        "depends_on": {"nodes": parents, "macros": []},
        "columns": {"id": {"name": "id", "description": "The key.", "constraints": []}},
        "raw_code": "select 1 as id",
        "language": "sql",
    }


def _key_tests(model: dict[str, Any]) -> list[dict[str, Any]]:
    """unique and not_null on the model's `id`, in the model's yml."""
    return [
        {
            "unique_id": f"test.demo.{test}_{model['name']}_id",
            "name": f"{test}_{model['name']}_id",
            "resource_type": "test",
            "package_name": "demo",
            "original_file_path": model["patch_path"].split("://")[1],
            "attached_node": model["unique_id"],
            "column_name": "id",
            "test_metadata": {"name": test, "namespace": None},
            "depends_on": {"nodes": [model["unique_id"]], "macros": [f"macro.dbt.test_{test}"]},
        }
        for test in ("unique", "not_null")
    ]


def _manifest(*models: dict[str, Any], tested: bool = True) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for model in models:
        nodes[model["unique_id"]] = model
        if tested:
            nodes.update({t["unique_id"]: t for t in _key_tests(model)})
    return {
        "metadata": {"project_name": "demo"},
        "nodes": nodes,
        "sources": {
            "source.demo.raw.events": {
                "unique_id": "source.demo.raw.events",
                "name": "events",
                "source_name": "raw",
                "resource_type": "source",
                "package_name": "demo",
                "original_file_path": "models/staging/raw/_raw__sources.yml",
                "source_description": "The raw log.",
                "description": "One row per line.",
                "database": "db",
                "schema": "raw",
                "identifier": "events",
                "freshness": {"warn_after": {"count": 24, "period": "hour"}},
                "columns": {"line": {"name": "line", "description": "The line."}},
            }
        },
        "exposures": {},
    }


BASE = _model("base_raw__lines", "staging/raw/base", ["source.demo.raw.events"])
ORDERS = _model("stg_shop__orders", "staging/shop", ["model.demo.base_raw__lines"], "view")
ORDER_FACTS = _model("int_orders__enriched", "core", ["model.demo.stg_shop__orders"])
FCT_ORDERS = _model("fct_orders", "marts", ["model.demo.int_orders__enriched"])


def _rules_hit(violations: list[Violation]) -> dict[str, list[str]]:
    hit: dict[str, list[str]] = {}
    for v in violations:
        hit.setdefault(v.rule, []).append(v.resource)
    return hit


def test_a_well_formed_project_has_no_violations() -> None:
    assert evaluate(_manifest(BASE, ORDERS, ORDER_FACTS, FCT_ORDERS), SETTINGS) == []


def test_a_staging_model_reading_another_staging_model_is_flagged() -> None:
    lines = _model("stg_shop__order_lines", "staging/shop", [ORDERS["unique_id"]], "view")
    hit = _rules_hit(evaluate(_manifest(BASE, ORDERS, lines, ORDER_FACTS, FCT_ORDERS), SETTINGS))
    assert hit["fct_staging_dependent_on_staging"] == ["stg_shop__orders -> stg_shop__order_lines"]


def test_a_base_model_reading_a_staging_model_is_flagged_but_not_staging_reading_base() -> None:
    base_on_stg = _model("base_raw__orders_again", "staging/raw/base", [ORDERS["unique_id"]])
    hit = _rules_hit(evaluate(_manifest(BASE, ORDERS, base_on_stg), SETTINGS))
    assert hit["fct_staging_dependent_on_staging"] == ["stg_shop__orders -> base_raw__orders_again"]


def test_a_model_reading_the_raw_source_directly_is_flagged() -> None:
    web = _model("stg_web__events", "staging/web", ["source.demo.raw.events"], "view")
    mart = _model(
        "fct_raw_lines", "marts", ["source.demo.raw.events", FCT_ORDERS["unique_id"]], "table"
    )
    hit = _rules_hit(
        evaluate(_manifest(BASE, ORDERS, ORDER_FACTS, FCT_ORDERS, web, mart), SETTINGS)
    )
    assert hit["fct_marts_or_intermediate_dependent_on_source"] == [
        "raw.events -> fct_raw_lines",
        "raw.events -> stg_web__events",
    ]
    assert hit["fct_source_fanout"] == [
        "raw.events -> base_raw__lines, fct_raw_lines, stg_web__events"
    ]
    assert hit["fct_direct_join_to_source"] == ["fct_raw_lines"]
    # a staging model must sit under its source's folder (raw/), not web/
    assert hit["fct_model_directories"] == ["stg_web__events"]


def test_with_the_packages_default_types_only_marts_and_intermediate_may_not_read_sources() -> None:
    web = _model("stg_web__events", "staging/web", ["source.demo.raw.events"], "view")
    mart = _model("fct_raw_lines", "marts", ["source.demo.raw.events"])
    hit = _rules_hit(evaluate(_manifest(web, mart), Settings()))
    assert hit["fct_marts_or_intermediate_dependent_on_source"] == ["raw.events -> fct_raw_lines"]


def test_a_model_without_a_primary_key_test_is_flagged() -> None:
    manifest = _manifest(BASE, ORDERS, ORDER_FACTS, FCT_ORDERS)
    del manifest["nodes"]["test.demo.unique_fct_orders_id"]  # not_null alone is no key
    hit = _rules_hit(evaluate(manifest, SETTINGS))
    assert hit == {"fct_missing_primary_key_tests": ["fct_orders"]}

    untested = _manifest(BASE, ORDERS, ORDER_FACTS, FCT_ORDERS)
    untested["nodes"] = {
        k: v for k, v in untested["nodes"].items() if not k.endswith("_fct_orders_id")
    }
    hit = _rules_hit(evaluate(untested, SETTINGS))
    assert hit == {
        "fct_missing_primary_key_tests": ["fct_orders"],
        "fct_test_coverage": ["fct_orders"],
    }


def test_a_unique_test_with_a_not_null_constraint_is_a_primary_key() -> None:
    manifest = _manifest(BASE, ORDERS, ORDER_FACTS, FCT_ORDERS)
    del manifest["nodes"]["test.demo.not_null_fct_orders_id"]
    manifest["nodes"][FCT_ORDERS["unique_id"]] = fct = copy.deepcopy(FCT_ORDERS)
    fct["columns"]["id"]["constraints"] = [{"type": "not_null"}]
    assert evaluate(manifest, SETTINGS) == []


def test_an_undocumented_column_model_or_source_is_flagged() -> None:
    fct = copy.deepcopy(FCT_ORDERS)
    fct["columns"]["amount"] = {"name": "amount", "description": "  ", "constraints": []}
    fct["description"] = ""
    manifest = _manifest(BASE, ORDERS, ORDER_FACTS, fct)
    manifest["sources"]["source.demo.raw.events"]["description"] = ""
    hit = _rules_hit(evaluate(manifest, SETTINGS))
    assert hit == {
        "fct_undocumented_columns": ["fct_orders.amount"],
        "fct_undocumented_models": ["fct_orders"],
        "fct_documentation_coverage": ["fct_orders"],
        "fct_undocumented_source_tables": ["raw.events"],
    }


def test_naming_directories_and_yml_placement() -> None:
    misnamed = _model("orders_summary", "marts", [FCT_ORDERS["unique_id"]])
    misplaced = _model("int_orders__elsewhere", "marts", [ORDER_FACTS["unique_id"]])
    stray_yml = _model("dim_orders", "marts", [FCT_ORDERS["unique_id"]])
    stray_yml["patch_path"] = "demo://models/core/_core__models.yml"
    hit = _rules_hit(
        evaluate(
            _manifest(BASE, ORDERS, ORDER_FACTS, FCT_ORDERS, misnamed, misplaced, stray_yml),
            SETTINGS,
        )
    )
    assert hit == {
        "fct_model_naming_conventions": ["orders_summary"],
        "fct_model_directories": ["int_orders__elsewhere"],
        # its description and, from there, its tests are in core/'s yml
        "fct_test_directories": ["dim_orders"],
    }


def test_fanout_joins_rejoins_and_chained_views() -> None:
    leaves = [_model(f"fct_leaf_{n}", "marts", [ORDER_FACTS["unique_id"]]) for n in range(3)]
    hit = _rules_hit(evaluate(_manifest(BASE, ORDERS, ORDER_FACTS, *leaves), SETTINGS))
    assert hit == {
        "fct_model_fanout": ["int_orders__enriched -> fct_leaf_0, fct_leaf_1, fct_leaf_2"]
    }

    rejoin = _model("fct_orders_rejoined", "marts", [ORDERS["unique_id"], ORDER_FACTS["unique_id"]])
    hit = _rules_hit(evaluate(_manifest(BASE, ORDERS, ORDER_FACTS, rejoin), SETTINGS))
    assert hit == {
        "fct_rejoining_of_upstream_concepts": [
            "stg_shop__orders -> int_orders__enriched -> fct_orders_rejoined"
        ]
    }

    parents = [_model(f"int_part_{n}", "core", [ORDERS["unique_id"]]) for n in range(7)]
    wide = _model("fct_wide", "marts", [p["unique_id"] for p in parents])
    hit = _rules_hit(evaluate(_manifest(BASE, ORDERS, *parents, wide), SETTINGS))
    assert hit == {"fct_too_many_joins": ["fct_wide"]}

    chain = [ORDERS]
    for n in range(5):
        chain.append(_model(f"int_view_{n}", "core", [chain[-1]["unique_id"]], "view"))
    end = _model("fct_end", "marts", [chain[-1]["unique_id"]])
    hit = _rules_hit(evaluate(_manifest(BASE, *chain, end), SETTINGS))
    # stg_shop__orders and five views: six views before fct_end, distance 6 > 5
    assert hit == {"fct_chained_views_dependencies": ["fct_end"]}


def test_sources_unused_without_freshness_or_in_the_wrong_folder() -> None:
    manifest = _manifest(BASE, ORDERS)
    source = manifest["sources"]["source.demo.raw.events"]
    manifest["sources"]["source.demo.raw.copy"] = copy.deepcopy(source) | {
        "unique_id": "source.demo.raw.copy",
        "name": "copy",
        "freshness": {"warn_after": {"count": None}, "error_after": {"count": None}},
        "original_file_path": "models/staging/shop/_shop__sources.yml",
    }
    hit = _rules_hit(evaluate(manifest, SETTINGS))
    assert hit == {
        "fct_duplicate_sources": ["raw.copy, raw.events"],
        "fct_unused_sources": ["raw.copy"],
        "fct_sources_without_freshness": ["raw.copy"],
        "fct_source_directories": ["raw.copy"],
    }


def test_exposures_reading_views_or_sources_are_flagged() -> None:
    manifest = _manifest(BASE, ORDERS, ORDER_FACTS, FCT_ORDERS)
    manifest["exposures"]["exposure.demo.dashboard"] = {
        "unique_id": "exposure.demo.dashboard",
        "name": "dashboard",
        "resource_type": "exposure",
        "package_name": "demo",
        "original_file_path": "models/marts/_marts__exposures.yml",
        "depends_on": {"nodes": [FCT_ORDERS["unique_id"], ORDERS["unique_id"]]},
    }
    hit = _rules_hit(evaluate(manifest, SETTINGS))
    assert hit == {"fct_exposure_parents_materializations": ["stg_shop__orders -> dashboard"]}


def test_hard_coded_references() -> None:
    sql = """
        select * from analytics.orders
        join "raw"."db"."events" on true
        left join {{ var('customers_table') }} as c on true
        where a is distinct from b.c
        and x in (select y from {{ ref('stg_shop__orders') }})
        and extract(year from t) = 2026
    """
    assert hard_coded_references(sql) == [
        '"raw"."db"."events"',
        "analytics.orders",
        "{{ var('customers_table') }}",
    ]
    assert hard_coded_references("select * from {{ source('raw', 'events') }}") == []


def test_waivers_cover_exactly_their_violation_and_stale_ones_are_reported() -> None:
    violations = [
        Violation("fct_source_fanout", "raw.events -> a, b"),
        Violation("fct_root_models", "orphan"),
    ]
    waivers = [
        Waiver("fct_source_fanout", "raw.events -> a, b", "reviewed"),
        Waiver("fct_root_models", "gone", "was reviewed"),
    ]
    outcome = reconcile(violations, waivers)
    assert [v.resource for v, _ in outcome.waived] == ["raw.events -> a, b"]
    assert outcome.undocumented == (Violation("fct_root_models", "orphan"),)
    assert outcome.stale == (Waiver("fct_root_models", "gone", "was reviewed"),)
    assert not outcome.ok


def test_the_waiver_file_is_checked() -> None:
    reason = "a reason long enough for a reviewer to judge it on its merits"
    entry = f'rule = "fct_root_models"\nresource = "x"\nreason = "{reason}"\n'
    with pytest.raises(ValueError, match="unknown rule"):
        parse_config(f'[[waiver]]\nrule = "fct_nope"\nresource = "x"\nreason = "{reason}"\n')
    with pytest.raises(ValueError, match="real reason"):
        parse_config('[[waiver]]\nrule = "fct_root_models"\nresource = "x"\nreason = "ok"\n')
    with pytest.raises(ValueError, match="waived twice"):
        parse_config(f"[[waiver]]\n{entry}[[waiver]]\n{entry}")
    with pytest.raises(ValueError, match="unknown dbt-project-evaluator variable"):
        parse_config('[vars]\nstaging_prefix = ["stg_"]\n')
    config = parse_config(f"[vars]\nmodels_fanout_threshold = 4\n[[waiver]]\n{entry}")
    assert config.settings.models_fanout_threshold == 4
    assert config.waivers == (Waiver("fct_root_models", "x", reason),)


def test_the_shipped_waiver_file_parses() -> None:
    config = load_config(PROJECT_DIR / DEFAULT_WAIVERS)
    assert config.waivers
    assert {t.name for t in config.settings.model_types} == {
        "base",
        "staging",
        "intermediate",
        "marts",
        "other",
    }
