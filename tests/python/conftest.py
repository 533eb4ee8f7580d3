"""Shared fixtures: a small generated log, loaded and built once per test session."""

from __future__ import annotations

import json
import os
import pprint
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from shoplog.build import run_dbt
from shoplog.generate import Faults, generate
from shoplog.keys import pseudonym as keyed_pseudonym
from shoplog.load import load

PROJECT_DIR = Path(__file__).resolve().parents[2]

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
#: The dbt unit tests run once, in test_unit_tests.py; every other build of the suite leaves them
#: out (they would add about a minute to each).
os.environ["DBT_EXCLUDE_RESOURCE_TYPES"] = "unit_test"
#: dbt's file log (dbt.log, at debug level) costs about 13% of a small build's CPU and no test
#: reads it but test_build.py's, which asks for it; set DBT_LOG_LEVEL_FILE=debug to keep it.
os.environ.setdefault("DBT_LOG_LEVEL_FILE", "none")
#: The pseudonymisation key of every build the tests make (never a real deployment's key).
TEST_KEY = "test-only-pseudonym-key"
os.environ["SHOPLOG_PSEUDONYM_KEY"] = TEST_KEY


def pseudonym(value: str) -> str:
    """The keyed pseudonym the models write for ``value`` under the test key."""
    return keyed_pseudonym(value, TEST_KEY.encode())


def person_key(identifier_type: str, identifier_value: str) -> str:
    """The person key of a person whose root identifier is (type, value), under the test key."""
    return pseudonym(f"{identifier_type}|{identifier_value}")


#: Faults on at small rates, so every quarantine reason and the duplicate ledger have rows.
SMALL_FAULTS = Faults(
    duplicate_rate=0.01,
    late_rate=0.01,
    skew_rate=0.005,
    malformed_rate=0.005,
    unknown_type_rate=0.005,
    v2_rate=0.2,
)


#: Added to the builds of tests that are not about dbt's unit tests: those do not read the log,
#: so the session build (``built_db``) runs them once and no other build repeats them.
NO_UNIT_TESTS = ["--exclude", "resource_type:unit_test"]

#: Tests that read ``built_db`` run in one pytest-xdist worker (``--dist loadgroup``), so the
#: session build is made once, not once per worker.
BUILT_DB = pytest.mark.xdist_group("built_db")


def _parse_once_per_database_name() -> None:
    """Let a worker's builds of databases with the same file name share dbt's partial parse.

    dbt reparses the whole project (about 5 s of CPU) when the profile's connection details differ
    from the previous invocation's, and the database's path is one of them, so each new test
    database would cost a full parse. What parsing depends on is the database's *name* (dbt-duckdb
    takes it from the file's stem and writes it into every node), not where the file lies: the
    state check below still compares every connection detail but the path, so a change of name,
    schema or settings, of ``--vars`` or of any project file still reparses as dbt would. Applies
    to the suite's in-process dbt invocations only; the main job's builds are as dbt has them."""
    from dbt.contracts.files import FileHash
    from dbt.parser.manifest import ManifestLoader

    state_check = ManifestLoader.build_manifest_state_check

    def without_the_path(loader: ManifestLoader) -> Any:
        state = state_check(loader)
        details = sorted(
            (key, value)
            for key, value in loader.root_project.credentials.connection_info()
            if key != "path"
        )
        state.profile_hash = FileHash.from_contents(pprint.pformat(details))
        return state

    ManifestLoader.build_manifest_state_check = without_the_path  # type: ignore[method-assign]


_parse_once_per_database_name()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make ``--dist loadgroup`` group by ``xdist_group`` on pytest 9.2: pytest-xdist 3.8 marks
    a group by renaming the item's ``_nodeid``, which pytest 9.2 (structured node ids) no longer
    reads (pytest-xdist issue #1386), so every grouped test would be scheduled on its own. Drop
    this once pytest-xdist sets the structured id itself."""
    if not getattr(config.option, "loadgroup", False):
        return
    _longest_first(items)
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # an older pytest: xdist's own renaming works
        return
    for item in items:
        mark = _group(item)
        if mark is None or not hasattr(item, "_id"):
            continue
        suffix = f"@{mark}"
        if not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)


def _group(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("xdist_group")
    if mark is None:
        return None
    return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))


def _longest_first(items: list[pytest.Item]) -> None:
    """Order the work units (an ``xdist_group``, or a test of none) longest first, so that the
    short ones fill the workers' ends: the dbt-building units (``e2e``) that share a fixture,
    then the other dbt-building ones, then the rest, each in collection order. pytest-xdist
    hands units out in this order with ``--no-loadscope-reorder`` (the Makefile's)."""
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        units.setdefault(_group(item) or item.nodeid, []).append(item)

    def weight(unit: list[pytest.Item]) -> int:
        builds = any(item.get_closest_marker("e2e") for item in unit)
        return 2 * builds + (len(unit) > 1)

    items[:] = [item for unit in sorted(units.values(), key=weight, reverse=True) for item in unit]


@pytest.fixture(scope="session", autouse=True)
def dbt_paths_of_this_worker(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test process (each pytest-xdist worker) gets its own dbt target and log folders:
    two dbt runs in one project folder would otherwise share target/ (run_results.json, the
    manifest, partial_parse.msgpack) and logs/. A build that names --target-path keeps it."""
    os.environ["DBT_TARGET_PATH"] = str(tmp_path_factory.mktemp("dbt_target"))
    os.environ["DBT_LOG_PATH"] = str(tmp_path_factory.mktemp("dbt_logs"))


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    generate(
        out=out,
        start=date(2026, 1, 1),
        days=10,
        users=300,
        seed=7,
        faults=SMALL_FAULTS,
        progress=False,
    )
    return out


@pytest.fixture(scope="session")
def built_db(small_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small log loaded and `dbt build` run on it; fails the session if the build fails."""
    database = tmp_path_factory.mktemp("db") / "log.duckdb"
    load(small_landing, database, progress=False, from_partition=True)
    outcome = run_dbt(["build"], PROJECT_DIR, database, quiet=True)
    assert outcome.success, outcome.failures
    return database


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def make_event(n: int, source: str, event_type: str, at: str, properties=None, **fields) -> dict:
    """An event of the standard received at its event time ``at`` (ISO, UTC, ``Z``)."""
    return {
        "event_id": f"e{n:04d}",
        "event_type": event_type,
        "schema_version": 1,
        "source": source,
        "event_time": at,
        "received_at": at,
        **fields,
        "properties": properties or {},
    }


def write_landing(root: Path, events: list[dict]) -> Path:
    """Land ``events`` as plain NDJSON files partitioned by source and received hour."""
    files: dict[Path, list[str]] = {}
    for event in events:
        day, hour = event["received_at"][:10], event["received_at"][11:13]
        folder = root / f"source={event['source']}" / f"date={day}" / f"hour={hour}"
        files.setdefault(folder / "part-00000.ndjson", []).append(json.dumps(event))
    for path, lines in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    return root


def load_as_received(events: list[dict], root: Path, database: Path) -> None:
    """Land and load each received instant's events as its own file, loaded at that instant: a
    log whose knowledge clock moves event by event, as a hand-built case expects."""
    from datetime import datetime

    by_time: dict[str, list[dict]] = {}
    for event in events:
        by_time.setdefault(event["received_at"], []).append(event)
    landing = root / "landing"
    for step, (received, batch) in enumerate(sorted(by_time.items())):
        for n, event in enumerate(batch):
            day, hour = received[:10], received[11:13]
            path = (
                landing
                / f"source={event['source']}/date={day}/hour={hour}/part-{step:05d}-{n:03d}.ndjson"
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(event) + "\n")
        moment = datetime.fromisoformat(received.replace("Z", "+00:00")).replace(tzinfo=None)
        load(landing, database, progress=False, loaded_at=moment)


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    """The project's manifest: one `dbt parse` into a temporary target path, per worker."""
    from shoplog.project_evaluator import parse_manifest

    return parse_manifest(PROJECT_DIR)
