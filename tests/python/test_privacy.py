"""The privacy invariant: a deletion request removes the person from every mart and feature on
the next build, from an ``as_of`` build of a time before the request, and from a replay."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from shoplog.build import run_dbt
from shoplog.load import load
from shoplog.replay import replay

from .conftest import PROJECT_DIR, make_event, query, write_landing

FORGOTTEN = [
    make_event(1, "web", "page_view", "2026-01-01T00:10:00.000Z", anonymous_id="a1"),
    make_event(
        2, "web", "signup", "2026-01-01T00:20:00.000Z", anonymous_id="a1", user_id="u1",
        email="one@x.com",
    ),
    make_event(
        3, "shop", "order_created", "2026-01-01T00:30:00.000Z",
        {"currency": "EUR", "total_amount": 10.0, "lines": []},
        order_id="o_1", user_id="u1", email="one@x.com",
    ),
    make_event(4, "web", "page_view", "2026-01-01T01:00:00.000Z", anonymous_id="a2"),
    make_event(
        5, "web", "signup", "2026-01-01T01:05:00.000Z", anonymous_id="a2", user_id="u2",
        email="two@x.com",
    ),
]  # fmt: skip
REQUEST = make_event(
    6,
    "privacy",
    "deletion_requested",
    "2026-01-02T10:00:00.000Z",
    {"request_id": "dr_1"},
    user_id="u1",
    email=" One@X.com",
)


def _build(database: Path, *args: str) -> None:
    outcome = run_dbt(["build", *args], PROJECT_DIR, database, quiet=True)
    assert outcome.success, outcome.failures


def _person_rows(database: Path) -> dict[str, list[tuple]]:
    one = hashlib.md5(b"anonymous_id|a1").hexdigest()
    return {
        "dim_persons": query(database, "select person_key from marts.dim_persons order by 1"),
        "dim_customers": query(database, "select user_id from marts.dim_customers order by 1"),
        "fct_sessions": query(database, "select anonymous_id from marts.fct_sessions order by 1"),
        "fct_orders": query(
            database,
            "select order_id, person_key, user_id, is_person_erased, total_amount "
            "from marts.fct_orders",
        ),
        "feat_person_daily": query(
            database,
            f"select count(*) from features.feat_person_daily where person_key = '{one}'",
        ),
        "snap_customer_attributes": query(
            database, "select user_id from snapshots.snap_customer_attributes order by 1"
        ),
    }


@pytest.fixture(scope="module")
def erased(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The log built before the request, then again after it."""
    root = tmp_path_factory.mktemp("privacy")
    database = root / "log.duckdb"
    load(write_landing(root / "landing", FORGOTTEN), database, progress=False, from_partition=True)
    _build(database)
    assert _person_rows(database)["dim_customers"] == [("u1",), ("u2",)]  # before: both there
    load(
        write_landing(root / "landing", [*FORGOTTEN, REQUEST]),
        database,
        progress=False,
        from_partition=True,
    )
    _build(database)
    return database


EXPECTED_AFTER = {
    "dim_persons": [(hashlib.md5(b"anonymous_id|a2").hexdigest(),)],
    "dim_customers": [("u2",)],
    "fct_sessions": [("a2",)],
    "fct_orders": [("o_1", None, None, True, 10)],  # the books keep the order, not the person
    "feat_person_daily": [(0,)],
    "snap_customer_attributes": [("u2",)],
}


def test_the_next_build_removes_the_person_everywhere(erased: Path) -> None:
    assert _person_rows(erased) == EXPECTED_AFTER


def test_an_as_of_build_of_a_time_before_the_request_leaves_the_person_out(
    erased: Path, tmp_path: Path
) -> None:
    database = tmp_path / "copy.duckdb"
    database.write_bytes(erased.read_bytes())

    _build(database, "--full-refresh", "--vars", "{as_of: '2026-01-01 12:00:00'}")

    assert _person_rows(database) == EXPECTED_AFTER


def test_a_replay_of_the_snapshots_leaves_the_person_out(erased: Path, tmp_path: Path) -> None:
    replay(erased, tmp_path / "replayed.duckdb", PROJECT_DIR)

    assert query(
        tmp_path / "replayed.duckdb",
        "select user_id from snapshots.snap_customer_attributes order by 1",
    ) == [("u2",)]


def test_a_request_naming_a_shared_mailbox_erases_only_the_requesting_account(
    tmp_path: Path,
) -> None:
    family = [
        make_event(
            1, "web", "signup", "2026-01-01T00:10:00.000Z", anonymous_id="a3", user_id="u3",
            email="fam@x.com",
        ),
        make_event(
            2, "web", "signup", "2026-01-01T00:20:00.000Z", anonymous_id="a4", user_id="u4",
            email="fam@x.com",
        ),
        make_event(
            3, "privacy", "deletion_requested", "2026-01-02T10:00:00.000Z",
            {"request_id": "dr_2"}, user_id="u4", email="fam@x.com",
        ),
    ]  # fmt: skip
    database = tmp_path / "log.duckdb"
    load(write_landing(tmp_path / "landing", family), database, progress=False, from_partition=True)

    _build(database)

    assert query(database, "select user_id from marts.dim_customers order by 1") == [("u3",)]
    assert query(database, "select anonymous_id from marts.fct_sessions order by 1") == [("a3",)]
