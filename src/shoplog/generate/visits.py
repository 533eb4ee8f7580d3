"""A visit: a person browsing the shop on one device, and the web events it leaves.

A visit lands on a page (from a referrer, perhaps with a campaign), may start with a login (or,
for a guest on a new device, an ``identify`` from a link in the shop's email), then browses:
page views, product views, adding to the cart, maybe signing up. A converting visit ends at
checkout with an order; a guest gives their email there (an ``identify``).
"""

from __future__ import annotations

from shoplog.generate.draws import gap
from shoplog.generate.envelope import OMIT, Event, Keys
from shoplog.generate.orders import place_order
from shoplog.generate.people import Device, Person
from shoplog.generate.vocabulary import (
    CATEGORIES,
    CONTENT_PAGES,
    NEWSLETTER,
    REFERRER_CUM,
    REFERRERS,
    SEARCH_TERMS,
)
from shoplog.generate.world import World


class Visit:
    """Visit number ``s_idx`` of person ``p`` on device ``dev``, starting at ``t``.

    ``t`` is the time of the latest web event; ``logged`` whether the visit is logged in;
    ``cur`` the product in view (or last picked); ``ref`` the referrer of the next page.
    """

    def __init__(self, world: World, p: Person, dev: Device, s_idx: int, t: int) -> None:
        self.world, self.p, self.dev, self.s_idx, self.t = world, p, dev, s_idx, t
        rng = self.rng = p.rng
        self.n = min(30, max(1, int(rng.lognormvariate(1.75, 0.8))))
        self.converting = self.n >= 3 and rng.random() < p.conv_p
        ref, campaigns = REFERRERS[rng.choices(range(len(REFERRERS)), cum_weights=REFERRER_CUM)[0]]
        self.ref, self.campaign = ref, rng.choice(campaigns)
        self.new_device = p.email_given and dev.anon not in p.identified_on
        if self.new_device and p.user_id is None:
            self.ref, self.campaign = NEWSLETTER, "newsletter_weekly"  # see recognise()
        self.logged = dev.logged_in and not dev.shared
        self.do_signup = self._signs_up()
        self.cur = world.catalog.pick(rng)
        self.cart: dict[str, int] = {}
        self.on_product = False

    def _signs_up(self) -> bool:
        """Whether the person signs up on this visit (the one chosen for it, if no account)."""
        p = self.p
        if (
            self.converting
            and not self.world.hard_cases.enabled
            and not self.logged
            and p.user_id is None
            and p.signup_session is not None
            and p.signup_session > self.s_idx
        ):
            p.signup_session = self.s_idx  # no guest orders later claimed without hard cases
            return True
        return p.signup_session == self.s_idx and p.user_id is None

    def run(self) -> int:
        """Simulate the visit; return the time of its last web event."""
        self.land()
        self.recognise()
        self.browse()
        if self.converting:
            self.convert()
        elif self.cart and self.rng.random() < 0.12:
            self.t += gap(self.rng)
            self.checkout()
        return self.t

    # ------------------------------------------------------------ the course of a visit
    def land(self) -> None:
        """The landing page: a product (30%) or the home, a category, a search, content."""
        self.on_product = self.rng.random() < 0.3
        if self.on_product:
            self.product_view()
        else:
            self.page_view(self.rng.choice(("home", "home", "category", "search", "content")))

    def recognise(self) -> None:
        """Log in at the start of a visit on a device that does not remember the person
        (always on the first visit of a device they have not identified on yet)."""
        p, dev, rng = self.p, self.dev, self.rng
        if p.user_id is not None and (
            dev.shared
            or self.new_device
            or (not self.logged and rng.random() < 0.5)
            or (self.logged and rng.random() < 0.06)
        ):
            self.log_in()
            self.world.hard_cases.offer_device(p.idx, dev)
        elif self.new_device:
            # A guest buyer opens a link from the shop's email (order confirmation, newsletter)
            # on a new device: the site's tag identifies the visit with the email it carries.
            self.t += gap(rng)
            self.web("identify", "/account/email", {}, logged=False, email=self.typed())
            p.identified_on.add(dev.anon)

    def browse(self) -> None:
        """The pages after the landing page; the signup, if any, at a random one of them."""
        signup_pos = self.rng.randint(1, max(1, self.n - 1)) if self.do_signup else -1
        for k in range(1, max(self.n, 2 if self.do_signup else 1)):
            self.t += gap(self.rng)
            if k == signup_pos:
                self.sign_up()
            else:
                self.step()

    def step(self) -> None:
        """One page: an identify (rare), a page view, a product view or an add to cart."""
        rng = self.rng
        r = rng.random()
        if self.logged and r < 0.02:
            self.web("identify", "/account", {}, logged=True, email=self.typed())
        elif r < 0.45:
            kind = rng.choice(("home", "category", "category", "search", "content", "cart"))
            if kind != "cart":
                self.cur = self.world.catalog.pick(rng)
            self.page_view(kind)
        elif r < 0.86 or self.cur in self.cart or not self.on_product:
            if self.on_product or rng.random() < 0.7:
                self.cur = self.world.catalog.pick(rng)
            self.product_view()
            self.on_product = True
            return
        else:
            self.add_to_cart()
        self.on_product = False

    def convert(self) -> None:
        """Fill the cart if empty, log in or give an email, check out and order."""
        p, rng = self.p, self.rng
        if not self.cart:
            if not self.on_product:
                self.t += gap(rng)
                self.product_view()
            self.t += gap(rng)
            self.add_to_cart()
        if not self.logged and p.user_id is not None and rng.random() < 0.5:
            self.log_in()
        self.t += gap(rng)
        if not self.logged:
            # a guest types their email at checkout; the site identifies the visit with it
            self.web("identify", "/checkout", {}, logged=False, email=self.typed())
            p.identified_on.add(self.dev.anon)
            p.email_given = True
            self.t += gap(rng)
        self.checkout()
        place_order(self.world, p, self.t + rng.randint(20_000, 180_000), self.logged, self.cart)
        if not self.logged:
            self._plan_claim()

    def _plan_claim(self) -> None:
        """Hard case: a guest who ordered signs up on their next visit (half of them), and
        their guest order gets claimed by the account."""
        p = self.p
        if (
            self.world.hard_cases.enabled
            and p.user_id is None
            and p.signup_session is None
            and self.rng.random() < 0.5
        ):
            p.signup_session = self.s_idx + 1

    # ------------------------------------------------------------ identity on the web
    def log_in(self) -> None:
        """The person logs in (the device remembers them unless it is shared)."""
        self.t += gap(self.rng)
        self.logged = True
        self.web("login", "/account/login", {}, logged=True)
        self.p.identified_on.add(self.dev.anon)
        if not self.dev.shared:
            self.dev.logged_in = True

    def sign_up(self) -> None:
        """The person creates an account (and is logged in from then on)."""
        p, dev = self.p, self.dev
        p.user_id = self.world.ids.next("u", self.rng, 7)
        p.email_given = True
        p.identified_on.add(dev.anon)
        self.logged = True
        if not dev.shared:
            dev.logged_in = True
        self.world.truth.sign_up(p.idx)
        self.web("signup", "/account/signup", {}, logged=True, email=self.typed())
        self.world.hard_cases.offer_device(p.idx, dev)
        self.on_product = False

    def typed(self) -> str:
        """The person's email as they type it this time."""
        return self.world.people.typed(self.p)

    # ------------------------------------------------------------ web events
    def page_view(self, kind: str) -> None:
        """A page of ``kind``: home, category, search, content or cart."""
        rng = self.rng
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
        self.web("page_view", path, {"page_type": kind, "title": title}, logged=self.logged)

    def product_view(self) -> None:
        cur, currency = self.cur, self.p.currency
        price = self.world.catalog.price(cur, self.t, currency)
        props = {"product_id": cur, "price": price, "currency": currency}
        self.web("product_view", f"/p/{cur}", props, logged=self.logged)

    def add_to_cart(self) -> None:
        cur, currency = self.cur, self.p.currency
        qty = self.rng.choices((1, 2, 3), cum_weights=(80, 95, 100))[0]
        self.cart[cur] = self.cart.get(cur, 0) + qty
        price = self.world.catalog.price(cur, self.t, currency)
        props = {"product_id": cur, "quantity": qty, "price": price, "currency": currency}
        self.web("add_to_cart", f"/p/{cur}", props, logged=self.logged)

    def checkout(self) -> None:
        currency, price = self.p.currency, self.world.catalog.price
        value = round(sum(q * price(pid, self.t, currency) for pid, q in self.cart.items()), 2)
        props = {"cart_value": value, "item_count": sum(self.cart.values()), "currency": currency}
        self.web("checkout_started", "/checkout", props, logged=self.logged)

    def web(
        self, etype: str, path: str, props: Event, *, logged: bool, email: str | None = None
    ) -> None:
        """Emit web event ``etype`` on ``path``; the page becomes the next one's referrer."""
        p, dev = self.p, self.dev
        url = f"https://{dev.host}{path}"
        ctx = {
            "page_url": url,
            "path": path,
            "referrer": self.ref,
            "host": dev.host,
            "user_agent": dev.user_agent,
            "ip": dev.ip,
            "campaign": self.campaign,
        }
        keys = Keys(anon=dev.anon, user_id=p.user_id if logged else OMIT, email=email)
        self.world.emitter.emit(p.idx, self.rng, etype, "web", self.t, props, keys, ctx)
        self.ref = url
