"""Tests of the synthetic event generator (shoplog.generate)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from shoplog.generate import Faults, GenerateSummary, generate

#: The module's generated runs are shared fixtures: one pytest-xdist worker runs the module.
pytestmark = pytest.mark.xdist_group("generate")

START = date(2026, 1, 5)
DAYS = 10
USERS = 200
SEED = 7

# (source, event_type, schema_version) -> property keys, from docs/event-standard.md.
PAYMENT_KEYS = {"payment_id", "amount", "currency", "method"}
STANDARD: dict[tuple[str, str, int], set[str]] = {
    ("web", "page_view", 1): {"page_type", "title"},
    ("web", "product_view", 1): {"product_id", "price", "currency"},
    ("web", "add_to_cart", 1): {"product_id", "quantity", "price", "currency"},
    ("web", "add_to_cart", 2): {"item_id", "qty", "unit_price", "currency"},
    ("web", "checkout_started", 1): {"cart_value", "item_count", "currency"},
    ("web", "signup", 1): set(),
    ("web", "login", 1): set(),
    ("web", "identify", 1): set(),
    ("shop", "order_created", 1): {"currency", "total_amount", "lines"},
    ("shop", "order_status_changed", 1): {"status", "previous_status"},
    ("shop", "order_refunded", 1): {"amount", "currency", "reason"},
    ("payments", "payment_authorized", 1): PAYMENT_KEYS,
    ("payments", "payment_captured", 1): PAYMENT_KEYS,
    ("payments", "payment_failed", 1): PAYMENT_KEYS | {"failure_reason"},
    ("payments", "payment_refunded", 1): {"payment_id", "amount", "currency", "refund_id"},
    ("catalog", "product_created", 1): {"product_id", "name", "category", "price", "currency"},
    ("catalog", "product_price_changed", 1): {"product_id", "old_price", "new_price", "currency"},
    ("privacy", "deletion_requested", 1): {"request_id"},
}
ENVELOPE_ORDER = [
    "event_id",
    "event_type",
    "schema_version",
    "source",
    "event_time",
    "received_at",
    "anonymous_id",
    "user_id",
    "email",
    "payment_customer_id",
    "order_id",
    "context",
    "properties",
]
CONTEXT_KEYS = ["page_url", "path", "referrer", "host", "user_agent", "ip", "campaign"]
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PART = re.compile(r"^source=(\w+)/date=(\d{4}-\d{2}-\d{2})/hour=(\d{2})/part-(\d{5})\.ndjson\.gz$")


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def read_lines(root: Path) -> dict[str, list[str]]:
    """Relative data file path -> its lines (without the newline)."""
    out = {}
    for p in sorted(root.glob("source=*/date=*/hour=*/*.ndjson.gz")):
        text = gzip.decompress(p.read_bytes()).decode("utf-8")
        assert text.endswith("\n")
        out[p.relative_to(root).as_posix()] = text[:-1].split("\n")
    return out


def all_lines(root: Path) -> list[str]:
    return [line for lines in read_lines(root).values() for line in lines]


def events(root: Path) -> list[dict]:
    return [json.loads(line) for line in all_lines(root)]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def run(root: Path, seed: int = SEED, **kwargs) -> GenerateSummary:
    return generate(root, START, DAYS, USERS, seed, progress=False, **kwargs)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, GenerateSummary]:
    root = tmp_path_factory.mktemp("base")
    return root, run(root)


@pytest.fixture(scope="module")
def base_events(base) -> list[dict]:
    return events(base[0])


BIG_USERS, BIG_DAYS = 600, 14


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, GenerateSummary, list[dict]]:
    """A larger run (hard cases on), with enough orders and payments to check the truth."""
    root = tmp_path_factory.mktemp("big")
    summary = generate(root, START, BIG_DAYS, BIG_USERS, SEED, progress=False)
    return root, summary, events(root)


# ----------------------------------------------------------------- determinism and files


def test_same_seed_gives_byte_identical_files(base, tmp_path):
    root, _ = base

    run(tmp_path)

    assert hashes(tmp_path) == hashes(root)


#: Small runs whose files must not change by a single byte (path, file count, combined hash of
#: every file's path and SHA-256, ground truth included): a refactoring of the generator must
#: keep every random draw in its place. Update a hash only when the output is meant to change.
GOLDEN_RUNS: dict[str, tuple[dict, int, str]] = {
    "every_fault": (
        {
            "days": 4,
            "users": 60,
            "seed": 3,
            "faults": Faults(0.3, 0.3, 0.2, 0.2, 0.3, 0.6),
            "deletion_rate": 0.5,
        },
        319,
        "bca27b09695c89fac0431927c577b1a27aad68a60873a8b1c63a5230175e9529",
    ),
    "other_seed": (
        {"days": 5, "users": 80, "seed": 99},
        119,
        "2c3b3c4baf9783ffa4a687ad1f6e097ff4f1d25d7ef4b70f5bbb35c36e78b650",
    ),
    "no_hard_cases": (
        {
            "days": 4,
            "users": 60,
            "seed": 5,
            "hard_cases": False,
            "faults": Faults(0.1, v2_rate=0.5),
        },
        146,
        "b58a67c052301699b3d6c925c4f0ed9816c097fc5e89abb4702514d4c4f87bf9",
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_RUNS))
def test_output_is_byte_identical_to_the_golden_run(name, tmp_path):
    kwargs, n_files, combined = GOLDEN_RUNS[name]

    generate(tmp_path, START, progress=False, **kwargs)

    files = hashes(tmp_path)
    listing = "".join(f"{path} {digest}\n" for path, digest in files.items())
    assert (len(files), hashlib.sha256(listing.encode()).hexdigest()) == (n_files, combined)


@pytest.mark.parametrize("spill_bytes", [1, 40_000])
@pytest.mark.parametrize("name", sorted(GOLDEN_RUNS))
def test_spilling_to_disk_does_not_change_a_byte(name, spill_bytes, tmp_path):
    """Lines and ground truth spilled after every line (1 byte) or now and then (40 kB, part
    of them still in memory at the end) give the golden run's files."""
    kwargs, n_files, combined = GOLDEN_RUNS[name]

    generate(tmp_path, START, progress=False, spill_bytes=spill_bytes, **kwargs)

    files = hashes(tmp_path)
    listing = "".join(f"{path} {digest}\n" for path, digest in files.items())
    assert (len(files), hashlib.sha256(listing.encode()).hexdigest()) == (n_files, combined)


def _watch_work_folder(monkeypatch) -> list[list[str]]:
    """Record what the run's work folder holds when the files are about to be landed."""
    from shoplog.generate import writer

    seen: list[list[str]] = []
    land = writer.Staging.land

    def watched(self) -> None:
        work = self.stage.parent
        seen.append(sorted(p.relative_to(work).parts[0] for p in work.rglob("*") if p.is_file()))
        land(self)

    monkeypatch.setattr(writer.Staging, "land", watched)
    return seen


def test_spill_and_staged_files_are_removed_after_a_run(tmp_path, monkeypatch):
    seen = _watch_work_folder(monkeypatch)
    out = tmp_path / "landing"

    summary = generate(out, START, 3, 30, SEED, progress=False, spill_bytes=1)

    assert [sorted(set(s)) for s in seen] == [["spill", "stage"]]
    assert list(tmp_path.iterdir()) == [out]
    assert len(list(out.rglob("*.ndjson.gz"))) == summary.files_written


def test_spill_files_are_removed_when_a_run_fails(tmp_path):
    out = tmp_path / "landing"
    first = tmp_path / "first"
    generate(first, START, 3, 30, SEED, progress=False)
    victim = sorted(first.rglob("*.ndjson.gz"))[-1].relative_to(first)
    (out / victim).parent.mkdir(parents=True)
    (out / victim).write_bytes(b"not the same")
    before = sorted(tmp_path.rglob("*"))

    with pytest.raises(ValueError, match="refusing to overwrite"):
        generate(out, START, 3, 30, SEED, progress=False, spill_bytes=1)

    assert sorted(tmp_path.rglob("*")) == before
    assert (out / victim).read_bytes() == b"not the same"


def test_different_seed_gives_different_events(base, tmp_path):
    root, _ = base

    run(tmp_path, seed=SEED + 1)

    common = set(hashes(tmp_path).items()) & set(hashes(root).items())
    ids_a = {e["event_id"] for e in events(root)}
    ids_b = {e["event_id"] for e in events(tmp_path)}
    assert common == set()
    assert ids_a & ids_b == set()


def test_rerun_into_same_directory_is_a_no_op(base, tmp_path):
    root, summary = base
    run(tmp_path)
    before = hashes(tmp_path)

    again = run(tmp_path)

    assert hashes(tmp_path) == before
    assert again.files_unchanged == again.files_written == summary.files_written


def test_refuses_to_overwrite_a_different_file(base, tmp_path):
    root, _ = base
    victim = next(iter(read_lines(root)))
    (tmp_path / victim).parent.mkdir(parents=True)
    (tmp_path / victim).write_bytes(b"not the same")
    (tmp_path / "unrelated.txt").write_text("keep me")

    with pytest.raises(ValueError, match="refusing to overwrite"):
        run(tmp_path)

    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "part-00000.ndjson.gz",
        "unrelated.txt",
    ]


def test_summary_matches_what_was_written(base, base_events):
    root, summary = base
    per_source = Counter(e["source"] for e in base_events)
    per_type = Counter(e["event_type"] for e in base_events)

    assert summary.events_by_source == {
        s: per_source[s] for s in ("web", "shop", "payments", "catalog", "privacy")
    }
    assert summary.events_by_type == dict(sorted(per_type.items()))
    assert summary.lines_written == len(base_events) == summary.events
    assert summary.files_written == len(read_lines(root))
    assert summary.persons == USERS
    assert summary.orders == per_type["order_created"]
    assert summary.fault_lines == {}


# ----------------------------------------------------------------- the event standard


def check_event(e: dict) -> None:
    """Assert one event follows docs/event-standard.md (faults off)."""
    assert list(e) == [k for k in ENVELOPE_ORDER if k in e]
    assert UUID.match(e["event_id"])
    assert type(e["schema_version"]) is int
    key = (e["source"], e["event_type"], e["schema_version"])
    assert key in STANDARD, key
    assert TS.match(e["event_time"]) and TS.match(e["received_at"])
    lag = (ts(e["received_at"]) - ts(e["event_time"])).total_seconds()
    assert 0.05 <= lag <= 3.0
    assert set(e["properties"]) == STANDARD[key]
    if e["source"] == "web":
        assert isinstance(e["anonymous_id"], str)
        assert list(e["context"]) == CONTEXT_KEYS
        assert e["context"]["page_url"] == f"https://{e['context']['host']}{e['context']['path']}"
    else:
        assert "anonymous_id" not in e and "context" not in e
    if e["event_type"] in ("signup", "identify", "order_created", "deletion_requested"):
        assert isinstance(e["email"], str) and "@" in e["email"]
    if e["event_type"] in ("signup", "login"):
        assert e["user_id"].startswith("u_")
    if e["event_type"] in ("identify", "deletion_requested") and "user_id" in e:
        assert e["user_id"].startswith("u_")  # (guests identify, and ask, by email only)
    if e["source"] == "payments":
        assert e["payment_customer_id"].startswith("pc_")
    if e["source"] == "shop":
        assert e["order_id"].startswith("o_")
    if e["event_type"] == "order_created":
        p = e["properties"]
        assert "user_id" in e and (e["user_id"] is None or e["user_id"].startswith("u_"))
        assert p["total_amount"] == round(
            sum(ln["quantity"] * ln["unit_price"] for ln in p["lines"]), 2
        )
        assert p["currency"] in ("EUR", "USD")
    for name in ("price", "amount", "total_amount", "cart_value", "new_price", "old_price"):
        if name in e["properties"]:
            value = e["properties"][name]
            assert isinstance(value, float | int) and round(value, 2) == value


def test_every_line_follows_the_event_standard(base_events):
    for e in base_events:
        check_event(e)

    seen = {(e["source"], e["event_type"], e["schema_version"]) for e in base_events}
    assert seen <= set(STANDARD) - {("web", "add_to_cart", 2)}
    assert {t for _, t, _ in seen} >= {
        "page_view",
        "product_view",
        "add_to_cart",
        "checkout_started",
        "signup",
        "login",
        "order_created",
        "order_status_changed",
        "payment_authorized",
        "payment_captured",
        "product_created",
        "product_price_changed",
    }


def test_files_are_partitioned_by_received_at_and_sorted(base):
    root, _ = base

    files = read_lines(root)

    for rel, lines in files.items():
        source, day, hour, part = PART.match(rel).groups()
        evs = [json.loads(line) for line in lines]
        assert part == "00000"
        assert {(e["source"], e["received_at"][:10], e["received_at"][11:13]) for e in evs} == {
            (source, day, hour)
        }
        keys = [(e["received_at"], e["event_id"]) for e in evs]
        assert keys == sorted(keys)


def test_catalog_is_created_first_and_prices_change_later(base_events):
    created = [e for e in base_events if e["event_type"] == "product_created"]
    changed = [e for e in base_events if e["event_type"] == "product_price_changed"]
    first_web = min(e["event_time"] for e in base_events if e["source"] == "web")

    assert 50 <= len(created) <= 200
    assert len({e["properties"]["category"] for e in created}) == 6
    assert max(e["event_time"] for e in created) < f"{START.isoformat()}T01"
    assert max(e["event_time"] for e in created) < first_web
    assert len(changed) >= 3


def test_web_prices_follow_the_catalog_price_at_that_time(base_events):
    history = defaultdict(list)
    for e in sorted(base_events, key=lambda e: e["event_time"]):
        p = e["properties"]
        if e["event_type"] == "product_created":
            history[p["product_id"]].append((e["event_time"], p["price"]))
        elif e["event_type"] == "product_price_changed":
            history[p["product_id"]].append((e["event_time"], p["new_price"]))
    views = [
        e
        for e in base_events
        if e["event_type"] == "product_view" and e["properties"]["currency"] == "EUR"
    ]

    wrong = [
        e
        for e in views
        if e["properties"]["price"]
        != [pr for t, pr in history[e["properties"]["product_id"]] if t <= e["event_time"]][-1]
    ]

    assert views and wrong == []


def test_visits_look_like_sessions(base_events):
    by_anon = defaultdict(list)
    for e in base_events:
        if e["source"] == "web":
            by_anon[e["anonymous_id"]].append(ts(e["event_time"]))
    gaps, visits, multi_visit = [], [], 0
    for times in by_anon.values():
        times.sort()
        multi_visit += any(
            (b - a).total_seconds() > 1800 for a, b in zip(times, times[1:], strict=False)
        )
        size = 1
        for a, b in zip(times, times[1:], strict=False):
            gap = (b - a).total_seconds()
            gaps.append(gap)
            if gap > 1800:
                visits.append(size)
                size = 1
            else:
                size += 1
        visits.append(size)

    within = [g for g in gaps if g <= 1800]
    assert sum(5 <= g <= 300 for g in within) / len(within) > 0.98
    assert sum(g > 1800 for g in gaps) / len(gaps) > 0.05
    assert sum(1 <= v <= 33 for v in visits) / len(visits) > 0.98
    assert multi_visit / len(by_anon) > 0.5


# ----------------------------------------------------------------- ground truth


def test_ground_truth_is_consistent_with_the_events(big):
    root, _, base_events = big
    truth = root / "_truth"
    ident = read_csv(truth / "identifiers.csv")
    owner = {(r["identifier_type"], r["identifier_value"]): r["person_id"] for r in ident}
    persons = {r["person_id"] for r in read_csv(truth / "persons.csv")}
    orders = {r["order_id"]: r["person_id"] for r in read_csv(truth / "orders.csv")}
    payments = read_csv(truth / "payments.csv")

    seen = set()
    for e in base_events:
        for field in ("anonymous_id", "user_id", "payment_customer_id"):
            if e.get(field):
                seen.add((field, e[field]))
        if e.get("email"):
            seen.add(("email", e["email"].strip().lower()))
    order_events = {e["order_id"]: e for e in base_events if e["event_type"] == "order_created"}
    payment_ids = {e["properties"]["payment_id"] for e in base_events if e["source"] == "payments"}

    assert len(owner) == len(ident)
    assert seen <= set(owner)
    assert set(owner.values()) <= persons and len(persons) == BIG_USERS
    assert set(orders) == set(order_events)
    assert {p["payment_id"] for p in payments} == payment_ids
    assert all(
        p["order_id"] in orders and orders[p["order_id"]] == p["person_id"] for p in payments
    )
    for oid, e in order_events.items():
        assert owner[("email", e["email"].strip().lower())] == orders[oid]
        if e["user_id"]:
            assert owner[("user_id", e["user_id"])] == orders[oid]
    for e in base_events:
        if e["source"] == "payments" and e.get("order_id"):
            assert owner[("payment_customer_id", e["payment_customer_id"])] == orders[e["order_id"]]


def test_every_device_of_a_known_person_is_identified_on_and_others_use_one(big):
    root, _, base_events = big
    owner = {
        (r["identifier_type"], r["identifier_value"]): r["person_id"]
        for r in read_csv(root / "_truth" / "identifiers.csv")
    }
    devices, identified = defaultdict(set), set()
    for e in base_events:
        if e["source"] == "web":
            devices[owner[("anonymous_id", e["anonymous_id"])]].add(e["anonymous_id"])
            if e["event_type"] in ("signup", "login", "identify"):
                identified.add(e["anonymous_id"])
    known = {p for (t, _), p in owner.items() if t == "email"}
    multi = [p for p, anons in devices.items() if len(anons) > 1]

    assert sum(p in known for p in multi) > 0.1 * len(known)  # several devices are common
    for person in multi:  # and each one, of a person who told the shop who they are, is tied
        assert person in known
        assert devices[person] <= identified, person
    guest_identifies = [
        e for e in base_events if e["event_type"] == "identify" and "user_id" not in e
    ]
    assert guest_identifies and all(e["email"] for e in guest_identifies)


def test_some_known_persons_ask_to_be_forgotten_after_their_visits(big):
    root, summary, base_events = big
    requests = read_csv(root / "_truth" / "deletion_requests.csv")
    owner = {
        (r["identifier_type"], r["identifier_value"]): r["person_id"]
        for r in read_csv(root / "_truth" / "identifiers.csv")
    }
    events = [e for e in base_events if e["event_type"] == "deletion_requested"]
    last_visit: dict[str, str] = {}
    for e in base_events:
        if e["source"] == "web":
            person = owner[("anonymous_id", e["anonymous_id"])]
            last_visit[person] = max(last_visit.get(person, ""), e["event_time"])

    assert 1 <= len(requests) == len(events) == summary.events_by_source["privacy"]
    for request, e in zip(
        requests,
        sorted(events, key=lambda e: owner[("email", e["email"].strip().lower())]),
        strict=True,
    ):
        assert owner[("email", e["email"].strip().lower())] == request["person_id"]
        assert e["event_time"] == request["requested_at"] > last_visit[request["person_id"]]


def test_realistic_mix_of_signups_buyers_and_payments(big):
    root, summary, base_events = big
    persons = read_csv(root / "_truth" / "persons.csv")
    pay_events = [e for e in base_events if e["source"] == "payments"]
    with_ref = sum("order_id" in e for e in pay_events)
    statuses = Counter(
        e["properties"]["status"] for e in base_events if e["event_type"] == "order_status_changed"
    )

    assert 0.25 < sum(p["signed_up"] == "true" for p in persons) / BIG_USERS < 0.55
    assert summary.signed_up == sum(p["signed_up"] == "true" for p in persons)
    assert 0.015 <= summary.buyers / BIG_USERS <= 0.07
    assert 0.75 < with_ref / len(pay_events) <= 0.98
    assert set(statuses) == {"paid", "shipped", "delivered", "cancelled"}
    assert any(e["email"] != e["email"].strip().lower() for e in base_events if "email" in e)


def test_hard_cases_are_present_and_in_the_truth(big):
    root, _, base_events = big
    truth = root / "_truth"
    shared = read_csv(truth / "shared_anonymous_ids.csv")
    owner = {
        (r["identifier_type"], r["identifier_value"]): r["person_id"]
        for r in read_csv(truth / "identifiers.csv")
    }
    logins = defaultdict(set)
    for e in base_events:
        if e["event_type"] in ("login", "signup"):
            logins[e["anonymous_id"]].add(owner[("user_id", e["user_id"])])
    emails = sorted(v for t, v in owner if t == "email")
    similar = [
        (a, b)
        for i, a in enumerate(emails)
        for b in emails[i + 1 :]
        if len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1
    ]
    typed = defaultdict(set)
    for e in base_events:
        if e.get("email"):
            typed[e["email"].strip().lower()].add(e["email"])

    assert len(shared) >= 1
    for row in shared:
        assert owner[("anonymous_id", row["anonymous_id"])] == row["person_id"]
        assert logins[row["anonymous_id"]] == {row["person_id"], row["other_person_id"]}
    assert any(owner[("email", a)] != owner[("email", b)] for a, b in similar)
    assert any(len(forms) > 1 for forms in typed.values())


def test_guest_orders_get_claimed_with_hard_cases_only(big, tmp_path):
    def claimed(evs: list[dict]) -> int:
        signup_at = {
            e["email"].strip().lower(): e["event_time"] for e in evs if e["event_type"] == "signup"
        }
        return sum(
            1
            for e in evs
            if e["event_type"] == "order_created"
            and e["user_id"] is None
            and signup_at.get(e["email"].strip().lower(), "") > e["event_time"]
        )

    _, _, hard_events = big

    generate(tmp_path, START, BIG_DAYS, BIG_USERS, SEED, hard_cases=False, progress=False)

    easy_events = events(tmp_path)
    typed = defaultdict(set)
    for e in easy_events:
        if e.get("email"):
            typed[e["email"].strip().lower()].add(e["email"])
    assert claimed(hard_events) >= 1
    assert claimed(easy_events) == 0
    assert read_csv(tmp_path / "_truth" / "shared_anonymous_ids.csv") == []
    assert max(len(forms) for forms in typed.values()) == 1


def test_big_run_follows_the_standard_and_has_every_event_type(big):
    _, _, big_events = big

    for e in big_events:
        check_event(e)

    assert {(e["source"], e["event_type"], e["schema_version"]) for e in big_events} == (
        set(STANDARD) - {("web", "add_to_cart", 2)}
    )


# ----------------------------------------------------------------- faults


def differing(base_lines: list[str], faulty_lines: list[str]) -> tuple[list[str], list[str]]:
    """Lines only in the baseline, lines only in the faulty run (as multisets)."""
    a, b = Counter(base_lines), Counter(faulty_lines)
    return sorted((a - b).elements()), sorted((b - a).elements())


def by_id(lines: list[str]) -> dict[str, dict]:
    return {json.loads(line)["event_id"]: json.loads(line) for line in lines}


def assert_rate(count: int, eligible: int, rate: float) -> None:
    assert 0.6 * rate * eligible <= count <= 1.4 * rate * eligible, (count, eligible, rate)


def test_duplicates_are_the_same_event_received_again_later(base, tmp_path):
    root, summary = base
    base_files = read_lines(root)

    result = run(tmp_path, faults=Faults(duplicate_rate=0.05))

    files = read_lines(tmp_path)
    originals = {
        json.loads(line)["event_id"]: line for lines in base_files.values() for line in lines
    }
    dups = []
    for rel, lines in files.items():
        if rel.endswith("part-00001.ndjson.gz"):
            dups += [(rel, line) for line in lines]
        else:
            assert lines == base_files[rel]
    assert set(base_files) <= set(files)
    for rel, line in dups:
        copy = json.loads(line)
        original = json.loads(originals[copy["event_id"]])
        assert {k: v for k, v in copy.items() if k != "received_at"} == {
            k: v for k, v in original.items() if k != "received_at"
        }
        delay = ts(copy["received_at"]) - ts(original["received_at"])
        assert timedelta(seconds=1) <= delay <= timedelta(hours=6)
        _, day, hour, _ = PART.match(rel).groups()
        assert (copy["received_at"][:10], copy["received_at"][11:13]) == (day, hour)
    assert len({line for _, line in dups}) == len(dups)
    assert_rate(len(dups), summary.lines_written, 0.05)
    assert result.fault_lines == {"duplicate": len(dups)}
    assert result.lines_written == summary.lines_written + len(dups)
    assert hashes(tmp_path / "_truth") == hashes(root / "_truth")


def test_late_events_change_only_received_at(base, tmp_path):
    root, summary = base

    run(tmp_path, faults=Faults(late_rate=0.05))

    gone, new = differing(all_lines(root), all_lines(tmp_path))
    old, late = by_id(gone), by_id(new)
    assert set(old) == set(late)
    for eid, e in late.items():
        lag = ts(e["received_at"]) - ts(e["event_time"])
        assert 3600 <= lag.total_seconds() <= 3 * 86400
        assert {**e, "received_at": old[eid]["received_at"]} == old[eid]
    for rel, lines in read_lines(tmp_path).items():
        _, day, hour, _ = PART.match(rel).groups()
        assert {
            (json.loads(x)["received_at"][:10], json.loads(x)["received_at"][11:13]) for x in lines
        } == {(day, hour)}
    assert_rate(len(late), summary.lines_written, 0.05)


def test_clock_skew_puts_event_time_in_the_future(base, tmp_path):
    root, summary = base

    run(tmp_path, faults=Faults(skew_rate=0.05))

    gone, new = differing(all_lines(root), all_lines(tmp_path))
    old, skewed = by_id(gone), by_id(new)
    assert set(old) == set(skewed)
    for eid, e in skewed.items():
        ahead = ts(e["event_time"]) - ts(e["received_at"])
        assert 3600 <= ahead.total_seconds() <= 48 * 3600
        assert {**e, "event_time": old[eid]["event_time"]} == old[eid]
    assert_rate(len(skewed), summary.lines_written, 0.05)


def test_malformed_lines_are_extra_lines_that_do_not_parse(base, tmp_path):
    root, summary = base

    run(tmp_path, faults=Faults(malformed_rate=0.05))

    gone, new = differing(all_lines(root), all_lines(tmp_path))
    assert gone == []
    for line in new:
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)
    assert_rate(len(new), summary.lines_written, 0.05)


def test_unknown_event_types_are_extra_valid_envelopes(base, tmp_path):
    root, summary = base

    run(tmp_path, faults=Faults(unknown_type_rate=0.05))

    gone, new = differing(all_lines(root), all_lines(tmp_path))
    extra = [json.loads(line) for line in new]
    assert gone == []
    known = {t for _, t, _ in STANDARD}
    for e in extra:
        assert e["event_type"] not in known
        assert e["source"] == "web" and UUID.match(e["event_id"])
        assert TS.match(e["event_time"]) and TS.match(e["received_at"])
        assert isinstance(e["anonymous_id"], str) and isinstance(e["properties"], dict)
    assert_rate(len(extra), summary.events_by_source["web"], 0.05)


def test_v2_add_to_cart_renames_the_fields(base, tmp_path):
    root, summary = base

    run(tmp_path, faults=Faults(v2_rate=0.2))

    gone, new = differing(all_lines(root), all_lines(tmp_path))
    old, v2 = by_id(gone), by_id(new)
    assert set(old) == set(v2)
    for eid, e in v2.items():
        p = old[eid]["properties"]
        assert e["event_type"] == "add_to_cart" and e["schema_version"] == 2
        assert e["properties"] == {
            "item_id": p["product_id"],
            "qty": p["quantity"],
            "unit_price": p["price"],
            "currency": p["currency"],
        }
        check_event(e)
    assert_rate(len(v2), summary.events_by_type["add_to_cart"], 0.2)


def test_faults_are_deterministic_and_rates_are_validated(tmp_path):
    faults = Faults(
        duplicate_rate=0.02,
        late_rate=0.02,
        skew_rate=0.02,
        malformed_rate=0.02,
        unknown_type_rate=0.02,
        v2_rate=0.1,
    )

    generate(tmp_path / "a", START, 3, 40, SEED, faults=faults, progress=False)
    generate(tmp_path / "b", START, 3, 40, SEED, faults=faults, progress=False)

    assert hashes(tmp_path / "a") == hashes(tmp_path / "b")
    with pytest.raises(ValueError, match="late_rate"):
        Faults(late_rate=1.5)
