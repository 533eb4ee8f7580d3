"""The simulation: the world (catalogue, persons, ids) and what each person does in it."""

from __future__ import annotations

import random
from bisect import bisect_right
from datetime import date
from itertools import accumulate

from shoplog.generate.clock import MS_DAY, MS_HOUR, MS_MIN, Clock, epoch_ms
from shoplog.generate.draws import gap, poisson, uuid
from shoplog.generate.emitter import Emitter
from shoplog.generate.envelope import OMIT, Keys
from shoplog.generate.faults import FaultInjector, Faults
from shoplog.generate.people import Device, Person
from shoplog.generate.truth import Truth
from shoplog.generate.vocabulary import (
    CATEGORIES,
    CATEGORY_PRICE,
    CONTENT_PAGES,
    EMAIL_DOMAIN_CUM,
    EMAIL_DOMAINS,
    FAILURE_REASONS,
    FIRST_NAMES,
    HOSTS,
    HOUR_CUM,
    LAST_NAMES,
    METHOD_CUM,
    METHODS,
    NEWSLETTER,
    REFERRER_CUM,
    REFERRERS,
    REFUND_REASONS,
    SEARCH_TERMS,
    USD_PER_EUR,
    USER_AGENTS,
)
from shoplog.generate.writer import Landing

#: Share of persons known to the shop (by account or email) who ask to be forgotten.
DELETION_RATE = 0.01


class Simulator:
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
        self.clock = Clock()
        self.start_ms = epoch_ms(start)
        self.end_ms = self.start_ms + days * MS_DAY
        self.days = days
        self.users = users
        self.hard = hard_cases
        self.deletion_rate = deletion_rate
        # Independent streams: base world, and one per fault kind.
        self.world_rng = random.Random(self.master.getrandbits(64))
        self.person_seeds = [self.master.getrandbits(64) for _ in range(users)]
        self.faults = FaultInjector(faults, self.master, self.clock)
        # Output.
        self.landing = Landing()
        self.truth = Truth()
        self.emitter = Emitter(self.end_ms, self.clock, self.faults, self.landing, self.truth)
        # Counters for ids (gapped, so ids are not dense sequences).
        self.next_user = 1000
        self.next_order = 100000
        self.next_payment = 500000
        self.next_pc = 7000
        self.next_refund = 1
        self.next_request = 1
        self.used_emails: set[str] = set()
        self.persons: list[Person] = []
        # Hard cases chosen up front.
        self.shared_pool: list[tuple[int, Device]] = []  # (person idx, device) with a login
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
        self.faults.products = self.product_ids

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
            self.emitter.emit(
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
            self.emitter.emit(
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

    def typed(self, p: Person) -> str:
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

    def _new_device(self, rng: random.Random) -> Device:
        kind = rng.choices(("desktop", "mobile", "tablet"), cum_weights=(45, 90, 100))[0]
        host = HOSTS[kind]
        if kind == "desktop" and rng.random() < 0.1:
            host = "www.shop.example.com"
        ip = (
            f"{rng.randint(2, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
            f"{rng.randint(1, 254)}"
        )
        return Device(uuid(rng), rng.choice(USER_AGENTS[kind]), ip, host)

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
        p = Person(
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
            n = poisson(rng, rate)
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

    def deletion_request(self, p: Person, t: int) -> None:
        """The person asks the shop to forget them (by account when they have one, and email)."""
        self.next_request += p.rng.randint(1, 5)
        if self.emitter.emit(
            p.idx,
            p.rng,
            "deletion_requested",
            "privacy",
            t,
            {"request_id": f"dr_{self.next_request}"},
            Keys(user_id=p.user_id if p.user_id is not None else OMIT, email=self.typed(p)),
        ):
            self.truth.deletions[p.idx] = t

    # --------------------------------------------------------------- sessions
    def web(
        self,
        p: Person,
        dev: Device,
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
        self.emitter.emit(
            p.idx,
            p.rng,
            etype,
            "web",
            t,
            props,
            Keys(anon=dev.anon, user_id=p.user_id if logged else OMIT, email=email),
            context=ctx,
        )
        sess["ref"] = url

    def session(self, p: Person, dev: Device, s_idx: int, t: int) -> int:
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
            t += gap(rng)
            logged = True
            self.web(p, dev, sess, "login", t, "/account/login", {}, logged=True)
            p.identified_on.add(dev.anon)
            if not dev.shared:
                dev.logged_in = True
            self.shared_pool_add(p, dev)
        elif new_device:
            # A guest buyer opens a link from the shop's email (order confirmation, newsletter)
            # on a new device: the site's tag identifies the visit with the email it carries.
            t += gap(rng)
            self.web(
                p, dev, sess, "identify", t, "/account/email", {}, logged=False, email=self.typed(p)
            )
            p.identified_on.add(dev.anon)
        signup_pos = rng.randint(1, max(1, n - 1)) if do_signup else -1
        for k in range(1, max(n, 2 if do_signup else 1)):
            t += gap(rng)
            if k == signup_pos:
                self.next_user += rng.randint(1, 7)
                p.user_id = f"u_{self.next_user}"
                p.email_given = True
                p.identified_on.add(dev.anon)
                logged = True
                if not dev.shared:
                    dev.logged_in = True
                self.truth.signed_up.add(p.idx)
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
                    t += gap(rng)
                    product_view(t)
                t += gap(rng)
                self.add_to_cart(p, dev, sess, t, logged, cur, cart)
            if not logged and p.user_id is not None and rng.random() < 0.5:
                t += gap(rng)
                logged = True
                self.web(p, dev, sess, "login", t, "/account/login", {}, logged=True)
                p.identified_on.add(dev.anon)
                if not dev.shared:
                    dev.logged_in = True
            t += gap(rng)
            if not logged:
                # a guest types their email at checkout; the site identifies the visit with it
                self.web(
                    p, dev, sess, "identify", t, "/checkout", {}, logged=False, email=self.typed(p)
                )
                p.identified_on.add(dev.anon)
                p.email_given = True
                t += gap(rng)
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
            t += gap(rng)
            self.checkout(p, dev, sess, t, logged, cart)
        return t

    def shared_pool_add(self, p: Person, dev: Device) -> None:
        """Offer a device its owner logged in on to a later person (a shared family device)."""
        if self.hard and not dev.shared and dev.anon not in self.pooled:
            self.pooled.add(dev.anon)
            self.shared_pool.append((p.idx, dev))

    def page_view(
        self, p: Person, dev: Device, sess: dict, t: int, logged: bool, kind: str, cur: str
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
        p: Person,
        dev: Device,
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
        self, p: Person, dev: Device, sess: dict, t: int, logged: bool, cart: dict[str, int]
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
    def order(self, p: Person, t: int, logged: bool, cart: dict[str, int]) -> None:
        rng = p.rng
        self.next_order += rng.randint(1, 5)
        oid = f"o_{self.next_order}"
        lines = [
            {"product_id": pid, "quantity": q, "unit_price": self.price(pid, t, p.currency)}
            for pid, q in cart.items()
        ]
        total = round(sum(ln["quantity"] * ln["unit_price"] for ln in lines), 2)
        cur = p.currency
        if not self.emitter.emit(
            p.idx,
            rng,
            "order_created",
            "shop",
            t,
            {"currency": cur, "total_amount": total, "lines": lines},
            Keys(user_id=p.user_id if logged else None, email=self.typed(p), order_id=oid),
        ):
            return
        self.truth.orders[oid] = p.idx
        self.truth.buyers.add(p.idx)
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

    def status(self, p: Person, oid: str, t: int, status: str, prev: str | None) -> None:
        self.emitter.emit(
            p.idx,
            p.rng,
            "order_status_changed",
            "shop",
            t,
            {"status": status, "previous_status": prev},
            Keys(order_id=oid),
        )

    def refund(self, p: Person, oid: str, pay_id: str, t: int, total: float, reason: str) -> None:
        rng = p.rng
        self.emitter.emit(
            p.idx,
            rng,
            "order_refunded",
            "shop",
            t,
            {"amount": total, "currency": p.currency, "reason": reason},
            Keys(order_id=oid),
        )
        self.next_refund += rng.randint(1, 5)
        pcid = p.pcids[-1] if len(p.pcids) > 1 and rng.random() < 0.3 else p.pcids[0]
        self.emitter.emit(
            p.idx,
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
            Keys(pcid=pcid, order_id=oid if rng.random() < 0.9 else None),
        )

    def payment(
        self,
        p: Person,
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
        if self.emitter.emit(
            p.idx,
            rng,
            etype,
            "payments",
            t,
            props,
            Keys(pcid=pcid, order_id=oid if rng.random() < 0.9 else None),
        ):
            self.truth.payments.setdefault(pay_id, (oid, p.idx))
        return pay_id
