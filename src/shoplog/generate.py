"""Deterministic synthetic shop event log, in the format of ``docs/event-standard.md``.

``generate(out, start, days, users, seed)`` simulates a web shop: a product catalogue, ``users``
real persons browsing on one to three devices, signing up, logging in, ordering, paying, getting
their orders shipped, delivered, cancelled or refunded, and a few (``deletion_rate``) asking the
shop to forget them after their last visit (a ``privacy`` event). It writes the events as gzip
NDJSON files partitioned by ``received_at`` (``source=<s>/date=<d>/hour=<h>/part-00000.ndjson.gz``)
and the ground truth of who is who under ``_truth/`` (CSV), for tests of identity resolution.

Who is who: a person browses on their first device until the shop can recognise them (they sign
up, or give their email at a guest checkout, where the site's tag sends an ``identify`` with
it); from then on they may use their other devices, and the first visit on each one identifies
them: a login when they have an account, else an ``identify`` from a link in the shop's email.
So every device of a person is tied to them by some event of the log. (Browsing on two devices
without ever telling the shop who you are leaves nothing that joins them: no resolver could
find it, and no test could measure it, so the generator does not produce it.)

Everything derives from ``random.Random(seed)``: the same arguments give byte-identical files.
Optional *hard cases* (shared devices, look-alike emails, guest orders later claimed by an
account, emails typed differently across events) and *faults* (duplicate delivery, late events,
clock skew, malformed lines, unknown event types, ``add_to_cart`` v2) can be switched on. Faults
draw from their own random streams, so switching one on changes only the lines it touches.

Scale (measured on 2 vCPUs, one used): the default ``users=1000, days=28`` gives about 115k
events (about 40% of persons sign up, about 4% buy) in about 5 s; ``users=8700, days=28`` gives
about 1.0M events in about 50 s wall time and about 1 GB of memory (all lines are held until
they are sorted and written).

Choices the event standard leaves open: optional envelope keys are left out when they do not
apply (``user_id`` is only present on web events of a logged-in visit, and always present,
possibly ``null``, on ``order_created``; ``order_id`` is left out of the ~10% of payment events
without a reference); the first ``order_status_changed`` of an order (``paid``, or
``cancelled`` after a failed payment) has ``previous_status`` ``null``. Ids: ``p_NNNNN``
(persons, truth only), ``u_``, ``o_``, ``pay_``, ``pc_``, ``re_`` with gapped numbers;
``anonymous_id`` and ``event_id`` are uuid-shaped. Events received after the end of the period
are not written, except where a fault (late delivery, duplicate) moves a line past it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import random
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["Faults", "GenerateSummary", "generate"]

MS_SEC = 1_000
MS_MIN = 60_000
MS_HOUR = 3_600_000
MS_DAY = 86_400_000
USD_PER_EUR = 1.08

SOURCES = ("web", "shop", "payments", "catalog", "privacy")
#: Share of persons known to the shop (by account or email) who ask to be forgotten.
DELETION_RATE = 0.01

CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "shoes": (
        ("Trail", "City", "Classic", "Canvas", "Leather", "Running"),
        ("Sneaker", "Boot", "Loafer", "Sandal", "Runner", "Slip-on"),
    ),
    "apparel": (
        ("Organic", "Linen", "Merino", "Denim", "Oversized", "Slim"),
        ("T-Shirt", "Hoodie", "Jacket", "Shirt", "Sweater", "Chinos"),
    ),
    "accessories": (
        ("Vintage", "Woven", "Minimal", "Travel", "Leather", "Canvas"),
        ("Backpack", "Wallet", "Belt", "Cap", "Scarf", "Tote"),
    ),
    "homeware": (
        ("Ceramic", "Oak", "Stoneware", "Linen", "Copper", "Nordic"),
        ("Mug", "Vase", "Lamp", "Cushion", "Bowl", "Throw"),
    ),
    "beauty": (
        ("Herbal", "Citrus", "Gentle", "Daily", "Repair", "Hydrating"),
        ("Serum", "Cream", "Shampoo", "Soap", "Balm", "Cleanser"),
    ),
    "electronics": (
        ("Wireless", "Compact", "Smart", "Portable", "Pro", "Mini"),
        ("Earbuds", "Speaker", "Charger", "Lamp", "Watch", "Power Bank"),
    ),
}
CATEGORY_PRICE = {
    "shoes": 70.0,
    "apparel": 35.0,
    "accessories": 30.0,
    "homeware": 25.0,
    "beauty": 15.0,
    "electronics": 55.0,
}

FIRST_NAMES = (
    "alice",
    "bob",
    "carla",
    "david",
    "emma",
    "felix",
    "greta",
    "hugo",
    "ines",
    "jon",
    "karin",
    "lars",
    "maria",
    "nils",
    "olga",
    "paul",
    "queenie",
    "rosa",
    "sven",
    "tina",
    "ulf",
    "vera",
    "walter",
    "xenia",
    "yusuf",
    "zoe",
    "anna",
    "ben",
    "chloe",
    "dmitri",
    "eva",
    "finn",
    "hanna",
    "ivan",
    "julia",
    "kofi",
    "lena",
    "mohammed",
    "noah",
    "priya",
    "sara",
    "tom",
    "wei",
    "lucia",
)
LAST_NAMES = (
    "smith",
    "mueller",
    "garcia",
    "rossi",
    "dubois",
    "jansen",
    "nowak",
    "silva",
    "kim",
    "novak",
    "berg",
    "fischer",
    "weber",
    "martin",
    "lopez",
    "moreau",
    "bianchi",
    "costa",
    "schmidt",
    "larsen",
    "horvat",
    "popescu",
    "ivanova",
    "okafor",
    "nguyen",
    "cohen",
    "murphy",
    "walsh",
    "haddad",
    "tanaka",
    "sato",
    "brown",
    "wilson",
    "taylor",
    "meyer",
    "wagner",
    "becker",
    "hoff",
)
EMAIL_DOMAINS = (
    "gmail.com",
    "example.com",
    "mail.example.org",
    "outlook.com",
    "x.com",
    "posteo.de",
    "web.de",
    "yahoo.com",
)
EMAIL_DOMAIN_CUM = list(accumulate((30, 10, 5, 15, 8, 5, 10, 10)))

USER_AGENTS = {
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ),
    "mobile": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Mobile Safari/537.36",
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.7 Mobile/15E148 Safari/604.1",
    ),
}
HOSTS = {
    "desktop": "shop.example.com",
    "mobile": "m.shop.example.com",
    "tablet": "shop.example.com",
}

# (referrer, campaign options) for the landing page of a visit; None = direct.
NEWSLETTER = "https://newsletter.example.com/"
REFERRERS: tuple[tuple[str | None, tuple[str | None, ...]], ...] = (
    (None, (None,)),
    ("https://www.google.com/", (None, None, None, "search_brand")),
    ("https://www.bing.com/", (None,)),
    ("https://www.facebook.com/", (None, "spring_sale", "retargeting")),
    ("https://www.instagram.com/", (None, "spring_sale", "influencer_q1")),
    (NEWSLETTER, ("newsletter_weekly",)),
)
REFERRER_CUM = list(accumulate((35, 35, 5, 10, 8, 7)))

CONTENT_PAGES = (
    ("/about", "About us"),
    ("/help/shipping", "Shipping"),
    ("/help/returns", "Returns"),
    ("/blog/spring-lookbook", "Spring lookbook"),
)
SEARCH_TERMS = ("boots", "gift", "linen", "wireless", "mug", "sale", "backpack", "serum", "black")

# Visits start more often around lunch and in the evening (UTC hour weights).
HOUR_CUM = list(
    accumulate((1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 7, 8, 7, 6, 6, 6, 7, 8, 9, 9, 8, 5, 2))
)

UNKNOWN_TYPES = ("wishlist_add", "newsletter_subscribe", "chat_opened")
FAILURE_REASONS = ("insufficient_funds", "card_declined", "expired_card", "3ds_failed")
REFUND_REASONS = ("damaged", "not_as_described", "changed_mind", "late_delivery")
METHODS = ("card", "paypal", "bank_transfer")
METHOD_CUM = list(accumulate((70, 22, 8)))

_OMIT = object()  # sentinel: leave an optional envelope key out


@dataclass(frozen=True)
class Faults:
    """Rates (0..1) of the delivery faults to inject; each applies per eligible event.

    * ``duplicate_rate``: the same event (same ``event_id``, time and payload) is delivered
      again 1 s to 6 h later: the collector stamps the new ``received_at``, and the copy lands
      in ``part-00001`` of the hour partition of that ``received_at``.
    * ``late_rate``: ``received_at`` is 1 h to 3 days after ``event_time``.
    * ``skew_rate``: ``event_time`` is 1 to 48 h in the future of ``received_at``.
    * ``malformed_rate``: an extra line that is truncated JSON or not JSON at all.
    * ``unknown_type_rate``: (web events) an extra event of a type outside the catalogue.
    * ``v2_rate``: (``add_to_cart`` events) emitted as schema_version 2 with the renamed fields.
    """

    duplicate_rate: float = 0.0
    late_rate: float = 0.0
    skew_rate: float = 0.0
    malformed_rate: float = 0.0
    unknown_type_rate: float = 0.0
    v2_rate: float = 0.0

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Faults.{name} must be between 0 and 1, got {value!r}")


@dataclass
class GenerateSummary:
    """What one ``generate`` call wrote.

    ``events_by_source``/``events_by_type`` count the simulated events (each once, whatever the
    faults did to it); ``lines_written`` counts every line in the files, including duplicates,
    malformed lines and unknown-type events (``fault_lines`` breaks the faults down).
    ``files_written`` counts the data files of this run (``files_unchanged`` of them already
    existed with identical bytes and were left alone); truth files are not counted.
    """

    events_by_source: dict[str, int]
    events_by_type: dict[str, int]
    lines_written: int
    files_written: int
    files_unchanged: int
    persons: int
    signed_up: int
    buyers: int
    orders: int
    payments: int
    fault_lines: dict[str, int] = field(default_factory=dict)

    @property
    def events(self) -> int:
        """Total simulated events (all sources)."""
        return sum(self.events_by_source.values())


@dataclass(slots=True)
class _Device:
    anon: str
    user_agent: str
    ip: str
    host: str
    logged_in: bool = False
    shared: bool = False


@dataclass(slots=True)
class _Person:
    idx: int
    pid: str
    rng: random.Random
    currency: str
    email: str  # canonical (lowercase, trimmed)
    email_typed: str
    devices: list[_Device]
    device_cum: list[float]
    conv_p: float
    signup_session: int | None = None
    user_id: str | None = None
    pcids: list[str] = field(default_factory=list)
    n_orders: int = 0
    email_given: bool = False  # told the shop their email (account or guest order)
    identified_on: set[str] = field(default_factory=set)  # anonymous ids they identified on


class _Clock:
    """Fast ISO-8601 formatting of epoch milliseconds (UTC, ms, ``Z``)."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def day(self, day_idx: int) -> str:
        s = self._days.get(day_idx)
        if s is None:
            s = (date(1970, 1, 1) + timedelta(days=day_idx)).isoformat()
            self._days[day_idx] = s
        return s

    def iso(self, ms: int) -> str:
        d, r = divmod(ms, MS_DAY)
        h, r = divmod(r, MS_HOUR)
        m, r = divmod(r, MS_MIN)
        s, f = divmod(r, MS_SEC)
        return f"{self.day(d)}T{h:02d}:{m:02d}:{s:02d}.{f:03d}Z"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _gap(rng: random.Random) -> int:
    """Time between two events of a visit: 5 s to 5 min, log-uniform."""
    return int(5_000 * 60 ** rng.random())


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="", compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


class _Simulator:
    """Holds the world state while persons are simulated one after another."""

    def __init__(
        self,
        start: date,
        days: int,
        users: int,
        seed: int,
        faults: Faults,
        hard_cases: bool,
        deletion_rate: float = DELETION_RATE,
    ) -> None:
        self.master = random.Random(seed)
        self.clock = _Clock()
        self.start_ms = (start - date(1970, 1, 1)).days * MS_DAY
        self.end_ms = self.start_ms + days * MS_DAY
        self.days = days
        self.users = users
        self.hard = hard_cases
        self.faults = faults
        self.deletion_rate = deletion_rate
        # Independent streams: base world, and one per fault kind.
        self.world_rng = random.Random(self.master.getrandbits(64))
        self.person_seeds = [self.master.getrandbits(64) for _ in range(users)]
        self.f_rng = {
            k: random.Random(self.master.getrandbits(64))
            for k in ("dup", "late", "skew", "malformed", "unknown", "v2")
        }
        # Output.
        self.buckets: dict[tuple[str, int, int], list[tuple[int, str, str]]] = {}
        self.by_source: Counter[str] = Counter()
        self.by_type: Counter[str] = Counter()
        self.fault_lines: Counter[str] = Counter()
        # Truth: (type, value) -> {person_idx: first event_time}.
        self.ident: dict[tuple[str, str], dict[int, int]] = {}
        self.first_seen: dict[int, int] = {}
        self.signed_up: set[int] = set()
        self.orders: dict[str, int] = {}
        self.payments: dict[str, tuple[str, int]] = {}
        self.buyers: set[int] = set()
        self.deletions: dict[int, int] = {}  # person idx -> event time of the deletion request
        # Counters for ids (gapped, so ids are not dense sequences).
        self.next_user = 1000
        self.next_order = 100000
        self.next_payment = 500000
        self.next_pc = 7000
        self.next_refund = 1
        self.next_request = 1
        self.used_emails: set[str] = set()
        self.persons: list[_Person] = []
        # Hard cases chosen up front.
        self.shared_pool: list[tuple[int, _Device]] = []  # (person idx, device) with a login
        self.pooled: set[str] = set()
        self.shared_takers: set[int] = set()
        self.similar_of: dict[int, int] = {}  # later person idx -> earlier person idx
        self.forced_signup: set[int] = set()
        if hard_cases and users >= 4:
            n_shared = max(1, round(users * 0.01))
            self.shared_takers = set(
                self.world_rng.sample(range(users // 4, users), min(n_shared, users - users // 4))
            )
            n_pairs = max(1, users // 400)
            cands = [i for i in range(users) if i not in self.shared_takers]
            picked = self.world_rng.sample(cands, min(2 * n_pairs, len(cands) // 2 * 2))
            for a, b in zip(picked[::2], picked[1::2], strict=True):
                lo, hi = min(a, b), max(a, b)
                self.similar_of[hi] = lo
                self.forced_signup.update((lo, hi))
        self._catalog()

    # ------------------------------------------------------------------ emit
    def emit(
        self,
        person: _Person | None,
        rng: random.Random,
        etype: str,
        source: str,
        t: int,
        props: dict,
        *,
        anon: str | None = None,
        user_id: object = _OMIT,
        email: str | None = None,
        pcid: str | None = None,
        order_id: str | None = None,
        context: dict | None = None,
    ) -> bool:
        """Build one event, apply faults, queue its line(s). False if past the period end."""
        event_id = _uuid(rng)
        recv = t + rng.randint(50, 3_000)
        if recv >= self.end_ms:
            return False
        self.by_source[source] += 1
        self.by_type[etype] += 1
        if person is not None:
            self._register(person.idx, t, anon, user_id, email, pcid)
        f = self.faults
        version = 1
        if f.v2_rate and etype == "add_to_cart" and self.f_rng["v2"].random() < f.v2_rate:
            version = 2
            props = {
                "item_id": props["product_id"],
                "qty": props["quantity"],
                "unit_price": props["price"],
                "currency": props["currency"],
            }
            self.fault_lines["v2"] += 1
        if f.late_rate and self.f_rng["late"].random() < f.late_rate:
            recv = t + self.f_rng["late"].randint(MS_HOUR, 3 * MS_DAY)
            self.fault_lines["late"] += 1
        if f.skew_rate and self.f_rng["skew"].random() < f.skew_rate:
            t = recv + self.f_rng["skew"].randint(MS_HOUR, 48 * MS_HOUR)
            self.fault_lines["skew"] += 1
        iso = self.clock.iso
        ev: dict = {
            "event_id": event_id,
            "event_type": etype,
            "schema_version": version,
            "source": source,
            "event_time": iso(t),
            "received_at": iso(recv),
        }
        if anon is not None:
            ev["anonymous_id"] = anon
        if user_id is not _OMIT:
            ev["user_id"] = user_id
        if email is not None:
            ev["email"] = email
        if pcid is not None:
            ev["payment_customer_id"] = pcid
        if order_id is not None:
            ev["order_id"] = order_id
        if context is not None:
            ev["context"] = context
        ev["properties"] = props
        line = json.dumps(ev, separators=(",", ":"), sort_keys=False)
        self._put(source, recv, 0, event_id, line)
        if f.duplicate_rate and self.f_rng["dup"].random() < f.duplicate_rate:
            r = self.f_rng["dup"]
            later = recv + r.randint(1_000, 6 * MS_HOUR)
            copy = dict(ev, received_at=self.clock.iso(later))
            self._put(
                source, later, 1, event_id, json.dumps(copy, separators=(",", ":"), sort_keys=False)
            )
            self.fault_lines["duplicate"] += 1
        if f.malformed_rate and self.f_rng["malformed"].random() < f.malformed_rate:
            r = self.f_rng["malformed"]
            if r.random() < 0.7:
                bad = line[: r.randint(1, len(line) - 2)]
            else:
                bad = r.choice(
                    (
                        "<html><body>502 Bad Gateway</body></html>",
                        "ERROR upstream timeout",
                        "event_id=" + event_id,
                        "{'not': json",
                    )
                )
            self._put(source, recv, 0, event_id + "~m", bad)
            self.fault_lines["malformed"] += 1
        if (
            f.unknown_type_rate
            and source == "web"
            and self.f_rng["unknown"].random() < f.unknown_type_rate
        ):
            r = self.f_rng["unknown"]
            ut = t + r.randint(1_000, 20_000)
            urecv = ut + r.randint(50, 3_000)
            utype = r.choice(UNKNOWN_TYPES)
            uprops = {"product_id": r.choice(self.product_ids)} if utype == "wishlist_add" else {}
            uev = {
                "event_id": _uuid(r),
                "event_type": utype,
                "schema_version": 1,
                "source": "web",
                "event_time": iso(ut),
                "received_at": iso(urecv),
            }
            for k in ("anonymous_id", "user_id", "context"):
                if k in ev:
                    uev[k] = ev[k]
            uev["properties"] = uprops
            self._put(
                "web",
                urecv,
                0,
                uev["event_id"],
                json.dumps(uev, separators=(",", ":"), sort_keys=False),
            )
            self.fault_lines["unknown_type"] += 1
        return True

    def _put(
        self, source: str, recv: int, part: int, key: str, line: str, sort_ms: int | None = None
    ) -> None:
        b = (source, recv // MS_HOUR, part)
        lst = self.buckets.get(b)
        if lst is None:
            lst = self.buckets[b] = []
        lst.append((recv if sort_ms is None else sort_ms, key, line))

    def _register(
        self,
        idx: int,
        t: int,
        anon: str | None,
        user_id: object,
        email: str | None,
        pcid: str | None,
    ) -> None:
        fs = self.first_seen.get(idx)
        if fs is None or t < fs:
            self.first_seen[idx] = t
        keys = []
        if anon is not None:
            keys.append(("anonymous_id", anon))
        if isinstance(user_id, str):
            keys.append(("user_id", user_id))
        if email is not None:
            keys.append(("email", email.strip().lower()))
        if pcid is not None:
            keys.append(("payment_customer_id", pcid))
        for k in keys:
            owners = self.ident.get(k)
            if owners is None:
                self.ident[k] = {idx: t}
            elif idx not in owners or t < owners[idx]:
                owners[idx] = t

    # --------------------------------------------------------------- catalog
    def _catalog(self) -> None:
        rng = self.world_rng
        n = max(50, min(200, 50 + self.users // 20))
        cats = list(CATEGORIES)
        self.product_ids: list[str] = []
        self.prices: dict[str, tuple[list[int], list[float]]] = {}
        names: set[str] = set()
        t = self.start_ms + rng.randint(5_000, 30_000)
        for i in range(n):
            cat = cats[i % len(cats)]
            adjs, nouns = CATEGORIES[cat]
            name = f"{rng.choice(adjs)} {rng.choice(nouns)}"
            while name in names:
                name = f"{name} {rng.choice(('II', 'Plus', 'Lite', 'XL', 'Eco'))}"
            names.add(name)
            price = round(max(3.0, CATEGORY_PRICE[cat] * rng.lognormvariate(0, 0.45))) - 0.01
            pid = f"prod_{1001 + i}"
            self.product_ids.append(pid)
            self.prices[pid] = ([t], [price])
            self.emit(
                None,
                rng,
                "product_created",
                "catalog",
                t,
                {
                    "product_id": pid,
                    "name": name,
                    "category": cat,
                    "price": price,
                    "currency": "EUR",
                },
            )
            t += rng.randint(100, 1_500)
        self.product_cum = list(accumulate(1.0 / (r + 1) ** 0.9 for r in range(n)))
        order = self.product_ids[:]
        rng.shuffle(order)
        self.product_ids = order
        changes = []
        for _ in range(max(3, n // 10)):
            changes.append(
                (rng.randint(self.start_ms + MS_DAY // 2, self.end_ms - MS_HOUR), rng.choice(order))
            )
        for tc, pid in sorted(changes):
            ts, ps = self.prices[pid]
            old = ps[-1]
            new = round(max(2.99, old * rng.choice((0.7, 0.8, 0.85, 0.9, 1.1, 1.15))), 2)
            if new == old:
                continue
            ts.append(tc)
            ps.append(new)
            self.emit(
                None,
                rng,
                "product_price_changed",
                "catalog",
                tc,
                {"product_id": pid, "old_price": old, "new_price": new, "currency": "EUR"},
            )

    def price(self, pid: str, t: int, currency: str) -> float:
        ts, ps = self.prices[pid]
        p = ps[bisect_right(ts, t) - 1]
        return p if currency == "EUR" else round(p * USD_PER_EUR, 2)

    def pick_product(self, rng: random.Random) -> str:
        return rng.choices(self.product_ids, cum_weights=self.product_cum)[0]

    # --------------------------------------------------------------- persons
    def _email(self, rng: random.Random, idx: int) -> str:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        domain = rng.choices(EMAIL_DOMAINS, cum_weights=EMAIL_DOMAIN_CUM)[0]
        style = rng.random()
        if idx in self.similar_of:
            other = self.persons[self.similar_of[idx]].email
            local, domain = other.split("@")
            vowels = [i for i, c in enumerate(local) if c in "aeiou"]
            # change one vowel of the last name part: jon.smith -> jon.smyth
            i = rng.choice(vowels[len(vowels) // 2 :]) if vowels else len(local) - 1
            local = local[:i] + ("y" if local[i] != "y" else "i") + local[i + 1 :]
        elif style < 0.5:
            local = f"{first}.{last}"
        elif style < 0.75:
            local = f"{first}{last[0]}{rng.randint(1, 99)}"
        else:
            local = f"{first[0]}{last}"
        email = f"{local}@{domain}"
        while email in self.used_emails:
            email = f"{local}{rng.randint(1, 999)}@{domain}"
        self.used_emails.add(email)
        return email

    def typed(self, p: _Person) -> str:
        """The email as the person types it this time."""
        if not self.hard or p.rng.random() < 0.6:
            return p.email_typed
        return self._type_variant(p.rng, p.email)

    @staticmethod
    def _type_variant(rng: random.Random, email: str) -> str:
        local, domain = email.split("@")
        s = rng.random()
        if s < 0.55:
            out = email
        elif s < 0.8:
            out = ".".join(w.capitalize() for w in local.split(".")) + "@" + domain.capitalize()
        elif s < 0.9:
            out = email.upper()
        else:
            out = local.capitalize() + "@" + domain
        w = rng.random()
        if w < 0.1:
            out = "  " + out
        elif w < 0.18:
            out = out + " "
        elif w < 0.22:
            out = " " + out + "  "
        return out

    def _new_device(self, rng: random.Random) -> _Device:
        kind = rng.choices(("desktop", "mobile", "tablet"), cum_weights=(45, 90, 100))[0]
        host = HOSTS[kind]
        if kind == "desktop" and rng.random() < 0.1:
            host = "www.shop.example.com"
        ip = (
            f"{rng.randint(2, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
            f"{rng.randint(1, 254)}"
        )
        return _Device(_uuid(rng), rng.choice(USER_AGENTS[kind]), ip, host)

    def person(self, idx: int) -> None:
        rng = random.Random(self.person_seeds[idx])
        currency = "USD" if rng.random() < 0.12 else "EUR"
        email = self._email(rng, idx)
        n_dev = rng.choices((1, 2, 3), cum_weights=(55, 85, 100))[0]
        devices = [self._new_device(rng) for _ in range(n_dev)]
        shared_first = False
        if idx in self.shared_takers and self.shared_pool:
            _owner, dev = self.shared_pool.pop(rng.randrange(len(self.shared_pool)))
            dev.shared = True
            devices.insert(0, dev)
            shared_first = True
        weights = [1.0] + [rng.uniform(0.15, 0.6) for _ in devices[1:]]
        buyer_type = rng.random() < 0.05
        p = _Person(
            idx,
            f"p_{idx + 1:05d}",
            rng,
            currency,
            email,
            self._type_variant(rng, email),
            devices,
            list(accumulate(weights)),
            conv_p=rng.uniform(0.1, 0.35) if buyer_type else 0.0008,
        )
        self.persons.append(p)

        first_day = rng.randrange(self.days)
        rate = min(8.0, rng.lognormvariate(-0.4, 1.0))
        starts: list[int] = []
        for d in range(first_day, self.days):
            n = _poisson(rng, rate)
            if d == first_day:
                n = max(1, n)
            day0 = self.start_ms + d * MS_DAY
            for _ in range(n):
                h = rng.choices(range(24), cum_weights=HOUR_CUM)[0]
                starts.append(day0 + h * MS_HOUR + rng.randrange(MS_HOUR))
        starts.sort()
        if idx in self.forced_signup or shared_first or rng.random() < 0.38:
            p.signup_session = 0 if rng.random() < 0.45 else rng.randrange(len(starts))
            if shared_first:
                p.signup_session = 0
        last_start = self.end_ms - 3 * MS_HOUR
        prev_end = self.start_ms - 20 * MS_MIN  # the catalogue exists before the first visit
        for s_idx, t in enumerate(starts):
            t = max(t, prev_end + 31 * MS_MIN + rng.randrange(60 * MS_MIN))
            if t > last_start:
                break
            if (s_idx == 0 and shared_first) or not p.email_given:
                dev = devices[0]  # other devices only once the shop can recognise the person
            else:
                dev = rng.choices(devices, cum_weights=p.device_cum)[0]
            prev_end = self.session(p, dev, s_idx, t)
        if p.email_given and rng.random() < self.deletion_rate:
            self.deletion_request(p, prev_end + rng.randint(MS_HOUR, 2 * MS_DAY))

    def deletion_request(self, p: _Person, t: int) -> None:
        """The person asks the shop to forget them (by account when they have one, and email)."""
        self.next_request += p.rng.randint(1, 5)
        if self.emit(
            p,
            p.rng,
            "deletion_requested",
            "privacy",
            t,
            {"request_id": f"dr_{self.next_request}"},
            user_id=p.user_id if p.user_id is not None else _OMIT,
            email=self.typed(p),
        ):
            self.deletions[p.idx] = t

    # --------------------------------------------------------------- sessions
    def web(
        self,
        p: _Person,
        dev: _Device,
        sess: dict,
        etype: str,
        t: int,
        path: str,
        props: dict,
        *,
        logged: bool,
        email: str | None = None,
    ) -> None:
        url = f"https://{dev.host}{path}"
        ctx = {
            "page_url": url,
            "path": path,
            "referrer": sess["ref"],
            "host": dev.host,
            "user_agent": dev.user_agent,
            "ip": dev.ip,
            "campaign": sess["campaign"],
        }
        self.emit(
            p,
            p.rng,
            etype,
            "web",
            t,
            props,
            anon=dev.anon,
            user_id=p.user_id if logged else _OMIT,
            email=email,
            context=ctx,
        )
        sess["ref"] = url

    def session(self, p: _Person, dev: _Device, s_idx: int, t: int) -> int:
        """Simulate one visit starting at ``t``; returns the time of its last web event."""
        rng = p.rng
        n = min(30, max(1, int(rng.lognormvariate(1.75, 0.8))))
        converting = n >= 3 and rng.random() < p.conv_p
        ref, campaigns = REFERRERS[rng.choices(range(len(REFERRERS)), cum_weights=REFERRER_CUM)[0]]
        sess = {"ref": ref, "campaign": rng.choice(campaigns)}
        new_device = p.email_given and dev.anon not in p.identified_on
        if new_device and p.user_id is None:
            sess = {"ref": NEWSLETTER, "campaign": "newsletter_weekly"}  # see the identify below
        logged = dev.logged_in and not dev.shared
        do_signup = p.signup_session == s_idx and p.user_id is None
        if (
            converting
            and not self.hard
            and not logged
            and p.user_id is None
            and p.signup_session is not None
            and p.signup_session > s_idx
        ):
            do_signup = True  # no guest orders later claimed without hard cases
            p.signup_session = s_idx
        cur = self.pick_product(rng)
        cart: dict[str, int] = {}

        def product_view(t: int) -> None:
            price = self.price(cur, t, p.currency)
            self.web(
                p,
                dev,
                sess,
                "product_view",
                t,
                f"/p/{cur}",
                {"product_id": cur, "price": price, "currency": p.currency},
                logged=logged,
            )

        # Landing page.
        on_product = rng.random() < 0.3
        if on_product:
            product_view(t)
        else:
            self.page_view(
                p,
                dev,
                sess,
                t,
                logged,
                rng.choice(("home", "home", "category", "search", "content")),
                cur,
            )
        # Log in at the start of a visit on a device that does not remember the person (always
        # on the first visit of a device they have not identified on yet).
        if p.user_id is not None and (
            dev.shared
            or new_device
            or (not logged and rng.random() < 0.5)
            or (logged and rng.random() < 0.06)
        ):
            t += _gap(rng)
            logged = True
            self.web(p, dev, sess, "login", t, "/account/login", {}, logged=True)
            p.identified_on.add(dev.anon)
            if not dev.shared:
                dev.logged_in = True
            self.shared_pool_add(p, dev)
        elif new_device:
            # A guest buyer opens a link from the shop's email (order confirmation, newsletter)
            # on a new device: the site's tag identifies the visit with the email it carries.
            t += _gap(rng)
            self.web(
                p, dev, sess, "identify", t, "/account/email", {}, logged=False, email=self.typed(p)
            )
            p.identified_on.add(dev.anon)
        signup_pos = rng.randint(1, max(1, n - 1)) if do_signup else -1
        for k in range(1, max(n, 2 if do_signup else 1)):
            t += _gap(rng)
            if k == signup_pos:
                self.next_user += rng.randint(1, 7)
                p.user_id = f"u_{self.next_user}"
                p.email_given = True
                p.identified_on.add(dev.anon)
                logged = True
                if not dev.shared:
                    dev.logged_in = True
                self.signed_up.add(p.idx)
                self.web(
                    p,
                    dev,
                    sess,
                    "signup",
                    t,
                    "/account/signup",
                    {},
                    logged=True,
                    email=self.typed(p),
                )
                self.shared_pool_add(p, dev)
                on_product = False
                continue
            r = rng.random()
            if logged and r < 0.02:
                self.web(
                    p, dev, sess, "identify", t, "/account", {}, logged=True, email=self.typed(p)
                )
            elif r < 0.45:
                kind = rng.choice(("home", "category", "category", "search", "content", "cart"))
                if kind != "cart":
                    cur = self.pick_product(rng)
                self.page_view(p, dev, sess, t, logged, kind, cur)
            elif r < 0.86 or cur in cart or not on_product:
                if on_product or rng.random() < 0.7:
                    cur = self.pick_product(rng)
                product_view(t)
                on_product = True
                continue
            else:
                self.add_to_cart(p, dev, sess, t, logged, cur, cart)
            on_product = False
        if converting:
            if not cart:
                if not on_product:
                    t += _gap(rng)
                    product_view(t)
                t += _gap(rng)
                self.add_to_cart(p, dev, sess, t, logged, cur, cart)
            if not logged and p.user_id is not None and rng.random() < 0.5:
                t += _gap(rng)
                logged = True
                self.web(p, dev, sess, "login", t, "/account/login", {}, logged=True)
                p.identified_on.add(dev.anon)
                if not dev.shared:
                    dev.logged_in = True
            t += _gap(rng)
            if not logged:
                # a guest types their email at checkout; the site identifies the visit with it
                self.web(
                    p, dev, sess, "identify", t, "/checkout", {}, logged=False, email=self.typed(p)
                )
                p.identified_on.add(dev.anon)
                p.email_given = True
                t += _gap(rng)
            self.checkout(p, dev, sess, t, logged, cart)
            self.order(p, t + rng.randint(20_000, 180_000), logged, cart)
            if (
                self.hard
                and not logged
                and p.user_id is None
                and p.signup_session is None
                and rng.random() < 0.5
            ):
                p.signup_session = s_idx + 1  # the guest order gets claimed by an account later
        elif cart and rng.random() < 0.12:
            t += _gap(rng)
            self.checkout(p, dev, sess, t, logged, cart)
        return t

    def shared_pool_add(self, p: _Person, dev: _Device) -> None:
        """Offer a device its owner logged in on to a later person (a shared family device)."""
        if self.hard and not dev.shared and dev.anon not in self.pooled:
            self.pooled.add(dev.anon)
            self.shared_pool.append((p.idx, dev))

    def page_view(
        self, p: _Person, dev: _Device, sess: dict, t: int, logged: bool, kind: str, cur: str
    ) -> None:
        rng = p.rng
        if kind == "home":
            path, title = "/", "Home"
        elif kind == "category":
            cat = rng.choice(tuple(CATEGORIES))
            path, title = f"/c/{cat}", f"{cat.capitalize()} | Shop"
        elif kind == "search":
            q = rng.choice(SEARCH_TERMS)
            path, title = f"/search?q={q}", f"Search: {q}"
        elif kind == "content":
            path, title = rng.choice(CONTENT_PAGES)
        else:
            path, title = "/cart", "Your cart"
        self.web(
            p, dev, sess, "page_view", t, path, {"page_type": kind, "title": title}, logged=logged
        )

    def add_to_cart(
        self,
        p: _Person,
        dev: _Device,
        sess: dict,
        t: int,
        logged: bool,
        cur: str,
        cart: dict[str, int],
    ) -> None:
        qty = p.rng.choices((1, 2, 3), cum_weights=(80, 95, 100))[0]
        cart[cur] = cart.get(cur, 0) + qty
        self.web(
            p,
            dev,
            sess,
            "add_to_cart",
            t,
            f"/p/{cur}",
            {
                "product_id": cur,
                "quantity": qty,
                "price": self.price(cur, t, p.currency),
                "currency": p.currency,
            },
            logged=logged,
        )

    def checkout(
        self, p: _Person, dev: _Device, sess: dict, t: int, logged: bool, cart: dict[str, int]
    ) -> None:
        value = round(sum(q * self.price(pid, t, p.currency) for pid, q in cart.items()), 2)
        self.web(
            p,
            dev,
            sess,
            "checkout_started",
            t,
            "/checkout",
            {"cart_value": value, "item_count": sum(cart.values()), "currency": p.currency},
            logged=logged,
        )

    # ----------------------------------------------------------------- orders
    def order(self, p: _Person, t: int, logged: bool, cart: dict[str, int]) -> None:
        rng = p.rng
        self.next_order += rng.randint(1, 5)
        oid = f"o_{self.next_order}"
        lines = [
            {"product_id": pid, "quantity": q, "unit_price": self.price(pid, t, p.currency)}
            for pid, q in cart.items()
        ]
        total = round(sum(ln["quantity"] * ln["unit_price"] for ln in lines), 2)
        cur = p.currency
        if not self.emit(
            p,
            rng,
            "order_created",
            "shop",
            t,
            {"currency": cur, "total_amount": total, "lines": lines},
            user_id=p.user_id if logged else None,
            email=self.typed(p),
            order_id=oid,
        ):
            return
        self.orders[oid] = p.idx
        self.buyers.add(p.idx)
        p.n_orders += 1
        if not p.pcids:
            self.next_pc += rng.randint(1, 9)
            p.pcids.append(f"pc_{self.next_pc}")
            if rng.random() < 0.06:
                self.next_pc += rng.randint(1, 9)
                p.pcids.append(f"pc_{self.next_pc}")
        method = rng.choices(METHODS, cum_weights=METHOD_CUM)[0]
        t += rng.randint(2_000, 20_000)
        paid_at: int | None = None
        pay_id = ""
        failed = rng.random() < 0.08
        if failed:
            pay_id = self.payment(
                p,
                oid,
                t,
                "payment_failed",
                total,
                method,
                {"failure_reason": rng.choice(FAILURE_REASONS)},
            )
            if rng.random() < 0.65:  # retry with a new payment
                t += rng.randint(30_000, 15 * MS_MIN)
                failed = False
        if not failed:
            pay_id = self.payment(p, oid, t, "payment_authorized", total, method, {})
            t += rng.randint(1_000, 10 * MS_MIN)
            self.payment(p, oid, t, "payment_captured", total, method, {}, pay_id=pay_id)
            paid_at = t
        if paid_at is None:
            t += rng.randint(20 * MS_MIN, 3 * MS_HOUR)
            self.status(p, oid, t, "cancelled", None)
            return
        t += rng.randint(1_000, 60_000)
        self.status(p, oid, t, "paid", None)
        if rng.random() < 0.02:
            t += rng.randint(10 * MS_MIN, 6 * MS_HOUR)
            self.status(p, oid, t, "cancelled", "paid")
            self.refund(p, oid, pay_id, t, total, "cancelled")
            return
        t += rng.randint(6 * MS_HOUR, 3 * MS_DAY)
        self.status(p, oid, t, "shipped", "paid")
        t += rng.randint(MS_DAY, 4 * MS_DAY)
        self.status(p, oid, t, "delivered", "shipped")
        if rng.random() < 0.05:
            t += rng.randint(MS_DAY, 10 * MS_DAY)
            self.refund(p, oid, pay_id, t, total, rng.choice(REFUND_REASONS))

    def status(self, p: _Person, oid: str, t: int, status: str, prev: str | None) -> None:
        self.emit(
            p,
            p.rng,
            "order_status_changed",
            "shop",
            t,
            {"status": status, "previous_status": prev},
            order_id=oid,
        )

    def refund(self, p: _Person, oid: str, pay_id: str, t: int, total: float, reason: str) -> None:
        rng = p.rng
        self.emit(
            p,
            rng,
            "order_refunded",
            "shop",
            t,
            {"amount": total, "currency": p.currency, "reason": reason},
            order_id=oid,
        )
        self.next_refund += rng.randint(1, 5)
        pcid = p.pcids[-1] if len(p.pcids) > 1 and rng.random() < 0.3 else p.pcids[0]
        self.emit(
            p,
            rng,
            "payment_refunded",
            "payments",
            t + rng.randint(MS_MIN, 2 * MS_HOUR),
            {
                "payment_id": pay_id,
                "amount": total,
                "currency": p.currency,
                "refund_id": f"re_{self.next_refund}",
            },
            pcid=pcid,
            order_id=oid if rng.random() < 0.9 else None,
        )

    def payment(
        self,
        p: _Person,
        oid: str,
        t: int,
        etype: str,
        amount: float,
        method: str,
        extra: dict,
        pay_id: str | None = None,
    ) -> str:
        rng = p.rng
        if pay_id is None:
            self.next_payment += rng.randint(1, 9)
            pay_id = f"pay_{self.next_payment}"
        pcid = p.pcids[-1] if len(p.pcids) > 1 and rng.random() < 0.3 else p.pcids[0]
        props = {
            "payment_id": pay_id,
            "amount": amount,
            "currency": p.currency,
            "method": method,
            **extra,
        }
        if self.emit(
            p,
            rng,
            etype,
            "payments",
            t,
            props,
            pcid=pcid,
            order_id=oid if rng.random() < 0.9 else None,
        ):
            self.payments.setdefault(pay_id, (oid, p.idx))
        return pay_id

    # ----------------------------------------------------------------- output
    def truth(self) -> tuple[dict[Path, bytes], list[str]]:
        pids = [p.pid for p in self.persons]
        ident_rows, shared_rows = [], []
        for (itype, value), owners in sorted(self.ident.items()):
            ranked = sorted(owners.items(), key=lambda kv: (kv[1], kv[0]))
            if len(ranked) > 1:
                if itype != "anonymous_id":
                    raise AssertionError(f"{itype} {value} used by several persons")
                shared_rows.append([value, pids[ranked[0][0]], pids[ranked[1][0]]])
            ident_rows.append([itype, value, pids[ranked[0][0]]])
        persons_rows = [
            [
                p.pid,
                self.clock.iso(self.first_seen[p.idx]) if p.idx in self.first_seen else "",
                "true" if p.idx in self.signed_up else "false",
            ]
            for p in self.persons
        ]
        files = {
            Path("_truth/identifiers.csv"): _csv(
                ["identifier_type", "identifier_value", "person_id"], ident_rows
            ),
            Path("_truth/shared_anonymous_ids.csv"): _csv(
                ["anonymous_id", "person_id", "other_person_id"], shared_rows
            ),
            Path("_truth/orders.csv"): _csv(
                ["order_id", "person_id"], [[o, pids[i]] for o, i in sorted(self.orders.items())]
            ),
            Path("_truth/payments.csv"): _csv(
                ["payment_id", "order_id", "person_id"],
                [[k, o, pids[i]] for k, (o, i) in sorted(self.payments.items())],
            ),
            Path("_truth/persons.csv"): _csv(
                ["person_id", "first_seen_at", "signed_up"], persons_rows
            ),
            Path("_truth/deletion_requests.csv"): _csv(
                ["person_id", "requested_at"],
                [[pids[i], self.clock.iso(t)] for i, t in sorted(self.deletions.items())],
            ),
        }
        return files, [r[0] for r in shared_rows]


def generate(
    out: Path,
    start: date,
    days: int,
    users: int,
    seed: int,
    faults: Faults | None = None,
    hard_cases: bool = True,
    progress: bool = True,
    deletion_rate: float = DELETION_RATE,
) -> GenerateSummary:
    """Simulate ``users`` persons over ``days`` days from ``start`` and land their events.

    Writes ``<out>/source=<s>/date=<YYYY-MM-DD>/hour=<HH>/part-0000N.ndjson.gz`` (``part-00001``
    only holds duplicate deliveries) and the ground truth under ``<out>/_truth/``. ``out`` may
    already hold other files; a file this call would write that exists with different bytes makes
    it raise ``ValueError`` before anything is written (identical files are left alone, so a
    rerun with the same arguments is a no-op).

    Args:
        out: landing directory (created if missing).
        start: first day (UTC) of the simulated period.
        days: length of the period in days; no event is received after its end.
        users: number of real persons.
        seed: seed of the only source of randomness.
        faults: delivery faults to inject (none by default).
        hard_cases: add shared devices, look-alike emails, claimed guest orders and emails
            typed differently across events.
        progress: show a rich progress bar on stderr.
        deletion_rate: share of the persons known to the shop who later ask to be forgotten
            (a ``privacy`` ``deletion_requested`` event after their last visit).
    """
    if days < 1 or users < 1:
        raise ValueError(f"days and users must be >= 1, got days={days}, users={users}")
    if not 0 <= deletion_rate <= 1:
        raise ValueError(f"deletion_rate must be between 0 and 1, got {deletion_rate}")
    out = Path(out)
    sim = _Simulator(start, days, users, seed, faults or Faults(), hard_cases, deletion_rate)
    if progress:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task("simulating persons", total=users)
            for idx in range(users):
                sim.person(idx)
                bar.advance(task)
            wtask = bar.add_task("compressing files", total=len(sim.buckets))
            files = {}
            for rel, data in _iter_files(sim):
                files[rel] = data
                bar.advance(wtask)
    else:
        for idx in range(users):
            sim.person(idx)
        files = dict(_iter_files(sim))
    truth, _shared = sim.truth()
    files.update(truth)

    unchanged = set()
    for rel, data in files.items():
        path = out / rel
        if path.exists():
            if path.read_bytes() != data:
                raise ValueError(
                    f"refusing to overwrite {path}: it already exists with different content "
                    "(landed files are immutable; use an empty output directory)"
                )
            unchanged.add(rel)
    for rel, data in files.items():
        if rel in unchanged:
            continue
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    n_lines = sum(len(v) for v in sim.buckets.values())
    data_files = [r for r in files if r.parts[0] != "_truth"]
    return GenerateSummary(
        events_by_source={s: sim.by_source.get(s, 0) for s in SOURCES},
        events_by_type=dict(sorted(sim.by_type.items())),
        lines_written=n_lines,
        files_written=len(data_files),
        files_unchanged=sum(1 for r in unchanged if r.parts[0] != "_truth"),
        persons=users,
        signed_up=len(sim.signed_up),
        buyers=len(sim.buyers),
        orders=len(sim.orders),
        payments=len(sim.payments),
        fault_lines=dict(sorted(sim.fault_lines.items())),
    )


def _iter_files(sim: _Simulator) -> Iterator[tuple[Path, bytes]]:
    """Yield (relative path, gzip bytes) of the data files, in path order."""
    for (source, hour_idx, part), lst in sorted(sim.buckets.items()):
        lst.sort()
        d, h = divmod(hour_idx, 24)
        rel = Path(
            f"source={source}",
            f"date={sim.clock.day(d)}",
            f"hour={h:02d}",
            f"part-{part:05d}.ndjson.gz",
        )
        yield rel, _gzip(("\n".join(x[2] for x in lst) + "\n").encode("utf-8"))
