"""dbt-project-evaluator's rules, re-implemented in Python over dbt's ``manifest.json``.

dbt Labs' package ``dbt_project_evaluator`` checks a project against its best practices by
building models in the warehouse; hub packages cannot be installed here, so this module applies
the same rules to the manifest that ``dbt parse`` writes (no database, a few seconds). Rule
names, default thresholds and the variables that configure them are the package's (v1.x, for
dbt 1.x), so its documentation explains each rule. A deliberate exception is a *waiver*
(rule, resource, reason) in ``tests/project_evaluator_waivers.toml``, the counterpart of the
package's ``dbt_project_evaluator_exceptions`` seed; that file also holds this project's values
of the package's variables (model types, prefixes, folder names).

Run ``python -m shoplog.project_evaluator`` from the project folder for a report per rule; it
exits non-zero when a violation is not waived or a waiver matches no violation (stale). The
pytest suite (``tests/python/test_project_evaluator.py``) asserts the same.

Where this differs from the package, on purpose:

* ``<type>_folder_name`` may be a list (the package takes one folder per model type).
* ``fct_marts_or_intermediate_dependent_on_source`` flags the model types listed in the
  variable ``downstream_model_types`` (default: intermediate and marts, as the package does).
* ``fct_staging_dependent_on_staging`` also flags a ``base`` model that reads a staging model
  (base models sit upstream of staging); a staging model may read a base model.
* ``fct_model_directories`` also flags a model that is in no folder of its model type when that
  type has folders configured (in the package, SQL's null comparison lets it pass), and checks
  the source folder of base models as well as staging models.
* ``fct_test_directories`` also checks the yml that describes a model (its ``patch_path``).
* Violations of edge rules are named ``parent -> child``, and fan-out rules name the whole set
  of children, so a waiver covers exactly the reviewed case: one more child is a new violation.
* Added: ``fct_undocumented_columns``, every declared column of a model, seed, snapshot or source
  described (a promise of this project; the package only counts model descriptions).
* Coverage rules (``fct_test_coverage``, ``fct_documentation_coverage``) list the models that
  bring the percentage under the target, one violation each, so one can be waived on its own.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

Manifest = Mapping[str, Any]

#: The waiver file, relative to the project folder.
DEFAULT_WAIVERS = Path("tests/project_evaluator_waivers.toml")

#: Resource types that are nodes of the DAG the rules walk (tests are not: a test reading a
#: source does not make the source used, as in the package).
DAG_NODE_TYPES = frozenset({"model", "seed", "snapshot"})
#: Materializations that compute nothing until a reader queries them.
NOT_PHYSICAL = frozenset({"view", "ephemeral"})


# --------------------------------------------------------------------------------------------
# Settings: the package's variables
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelType:
    """One layer of the project: the prefixes its model names take and its folders."""

    name: str
    prefixes: tuple[str, ...]
    folders: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """The package's variables, with its defaults."""

    model_types: tuple[ModelType, ...] = (
        ModelType("staging", ("stg_",), ("staging",)),
        ModelType("intermediate", ("int_",), ("intermediate",)),
        ModelType("marts", ("fct_", "dim_"), ("marts",)),
        ModelType("other", ("rpt_",)),
    )
    models_fanout_threshold: int = 3
    too_many_joins_threshold: int = 7
    #: The package's default for every adapter but Athena, Trino and ClickHouse (4 there):
    #: a chain is flagged when its distance is greater than this.
    chained_views_threshold: int = 5
    test_coverage_target: float = 100.0
    documentation_coverage_target: float = 100.0
    primary_key_test_macros: tuple[tuple[str, ...], ...] = (
        ("dbt.test_unique", "dbt.test_not_null"),
        ("dbt_utils.test_unique_combination_of_columns",),
    )
    enforced_primary_key_node_types: tuple[str, ...] = ("model",)
    #: Model types that must not read a source (this module's variable; see the module doc).
    downstream_model_types: tuple[str, ...] = ("intermediate", "marts")

    def model_type(self, name: str) -> ModelType | None:
        return next((t for t in self.model_types if t.name == name), None)


_SCALAR_VARS: dict[str, type] = {
    "models_fanout_threshold": int,
    "too_many_joins_threshold": int,
    "chained_views_threshold": int,
    "test_coverage_target": float,
    "documentation_coverage_target": float,
}


def _strings(value: object, name: str) -> tuple[str, ...]:
    """A string or a list of strings, as a tuple; anything else is a configuration error."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ValueError(f"{name} must be a string or a list of strings, got {value!r}")


def settings_from_vars(variables: Mapping[str, object]) -> Settings:
    """Settings from the package's variables (``model_types``, ``<type>_prefixes``,
    ``<type>_folder_name``, the thresholds, ...); an unknown variable is an error."""
    defaults = Settings()
    used: set[str] = set()

    default_names = [t.name for t in defaults.model_types]
    type_names = _strings(variables.get("model_types", default_names), "model_types")
    used.add("model_types")
    model_types = []
    for type_name in type_names:
        default = defaults.model_type(type_name)
        prefixes_var, folders_var = f"{type_name}_prefixes", f"{type_name}_folder_name"
        used.update({prefixes_var, folders_var})
        prefixes = (
            _strings(variables[prefixes_var], prefixes_var)
            if prefixes_var in variables
            else (default.prefixes if default else ())
        )
        folders = (
            _strings(variables[folders_var], folders_var)
            if folders_var in variables
            else (default.folders if default else ())
        )
        model_types.append(ModelType(type_name, prefixes, folders))

    values: dict[str, Any] = {"model_types": tuple(model_types)}
    for name, kind in _SCALAR_VARS.items():
        if name in variables:
            used.add(name)
            value = variables[name]
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError(f"{name} must be a number, got {value!r}")
            values[name] = kind(value)
    if "primary_key_test_macros" in variables:
        used.add("primary_key_test_macros")
        raw = variables["primary_key_test_macros"]
        if not isinstance(raw, list):
            raise ValueError("primary_key_test_macros must be a list of lists of test macros")
        values["primary_key_test_macros"] = tuple(
            _strings(entry, "primary_key_test_macros") for entry in raw
        )
    for name in ("enforced_primary_key_node_types", "downstream_model_types"):
        if name in variables:
            used.add(name)
            values[name] = _strings(variables[name], name)

    unknown = sorted(set(variables) - used)
    if unknown:
        raise ValueError(f"unknown dbt-project-evaluator variable(s): {', '.join(unknown)}")
    known_types = {t.name for t in model_types}
    for name in values.get("downstream_model_types", ()):
        if name not in known_types:
            raise ValueError(f"downstream_model_types names an unknown model type: {name}")
    return Settings(**values)


# --------------------------------------------------------------------------------------------
# The project's resources and DAG, from the manifest
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """A model, seed, snapshot, source or exposure of the project (a node of the DAG)."""

    unique_id: str
    name: str
    resource_type: str
    file_path: str
    node: Mapping[str, Any]
    model_type: str | None = None
    folder_type: str | None = None

    @property
    def directory(self) -> PurePosixPath:
        return PurePosixPath(self.file_path).parent

    @property
    def materialized(self) -> str | None:
        config = self.node.get("config") or {}
        value = config.get("materialized")
        return value if isinstance(value, str) else None

    @property
    def prefix(self) -> str:
        return self.name.split("_", 1)[0] + "_"


def _resource_name(node: Mapping[str, Any]) -> str:
    """The package's resource name: ``source_name.name`` for a source, ``name.vN`` for a
    versioned model, else the name."""
    if node["resource_type"] == "source":
        return f"{node['source_name']}.{node['name']}"
    version = node.get("version")
    return f"{node['name']}.v{version}" if version not in (None, "") else str(node["name"])


def _folder_type(directory: PurePosixPath, settings: Settings) -> str | None:
    """The model type of the configured folder nearest the file (the package ranks folder
    names by their position in the path, the last one winning); the model-path root itself is
    not a folder of a type."""
    found = None
    for part in directory.parts[1:]:
        for model_type in settings.model_types:
            if part in model_type.folders:
                found = model_type.name
    return found


def _prefix_type(name: str, settings: Settings) -> str | None:
    prefix = name.split("_", 1)[0] + "_"
    return next((t.name for t in settings.model_types if prefix in t.prefixes), None)


class Project:
    """The resources of the manifest's own package, their DAG and their tests."""

    def __init__(self, manifest: Manifest, settings: Settings) -> None:
        self.settings = settings
        self.package: str = manifest["metadata"]["project_name"]
        self.resources: dict[str, Resource] = {}
        self.tests: list[Mapping[str, Any]] = []

        for unique_id, node in manifest.get("nodes", {}).items():
            if node.get("package_name") != self.package:
                continue
            if node["resource_type"] == "test":
                self.tests.append(node)
            elif node["resource_type"] in DAG_NODE_TYPES:
                self.resources[unique_id] = self._resource(unique_id, node)
        for collection in ("sources", "exposures"):
            for unique_id, node in manifest.get(collection, {}).items():
                if node.get("package_name") == self.package:
                    self.resources[unique_id] = self._resource(unique_id, node)

        self.parents: dict[str, list[str]] = {}
        self.children: dict[str, list[str]] = defaultdict(list)
        for unique_id, resource in self.resources.items():
            depends_on = resource.node.get("depends_on") or {}
            parents = sorted({p for p in depends_on.get("nodes", []) if p in self.resources})
            self.parents[unique_id] = parents
            for parent in parents:
                self.children[parent].append(unique_id)

        self.tests_by_parent: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for test in self.tests:
            parent = primary_parent(test)
            if parent is not None:
                self.tests_by_parent[parent].append(test)

    def _resource(self, unique_id: str, node: Mapping[str, Any]) -> Resource:
        file_path = str(node.get("original_file_path") or "")
        name = _resource_name(node)
        model_type = folder_type = None
        # the package gives model types to every node but tests, sources, seeds, exposures
        if node["resource_type"] in {"model", "snapshot"}:
            folder_type = _folder_type(PurePosixPath(file_path).parent, self.settings)
            model_type = _prefix_type(name, self.settings) or folder_type or "other"
        return Resource(
            unique_id, name, node["resource_type"], file_path, node, model_type, folder_type
        )

    def of_type(self, *resource_types: str) -> list[Resource]:
        return sorted(
            (r for r in self.resources.values() if r.resource_type in resource_types),
            key=lambda r: r.name,
        )

    def name(self, unique_id: str) -> str:
        return self.resources[unique_id].name

    def parent_resources(self, unique_id: str) -> list[Resource]:
        return [self.resources[p] for p in self.parents.get(unique_id, [])]

    def child_resources(self, unique_id: str) -> list[Resource]:
        return sorted((self.resources[c] for c in self.children.get(unique_id, [])), key=_by_name)


def _by_name(resource: Resource) -> str:
    return resource.name


def primary_parent(test: Mapping[str, Any]) -> str | None:
    """The resource a test is about: the node it is attached to (a generic test's model, source
    or seed), else its only parent; a test over several resources belongs to none of them."""
    attached = test.get("attached_node")
    if attached:
        return str(attached)
    parents = (test.get("depends_on") or {}).get("nodes", [])
    return str(parents[0]) if len(parents) == 1 else None


def _test_macros(test: Mapping[str, Any]) -> set[str]:
    """The test macros a test runs, as ``package.test_name`` (``dbt.test_unique``)."""
    macros = (test.get("depends_on") or {}).get("macros", [])
    return {m.removeprefix("macro.") for m in macros}


# --------------------------------------------------------------------------------------------
# Violations and rules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Violation:
    """One finding of one rule. ``resource`` names what it is about; a waiver matches it."""

    rule: str
    resource: str
    detail: str = field(default="", compare=False)


#: What a rule's check returns for each violation: (resource, detail).
Finding = tuple[str, str]


@dataclass(frozen=True)
class Rule:
    name: str
    category: str
    summary: str
    findings: Callable[[Project], Iterable[Finding]]

    def check(self, project: Project) -> list[Violation]:
        return [
            Violation(self.name, resource, detail) for resource, detail in self.findings(project)
        ]


RULES: list[Rule] = []


def rule(category: str, summary: str) -> Callable[[Callable[[Project], Iterable[Finding]]], Rule]:
    """Register a rule, named after the function (the package's model name)."""

    def register(findings: Callable[[Project], Iterable[Finding]]) -> Rule:
        if any(r.name == findings.__name__ for r in RULES):
            raise RuntimeError(f"two rules are named {findings.__name__}")
        registered = Rule(findings.__name__, category, summary, findings)
        RULES.append(registered)
        return registered

    return register


def _edge(parent: Resource, child: Resource) -> str:
    return f"{parent.name} -> {child.name}"


def _models(project: Project) -> list[Resource]:
    return project.of_type("model")


# -- Modeling ---------------------------------------------------------------------------------


@rule("modeling", "a model that reads both a source and a model")
def fct_direct_join_to_source(project: Project) -> Iterator[Finding]:
    for child in _models(project):
        parents = project.parent_resources(child.unique_id)
        sources = [p.name for p in parents if p.resource_type == "source"]
        models = [p.name for p in parents if p.resource_type == "model"]
        if sources and models:
            yield (
                child.name,
                f"reads source(s) {', '.join(sources)} and model(s) {', '.join(models)}",
            )


@rule("modeling", "a model downstream of the source-facing layer that reads a source")
def fct_marts_or_intermediate_dependent_on_source(project: Project) -> Iterator[Finding]:
    downstream = set(project.settings.downstream_model_types)
    for child in _models(project):
        for parent in project.parent_resources(child.unique_id):
            if child.model_type in downstream and parent.resource_type == "source":
                yield _edge(parent, child), f"a {child.model_type} model reads a source"


@rule("modeling", "two source definitions of one database relation")
def fct_duplicate_sources(project: Project) -> Iterator[Finding]:
    by_relation: dict[str, list[str]] = defaultdict(list)
    for source in project.of_type("source"):
        node = source.node
        parts = (node.get("database"), node.get("schema"), node.get("identifier") or node["name"])
        by_relation[".".join(str(p or "").lower() for p in parts)].append(source.name)
    for relation, names in sorted(by_relation.items()):
        if len(names) > 1:
            yield ", ".join(sorted(names)), f"all point at {relation}"


_QUOTE_OPEN = r"[\[`\"']?"
_QUOTE_CLOSE = r"[\]`\"']?"
_NAME_PART = _QUOTE_OPEN + r"\w+" + _QUOTE_CLOSE
#: A relation named in SQL after FROM or JOIN without ref() or source(): a var(), a two- or
#: three-part name, or one quoted name, as the package's regular expressions find them (not
#: after ``distinct``, as in ``is distinct from a.b``).
_HARD_CODED_REFERENCE = re.compile(
    r"(?<!distinct\s)(?:from|join)\s+("
    r"\{\{\s*var\s*\([^)]*\)\s*\}\}"
    rf"|{_NAME_PART}\.{_NAME_PART}(?:\.{_NAME_PART})?(?=\s|$)"
    r"|[\[`\"']\w+[\]`\"'](?=\s|$)"
    r")",
    re.IGNORECASE,
)


def hard_coded_references(sql: str) -> list[str]:
    """The relations ``sql`` names directly instead of through ref() or source()."""
    return sorted({match.group(1).strip() for match in _HARD_CODED_REFERENCE.finditer(sql)})


@rule("modeling", "a relation named in SQL instead of through ref() or source()")
def fct_hard_coded_references(project: Project) -> Iterator[Finding]:
    for model in _models(project):
        if model.node.get("language", "sql") == "sql":
            references = hard_coded_references(str(model.node.get("raw_code") or ""))
            if references:
                yield model.name, ", ".join(references)


@rule("modeling", "a resource with models_fanout_threshold or more direct leaf-model children")
def fct_model_fanout(project: Project) -> Iterator[Finding]:
    threshold = project.settings.models_fanout_threshold
    for parent in sorted(project.resources.values(), key=_by_name):
        leaves = [
            child.name
            for child in project.child_resources(parent.unique_id)
            if child.resource_type == "model" and not project.children.get(child.unique_id)
        ]
        if len(leaves) >= threshold:
            yield (
                f"{parent.name} -> {', '.join(leaves)}",
                f"{len(leaves)} leaf children (threshold {threshold})",
            )


@rule("modeling", "a model that reads more than one source")
def fct_multiple_sources_joined(project: Project) -> Iterator[Finding]:
    for child in sorted(project.resources.values(), key=_by_name):
        parents = project.parent_resources(child.unique_id)
        sources = [p.name for p in parents if p.resource_type == "source"]
        if len(sources) > 1:
            yield child.name, "reads " + ", ".join(sources)


@rule("modeling", "A -> B -> C and A -> C where B has no other child")
def fct_rejoining_of_upstream_concepts(project: Project) -> Iterator[Finding]:
    def children(unique_id: str) -> set[str]:
        return {
            c
            for c in project.children.get(unique_id, [])
            if project.resources[c].resource_type not in {"exposure", "metric"}
        }

    for parent in sorted(project.resources.values(), key=_by_name):
        if parent.resource_type in {"exposure", "metric"}:
            continue
        direct = children(parent.unique_id)
        for between in sorted(direct, key=project.name):
            only_child = children(between)
            if len(only_child) == 1 and only_child <= direct:
                a, b, c = parent.name, project.name(between), project.name(only_child.pop())
                yield (
                    f"{a} -> {b} -> {c}",
                    f"{c} reads {a} directly and through {b}, its only reader",
                )


@rule("modeling", "a model with no parent (no ref() or source())")
def fct_root_models(project: Project) -> Iterator[Finding]:
    for model in _models(project):
        if not project.parents.get(model.unique_id) and model.name != "metricflow_time_spine":
            yield model.name, "no ref() or source()"


@rule("modeling", "a source read by more than one model")
def fct_source_fanout(project: Project) -> Iterator[Finding]:
    for source in project.of_type("source"):
        children = project.child_resources(source.unique_id)
        readers = [c.name for c in children if c.resource_type == "model"]
        if len(readers) > 1:
            yield f"{source.name} -> {', '.join(readers)}", f"{len(readers)} models read it"


def _staging_reads(project: Project, parent_types: set[str]) -> Iterator[Finding]:
    """Edges from a model of ``parent_types`` to a staging or base model."""
    for child in project.of_type("model", "snapshot"):
        if child.model_type not in {"staging", "base"}:
            continue
        for parent in project.parent_resources(child.unique_id):
            if parent.resource_type in {"model", "snapshot"} and parent.model_type in parent_types:
                yield (
                    _edge(parent, child),
                    f"a {child.model_type} model reads a {parent.model_type} model",
                )


@rule("modeling", "a staging (or base) model that reads an intermediate or marts model")
def fct_staging_dependent_on_marts_or_intermediate(project: Project) -> Iterator[Finding]:
    return _staging_reads(project, {"marts", "intermediate"})


@rule("modeling", "a staging (or base) model that reads a staging model")
def fct_staging_dependent_on_staging(project: Project) -> Iterator[Finding]:
    return _staging_reads(project, {"staging"})


@rule("modeling", "a model with too_many_joins_threshold or more direct parents")
def fct_too_many_joins(project: Project) -> Iterator[Finding]:
    threshold = project.settings.too_many_joins_threshold
    for model in _models(project):
        parents = [p.name for p in project.parent_resources(model.unique_id)]
        if len(parents) >= threshold:
            yield (
                model.name,
                f"{len(parents)} parents (threshold {threshold}): {', '.join(parents)}",
            )


@rule("modeling", "a source that no model, seed, snapshot or exposure reads")
def fct_unused_sources(project: Project) -> Iterator[Finding]:
    for source in project.of_type("source"):
        if not project.children.get(source.unique_id):
            yield source.name, "nothing in the DAG reads it (tests aside)"


# -- Testing ----------------------------------------------------------------------------------


def is_primary_key_tested(project: Project, unique_id: str) -> bool:
    """Whether one column has every test of one set of ``primary_key_test_macros`` (a model-level
    test such as unique_combination counts on its own), or a unique test and a not_null
    constraint."""
    by_column: dict[str | None, list[set[str]]] = defaultdict(list)
    for test in project.tests_by_parent.get(unique_id, []):
        by_column[test.get("column_name")].append(_test_macros(test))
    columns = project.resources[unique_id].node.get("columns") or {}
    for column, macro_sets in by_column.items():
        run = set().union(*macro_sets)
        for required in project.settings.primary_key_test_macros:
            if set(required) <= run:
                return True
        constraints = ((columns.get(column) or {}).get("constraints") or []) if column else []
        not_null = any(c.get("type") == "not_null" for c in constraints)
        if "dbt.test_unique" in run and not_null:
            return True
    return False


@rule("testing", "a model without a primary key test (unique + not_null, or a combination)")
def fct_missing_primary_key_tests(project: Project) -> Iterator[Finding]:
    for resource in project.of_type(*project.settings.enforced_primary_key_node_types):
        if not is_primary_key_tested(project, resource.unique_id):
            yield resource.name, "no primary key test"


def _freshness_enabled(source: Resource) -> bool:
    freshness = source.node.get("freshness") or {}
    return any(
        (freshness.get(level) or {}).get("count") is not None
        for level in ("warn_after", "error_after")
    )


@rule("testing", "a source table without a freshness check")
def fct_sources_without_freshness(project: Project) -> Iterator[Finding]:
    for source in project.of_type("source"):
        if not _freshness_enabled(source):
            yield source.name, "no warn_after or error_after"


Coverage = tuple[float, list[Resource]]


def _coverage(project: Project, covered: Callable[[Resource], bool]) -> Coverage:
    """The percentage of the models that are ``covered`` (100 without models), and the others."""
    models = _models(project)
    missing = [m for m in models if not covered(m)]
    percent = round((len(models) - len(missing)) * 100.0 / len(models), 2) if models else 100.0
    return percent, missing


def _under_target(coverage: Coverage, target: float, what: str) -> Iterator[Finding]:
    """One finding per model left out, when the coverage is under the target."""
    percent, missing = coverage
    if percent < target:
        for model in missing:
            yield model.name, f"no {what}; {what} coverage {percent}% < {target}%"


def model_test_coverage(project: Project) -> Coverage:
    """The percentage of models with at least one test, and the untested models."""
    return _coverage(project, lambda model: bool(project.tests_by_parent.get(model.unique_id)))


@rule("testing", "test coverage under test_coverage_target: the untested models")
def fct_test_coverage(project: Project) -> Iterator[Finding]:
    return _under_target(
        model_test_coverage(project), project.settings.test_coverage_target, "test"
    )


# -- Documentation ----------------------------------------------------------------------------


def _described(text: object) -> bool:
    return isinstance(text, str) and bool(text.strip())


@rule("documentation", "a model without a description")
def fct_undocumented_models(project: Project) -> Iterator[Finding]:
    for model in _models(project):
        if not _described(model.node.get("description")):
            yield model.name, "no description"


@rule("documentation", "a source without a description")
def fct_undocumented_sources(project: Project) -> Iterator[Finding]:
    undescribed = {
        str(source.node["source_name"])
        for source in project.of_type("source")
        if not _described(source.node.get("source_description"))
    }
    for name in sorted(undescribed):
        yield name, "no description"


@rule("documentation", "a source table without a description")
def fct_undocumented_source_tables(project: Project) -> Iterator[Finding]:
    for source in project.of_type("source"):
        if not _described(source.node.get("description")):
            yield source.name, "no description"


def documentation_coverage(project: Project) -> Coverage:
    """The percentage of models with a description, and the undescribed models."""
    return _coverage(project, lambda model: _described(model.node.get("description")))


@rule("documentation", "documentation coverage under documentation_coverage_target")
def fct_documentation_coverage(project: Project) -> Iterator[Finding]:
    target = project.settings.documentation_coverage_target
    return _under_target(documentation_coverage(project), target, "documentation")


@rule("documentation", "a declared column without a description (this project's promise)")
def fct_undocumented_columns(project: Project) -> Iterator[Finding]:
    for resource in project.of_type("model", "seed", "snapshot", "source"):
        for column, properties in sorted((resource.node.get("columns") or {}).items()):
            if not _described((properties or {}).get("description")):
                yield f"{resource.name}.{column}", "no description"


# -- Structure --------------------------------------------------------------------------------


@rule("structure", "a model whose prefix is not one of its model type's prefixes")
def fct_model_naming_conventions(project: Project) -> Iterator[Finding]:
    for model in _models(project):
        model_type = project.settings.model_type(model.model_type or "other")
        allowed = model_type.prefixes if model_type else ()
        if model.prefix not in allowed:
            yield model.name, f"a {model.model_type} model: prefixes {', '.join(allowed) or 'none'}"


@rule("structure", "a model outside its model type's folder (staging: its source's folder)")
def fct_model_directories(project: Project) -> Iterator[Finding]:
    for model in _models(project):
        model_type = project.settings.model_type(model.model_type or "other")
        folders = model_type.folders if model_type else ()
        if folders and model.folder_type != model.model_type:
            nearest = model.folder_type or "no typed folder"
            yield (
                model.name,
                f"a {model.model_type} model belongs under {' or '.join(folders)}/, "
                f"not {model.directory}/ ({nearest})",
            )
        elif model.model_type in {"staging", "base"}:
            for parent in project.parent_resources(model.unique_id):
                source_name = str(parent.node.get("source_name") or "")
                if parent.resource_type == "source" and source_name not in model.directory.parts:
                    yield (
                        model.name,
                        f"reads {parent.name}, so belongs under a {source_name}/ folder",
                    )


@rule("structure", "a source defined outside a folder named after it")
def fct_source_directories(project: Project) -> Iterator[Finding]:
    for source in project.of_type("source"):
        source_name = str(source.node["source_name"])
        if source_name not in source.directory.parts:
            yield source.name, f"defined in {source.file_path}, not under a {source_name}/ folder"


def _yml_path(patch_path: str) -> str:
    """``shoplog://models/x/_x.yml`` -> ``models/x/_x.yml``."""
    return patch_path.split("://", 1)[-1]


@rule("structure", "a model's tests or description in a yml outside the model's folder")
def fct_test_directories(project: Project) -> Iterator[Finding]:
    for model in _models(project):
        ymls = [_yml_path(str(model.node.get("patch_path") or ""))]
        ymls += [
            str(test.get("original_file_path") or "")
            for test in project.tests_by_parent.get(model.unique_id, [])
            if test.get("test_metadata")  # a generic test, defined in a yml
        ]
        misplaced = sorted({y for y in ymls if y and PurePosixPath(y).parent != model.directory})
        if misplaced:
            yield model.name, f"{', '.join(misplaced)} (the model is in {model.directory}/)"


# -- Performance ------------------------------------------------------------------------------


def longest_view_chain(project: Project, unique_id: str) -> list[str]:
    """The longest path ``a -> ... -> unique_id`` whose nodes before the last are all views or
    ephemeral models (empty when no parent is one)."""
    memo: dict[str, list[str]] = {}

    def views_before(node: str) -> list[str]:
        if node not in memo:
            best: list[str] = []
            for parent in project.parents.get(node, []):
                resource = project.resources[parent]
                if resource.resource_type == "model" and resource.materialized in NOT_PHYSICAL:
                    candidate = [*views_before(parent), parent]
                    if len(candidate) > len(best):
                        best = candidate
            memo[node] = best
        return memo[node]

    views = views_before(unique_id)
    return [*views, unique_id] if views else []


@rule("performance", "a model at the end of a chain of views longer than the threshold")
def fct_chained_views_dependencies(project: Project) -> Iterator[Finding]:
    threshold = project.settings.chained_views_threshold
    for model in _models(project):
        path = [project.name(p) for p in longest_view_chain(project, model.unique_id)]
        if len(path) - 1 > threshold:
            yield model.name, f"distance {len(path) - 1} > {threshold}: {' -> '.join(path)}"


@rule("performance", "an exposure that reads a source, a view or an ephemeral model")
def fct_exposure_parents_materializations(project: Project) -> Iterator[Finding]:
    for exposure in project.of_type("exposure"):
        for parent in project.parent_resources(exposure.unique_id):
            if parent.resource_type == "source":
                yield _edge(parent, exposure), "the exposure reads a source"
            elif parent.resource_type == "model" and parent.materialized in NOT_PHYSICAL:
                yield _edge(parent, exposure), f"the exposure reads a {parent.materialized}"


def evaluate(manifest: Manifest, settings: Settings) -> list[Violation]:
    """Every violation of every rule, sorted by rule and resource."""
    project = Project(manifest, settings)
    return sorted(v for r in RULES for v in r.check(project))


# --------------------------------------------------------------------------------------------
# Waivers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiver:
    """A deliberate exception: a violation of ``rule`` on ``resource``, accepted for ``reason``."""

    rule: str
    resource: str
    reason: str


@dataclass(frozen=True)
class Config:
    """The waiver file: this project's values of the package's variables, and its waivers."""

    settings: Settings
    waivers: tuple[Waiver, ...]


def parse_config(text: str, origin: str = "waivers") -> Config:
    """The waiver file's content (TOML: a ``[vars]`` table and ``[[waiver]]`` entries)."""
    data = tomllib.loads(text)
    unknown = set(data) - {"vars", "waiver"}
    if unknown:
        raise ValueError(f"{origin}: unknown table(s) {', '.join(sorted(unknown))}")
    variables = data.get("vars", {})
    settings = settings_from_vars(variables)
    rule_names = {r.name for r in RULES}
    waivers = []
    for n, entry in enumerate(data.get("waiver", []), start=1):
        if set(entry) != {"rule", "resource", "reason"}:
            raise ValueError(f"{origin}: waiver {n} needs exactly rule, resource and reason")
        if entry["rule"] not in rule_names:
            raise ValueError(f"{origin}: waiver {n} names an unknown rule {entry['rule']!r}")
        if len(str(entry["reason"]).split()) < 8:
            raise ValueError(f"{origin}: waiver {n} ({entry['resource']}) needs a real reason")
        waivers.append(Waiver(entry["rule"], entry["resource"], " ".join(entry["reason"].split())))
    keys = [(w.rule, w.resource) for w in waivers]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"{origin}: waived twice: {duplicates}")
    return Config(settings, tuple(waivers))


def load_config(path: Path) -> Config:
    return parse_config(path.read_text(), str(path))


@dataclass(frozen=True)
class Outcome:
    """The violations split into waived and undocumented, and the waivers that match nothing."""

    violations: tuple[Violation, ...]
    waived: tuple[tuple[Violation, Waiver], ...]
    undocumented: tuple[Violation, ...]
    stale: tuple[Waiver, ...]

    @property
    def ok(self) -> bool:
        return not self.undocumented and not self.stale


def reconcile(violations: Iterable[Violation], waivers: Sequence[Waiver]) -> Outcome:
    by_key = {(w.rule, w.resource): w for w in waivers}
    found = sorted(set(violations))
    waived = [(v, by_key[(v.rule, v.resource)]) for v in found if (v.rule, v.resource) in by_key]
    matched = {(v.rule, v.resource) for v, _ in waived}
    return Outcome(
        violations=tuple(found),
        waived=tuple(waived),
        undocumented=tuple(v for v in found if (v.rule, v.resource) not in by_key),
        stale=tuple(w for w in waivers if (w.rule, w.resource) not in matched),
    )


# --------------------------------------------------------------------------------------------
# The manifest: dbt parse
# --------------------------------------------------------------------------------------------


def parse_manifest(project_dir: Path, target_path: Path | None = None) -> dict[str, Any]:
    """Run ``dbt parse`` on the project (through :func:`shoplog.build.run_dbt`, the one seam to
    dbt) into ``target_path`` (a temporary folder by default, so the project's ``target/`` is
    left alone) and return the manifest. Parsing opens no database."""
    from shoplog.build import run_dbt

    project_dir = project_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="shoplog-evaluator-") as scratch:
        target = target_path or Path(scratch) / "target"
        outcome = run_dbt(
            ["parse", "--no-partial-parse"],
            project_dir,
            Path(scratch) / "parse-only.duckdb",
            quiet=True,
            target_path=target,
            log_path=Path(scratch) / "logs",
        )
        if not outcome.success:
            raise RuntimeError(f"dbt parse failed: {outcome.failures}")
        manifest: dict[str, Any] = json.loads((target / "manifest.json").read_text())
    return manifest


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def report(outcome: Outcome, project: Project | None = None) -> str:
    """A plain-text report: one line per rule (violations, waived, undocumented), then every
    undocumented violation and stale waiver, then the waived ones."""
    counts: dict[str, list[int]] = {r.name: [0, 0] for r in RULES}
    for violation in outcome.violations:
        counts[violation.rule][0] += 1
    for violation, _ in outcome.waived:
        counts[violation.rule][1] += 1
    width = max(len(r.name) for r in RULES)
    lines = [f"{'rule':<{width}}  {'category':<13}  found  waived  undocumented"]
    for r in RULES:
        found, waived = counts[r.name]
        lines.append(
            f"{r.name:<{width}}  {r.category:<13}  {found:>5}  {waived:>6}  {found - waived:>12}"
        )
    if project is not None:
        tests, _ = model_test_coverage(project)
        docs, _ = documentation_coverage(project)
        lines.append(f"\ntest coverage {tests}%, documentation coverage {docs}% of models")
    lines.append(
        f"\n{len(outcome.violations)} violations: {len(outcome.waived)} waived, "
        f"{len(outcome.undocumented)} undocumented; {len(outcome.stale)} stale waivers"
    )
    if outcome.undocumented:
        lines.append("\nUndocumented violations (fix them, or add a waiver with a reason):")
        lines += [f"  {v.rule}: {v.resource}  [{v.detail}]" for v in outcome.undocumented]
    if outcome.stale:
        lines.append("\nStale waivers (no such violation any more: remove them):")
        lines += [f"  {w.rule}: {w.resource}" for w in outcome.stale]
    if outcome.waived:
        lines.append("\nWaived:")
        lines += [f"  {v.rule}: {v.resource}\n      {w.reason}" for v, w in outcome.waived]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shoplog.project_evaluator",
        description="dbt-project-evaluator's rules over the project's manifest, with waivers.",
    )
    parser.add_argument("--project-dir", type=Path, default=Path.cwd(), help="the dbt project")
    parser.add_argument(
        "--manifest", type=Path, help="an existing manifest.json (default: run dbt parse)"
    )
    parser.add_argument("--waivers", type=Path, help=f"default: <project>/{DEFAULT_WAIVERS}")
    parser.add_argument("--json", action="store_true", help="print the violations as JSON")
    args = parser.parse_args(argv)

    config = load_config(args.waivers or args.project_dir / DEFAULT_WAIVERS)
    manifest = (
        json.loads(args.manifest.read_text()) if args.manifest else parse_manifest(args.project_dir)
    )
    project = Project(manifest, config.settings)
    outcome = reconcile(sorted(v for r in RULES for v in r.check(project)), config.waivers)
    if args.json:
        print(
            json.dumps(
                {
                    "undocumented": [asdict(v) for v in outcome.undocumented],
                    "waived": [asdict(v) | {"reason": w.reason} for v, w in outcome.waived],
                    "stale": [asdict(w) for w in outcome.stale],
                },
                indent=2,
            )
        )
    else:
        print(report(outcome, project))
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
