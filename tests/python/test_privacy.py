"""The privacy invariant: a deletion request removes the person from every mart and feature on
the next build, from an ``as_of`` build of a time before the request, and from a replay."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import duckdb
import pytest

from shoplog.build import run_dbt
from shoplog.load import load
from shoplog.replay import replay

from .conftest import (
    BUILT_DB,
    NO_UNIT_TESTS,
    PROJECT_DIR,
    TEST_KEY,
    make_event,
    person_key,
    pseudonym,
    query,
    write_landing,
)

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
    outcome = run_dbt(["build", *args, *NO_UNIT_TESTS], PROJECT_DIR, database, quiet=True)
    assert outcome.success, outcome.failures


#: Tests that read one module fixture run in one pytest-xdist worker (``--dist loadgroup``).
ERASED = pytest.mark.xdist_group("privacy_erased")
REQUESTS = pytest.mark.xdist_group("privacy_requests")


def _person_rows(database: Path) -> dict[str, list[tuple]]:
    one = person_key("anonymous_id", "a1")
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
    "dim_persons": [(person_key("anonymous_id", "a2"),)],
    "dim_customers": [("u2",)],
    "fct_sessions": [("a2",)],
    "fct_orders": [("o_1", None, None, True, 10)],  # the books keep the order, not the person
    "feat_person_daily": [(0,)],
    "snap_customer_attributes": [("u2",)],
}


@pytest.mark.e2e
@ERASED
def test_the_next_build_removes_the_person_everywhere(erased: Path) -> None:
    assert _person_rows(erased) == EXPECTED_AFTER


@pytest.mark.e2e
@ERASED
def test_an_as_of_build_of_a_time_before_the_request_leaves_the_person_out(
    erased: Path, tmp_path: Path
) -> None:
    database = tmp_path / "log.duckdb"  # a copy, named as ``erased`` (dbt need not reparse)
    database.write_bytes(erased.read_bytes())

    _build(database, "--full-refresh", "--vars", "{as_of: '2026-01-01 12:00:00'}")

    assert _person_rows(database) == EXPECTED_AFTER


@pytest.mark.e2e
@ERASED
def test_a_replay_of_the_snapshots_leaves_the_person_out(erased: Path, tmp_path: Path) -> None:
    replay(erased, tmp_path / "replayed.duckdb", PROJECT_DIR)

    assert query(
        tmp_path / "replayed.duckdb",
        "select user_id from snapshots.snap_customer_attributes order by 1",
    ) == [("u2",)]


# --------------------------------------------------------------------------- issue: defensible
PLANTED_EMAIL = "planted.person@leak.example"
PLANTED_IPV4 = "203.0.113.77"
PLANTED_IPV6 = "2001:db8:85a3::8a2e:370:7334"
PLANTED = [PLANTED_EMAIL, PLANTED_EMAIL.replace("@", "%40"), PLANTED_IPV4, PLANTED_IPV6]


def _planted_events() -> list[dict]:
    """Personal data written into every free-text field and identifier a producer fills."""
    context = {
        "page_url": f"https://shop.example/p?email={PLANTED_EMAIL}&token=s3cret#ip={PLANTED_IPV4}",
        "path": f"/account/{PLANTED_EMAIL}",
        "referrer": (
            f"https://mail.example/?to={PLANTED_EMAIL.replace('@', '%40')}&from={PLANTED_IPV6}"
        ),
        "host": "shop.example",
        "user_agent": f"Mozilla/5.0 (X11) Chrome/120.0.0.0 via {PLANTED_IPV4}",
        "ip": PLANTED_IPV4,
        "campaign": f"retarget-{PLANTED_EMAIL}",
    }
    return [
        make_event(
            1, "web", "page_view", "2026-01-01T00:10:00.000Z",
            {"page_type": "home", "title": f"Hello {PLANTED_EMAIL} from {PLANTED_IPV6}"},
            anonymous_id=PLANTED_EMAIL, context=context,
        ),
        make_event(
            2, "web", "signup", "2026-01-01T00:11:00.000Z", anonymous_id=PLANTED_EMAIL,
            user_id=PLANTED_IPV4, email=PLANTED_EMAIL, context=context,
        ),
        make_event(
            3, "web", "page_view", "2026-01-01T00:12:00.000Z",
            {"page_type": "home", "title": "t"}, anonymous_id=PLANTED_IPV6, context=context,
        ),
        make_event(
            4, "shop", "order_created", "2026-01-01T00:13:00.000Z",
            {"currency": "EUR", "total_amount": 10.0, "lines": []},
            order_id=f"o_{PLANTED_EMAIL}", user_id=PLANTED_IPV4, email=PLANTED_EMAIL,
        ),
        make_event(
            5, "shop", "order_refunded", "2026-01-01T00:20:00.000Z",
            {"amount": 10.0, "currency": "EUR", "reason": f"asked by {PLANTED_EMAIL}"},
            order_id=f"o_{PLANTED_EMAIL}",
        ),
        make_event(
            6, "payments", "payment_captured", "2026-01-01T00:14:00.000Z",
            {"payment_id": "pay_1", "amount": 10.0, "currency": "EUR", "method": "card",
             "failure_reason": PLANTED_IPV4},
            payment_customer_id=PLANTED_EMAIL, order_id=f"o_{PLANTED_EMAIL}",
        ),
    ]  # fmt: skip


def _text_cells(database: Path, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    """(relation.column, value) of every text cell of every relation in ``schemas``."""
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema in "
            f"({', '.join(repr(s) for s in schemas)})"
        ).fetchall()
        cells = []
        for schema, table, column in columns:
            rows = con.execute(
                f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null'
            ).fetchall()
            cells += [(f"{schema}.{table}.{column}", value) for (value,) in rows]
    return cells


EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@pytest.mark.e2e
def test_planted_emails_and_ips_reach_no_mart_feature_snapshot_or_docs(tmp_path: Path) -> None:
    database = tmp_path / "log.duckdb"
    load(
        write_landing(tmp_path / "landing", _planted_events()),
        database,
        progress=False,
        from_partition=True,
    )
    _build(database)
    docs = tmp_path / "docs_target"
    outcome = run_dbt(
        ["docs", "generate", "--target-path", str(docs)], PROJECT_DIR, database, quiet=True
    )
    assert outcome.success, outcome.failures

    assert query(database, "select count(*) from staging.stg_raw__quarantine") == [(0,)]
    cells = _text_cells(database, ("marts", "features", "snapshots", "core", "identity"))
    found = [
        (where, value)
        for where, value in cells
        if any(p.lower() in value.lower() for p in PLANTED) or EMAIL_PATTERN.search(value)
    ]
    docs_text = "\n".join(p.read_text(errors="replace") for p in docs.rglob("*") if p.is_file())
    assert len(cells) > 100
    assert found == []
    assert [p for p in PLANTED if p in docs_text] == []
    assert TEST_KEY not in docs_text
    # the planted values were staged and are there in scrubbed form, not dropped
    assert query(
        database,
        "select distinct landing_path, referrer, campaign from marts.fct_sessions",
    ) == [("/account/[email]", "https://mail.example/?to=[email]&from=[ip]", "[email]")]
    assert query(database, "select distinct page_url from core.int_web_events__sessionized") == [
        ("https://shop.example/p?email=[redacted]&token=[redacted]#ip=[redacted]",)
    ]


@BUILT_DB
def test_hashing_candidate_emails_without_the_key_matches_nothing(
    built_db: Path, small_landing: Path
) -> None:
    raw = [
        json.loads(line)
        for path in small_landing.rglob("*.ndjson.gz")
        for line in gzip.decompress(path.read_bytes()).decode().splitlines()
        if line.startswith("{") and line.endswith("}")
    ]
    emails = {e["email"].strip().lower() for e in raw if isinstance(e.get("email"), str)}
    identifiers = {
        (kind, e[kind]) for e in raw for kind in ("anonymous_id", "user_id") if e.get(kind)
    }
    dictionary = {hashlib.sha256(email.encode()).hexdigest() for email in emails}
    dictionary |= {hashlib.md5(f"{k}|{v}".encode()).hexdigest() for k, v in identifiers}
    dictionary |= {hashlib.sha256(f"{k}|{v}".encode()).hexdigest() for k, v in identifiers}
    published = {
        value
        for where, value in _text_cells(built_db, ("marts", "features", "snapshots", "identity"))
        if where.endswith(("email_hash", "person_key", "identifier_value"))
    }

    assert len(emails) > 100 and len(published) > 500
    assert dictionary & published == set()
    # with the key, the same candidates do match: the pseudonyms are the keyed hashes
    assert {pseudonym(email) for email in emails} & published


#: Two accounts sharing a mailbox; the second asks to be forgotten by account and email.
SHARED_MAILBOX = [
    make_event(
        21, "web", "signup", "2026-01-01T00:10:00.000Z", anonymous_id="a7", user_id="u7",
        email="fam@x.com",
    ),
    make_event(
        22, "web", "signup", "2026-01-01T00:20:00.000Z", anonymous_id="a8", user_id="u8",
        email="fam@x.com",
    ),
    make_event(
        23, "privacy", "deletion_requested", "2026-01-02T10:00:00.000Z",
        {"request_id": "dr_2"}, user_id="u8", email="fam@x.com",
    ),
]  # fmt: skip


def _requests_as_data(landing: Path) -> None:
    """Three persons; a request for p1 whose event type is written with a JSON escape, a forged
    request for p2 landed in the web partition, and a request for p3 with a padded email."""
    persons = [
        make_event(
            n, "web", "signup", f"2026-01-01T00:{10 + n}:00.000Z", anonymous_id=f"a{n}",
            user_id=f"u{n}", email=f"p{n}@x.com",
        )
        for n in (1, 2, 3)
    ]  # fmt: skip
    escaped = make_event(
        11, "privacy", "deletion_requested", "2026-01-02T10:00:00.000Z",
        {"request_id": "dr_11"}, user_id="u1", email="p1@x.com",
    )  # fmt: skip
    forged = make_event(
        12, "privacy", "deletion_requested", "2026-01-02T10:01:00.000Z",
        {"request_id": "dr_12"}, user_id="u2", email="p2@x.com",
    )  # fmt: skip
    padded = make_event(
        13, "privacy", "deletion_requested", "2026-01-02T10:02:00.000Z",
        {"request_id": "dr_13"}, email="\u00a0P3@X.com\t\u2003",
    )  # fmt: skip
    write_landing(landing, [*persons, padded, *SHARED_MAILBOX])
    privacy = landing / "source=privacy/date=2026-01-02/hour=10"
    (privacy / "part-00001.ndjson").write_text(
        json.dumps(escaped).replace('"deletion_requested"', '"deletion\\u005frequested"') + "\n"
    )
    web = landing / "source=web/date=2026-01-02/hour=10"
    web.mkdir(parents=True)
    (web / "part-00001.ndjson").write_text(json.dumps(forged) + "\n")


@pytest.fixture(scope="module")
def requested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One log, built once, holding two independent cases of deletion requests (disjoint
    persons, identifiers and event ids): the shared mailbox and the requests read as data."""
    root = tmp_path_factory.mktemp("requests")
    database = root / "log.duckdb"
    _requests_as_data(root / "landing")
    load(root / "landing", database, progress=False, from_partition=True)
    _build(database)
    return database


@pytest.mark.e2e
@REQUESTS
def test_a_request_naming_a_shared_mailbox_erases_only_the_requesting_account(
    requested: Path,
) -> None:
    assert query(
        requested, "select user_id from marts.dim_customers where user_id in ('u7', 'u8')"
    ) == [("u7",)]
    assert query(
        requested,
        "select anonymous_id from marts.fct_sessions where anonymous_id in ('a7', 'a8')",
    ) == [("a7",)]


@pytest.mark.e2e
@REQUESTS
def test_requests_are_read_as_data_from_the_privacy_partition_only(requested: Path) -> None:
    assert query(
        requested,
        "select user_id from marts.dim_customers where user_id in ('u1', 'u2', 'u3') order by 1",
    ) == [("u2",)]
    assert query(
        requested,
        "select request_id from staging.stg_privacy__deletion_requests "
        "where request_id <> 'dr_2' order by 1",
    ) == [("dr_11",), ("dr_13",)]
    assert query(
        requested, "select event_id, quarantine_reason from staging.stg_raw__quarantine"
    ) == [("e0012", "source_mismatch")]
