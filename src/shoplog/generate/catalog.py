"""The product catalogue: products created at the start, a few price changes later."""

from __future__ import annotations

import random
from bisect import bisect_right
from itertools import accumulate

from shoplog.generate.clock import MS_DAY, MS_HOUR
from shoplog.generate.emitter import Emitter
from shoplog.generate.vocabulary import CATEGORIES, CATEGORY_PRICE, USD_PER_EUR


class Catalog:
    """Products (``prod_1001`` on), each with its prices over time (EUR) and a popularity.

    ``product_ids`` is in popularity order after ``build``: the first is picked most often.
    """

    def __init__(self) -> None:
        self.product_ids: list[str] = []
        self.product_cum: list[float] = []
        self.prices: dict[str, tuple[list[int], list[float]]] = {}  # id -> (times, prices)

    def build(
        self, rng: random.Random, start_ms: int, end_ms: int, users: int, emitter: Emitter
    ) -> None:
        """Create 50 to 200 products just after ``start_ms``, then change some prices."""
        n = max(50, min(200, 50 + users // 20))
        self._create(rng, n, start_ms, emitter)
        self.product_cum = list(accumulate(1.0 / (r + 1) ** 0.9 for r in range(n)))
        rng.shuffle(self.product_ids)
        changes = [
            (rng.randint(start_ms + MS_DAY // 2, end_ms - MS_HOUR), rng.choice(self.product_ids))
            for _ in range(max(3, n // 10))
        ]
        for tc, pid in sorted(changes):
            self._change_price(rng, pid, tc, emitter)

    def _create(self, rng: random.Random, n: int, start_ms: int, emitter: Emitter) -> None:
        """Create ``n`` products, a few seconds apart, categories taking turns."""
        cats = list(CATEGORIES)
        names: set[str] = set()
        t = start_ms + rng.randint(5_000, 30_000)
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
            props = {
                "product_id": pid,
                "name": name,
                "category": cat,
                "price": price,
                "currency": "EUR",
            }
            emitter.emit(None, rng, "product_created", "catalog", t, props)
            t += rng.randint(100, 1_500)

    def _change_price(self, rng: random.Random, pid: str, tc: int, emitter: Emitter) -> None:
        """Change the price of ``pid`` at ``tc`` (up or down 10 to 30%; no event if unchanged)."""
        ts, ps = self.prices[pid]
        old = ps[-1]
        new = round(max(2.99, old * rng.choice((0.7, 0.8, 0.85, 0.9, 1.1, 1.15))), 2)
        if new == old:
            return
        ts.append(tc)
        ps.append(new)
        emitter.emit(
            None,
            rng,
            "product_price_changed",
            "catalog",
            tc,
            {"product_id": pid, "old_price": old, "new_price": new, "currency": "EUR"},
        )

    def price(self, pid: str, t: int, currency: str) -> float:
        """The price of ``pid`` at ``t`` in ``currency`` (EUR, or USD rounded to cents)."""
        ts, ps = self.prices[pid]
        p = ps[bisect_right(ts, t) - 1]
        return p if currency == "EUR" else round(p * USD_PER_EUR, 2)

    def pick(self, rng: random.Random) -> str:
        """A product id, popular ones more often."""
        return rng.choices(self.product_ids, cum_weights=self.product_cum)[0]
