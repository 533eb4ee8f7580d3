"""Orders: created at checkout, paid (or not), then shipped, delivered, cancelled or refunded.

Shop events (``order_created``, ``order_status_changed``, ``order_refunded``) and payment events
(``payment_*``, by the payment provider's customer id ``pc_N``; about 10% of them without an
order reference). The first status change of an order (``paid``, or ``cancelled`` after a
failed payment) has ``previous_status`` ``null``.
"""

from __future__ import annotations

from typing import Any

from shoplog.generate.clock import MS_DAY, MS_HOUR, MS_MIN
from shoplog.generate.envelope import Event, Keys
from shoplog.generate.people import Person
from shoplog.generate.vocabulary import FAILURE_REASONS, METHOD_CUM, METHODS, REFUND_REASONS
from shoplog.generate.world import World


def place_order(world: World, p: Person, t: int, logged: bool, cart: dict[str, int]) -> None:
    """``p`` orders ``cart`` at ``t``; the order then runs its course (unless past the end)."""
    rng = p.rng
    oid = world.ids.next("o", rng, 5)
    lines: list[dict[str, Any]] = [
        {"product_id": pid, "quantity": q, "unit_price": world.catalog.price(pid, t, p.currency)}
        for pid, q in cart.items()
    ]
    total = round(sum(ln["quantity"] * ln["unit_price"] for ln in lines), 2)
    keys = Keys(user_id=p.user_id if logged else None, email=world.people.typed(p), order_id=oid)
    props = {"currency": p.currency, "total_amount": total, "lines": lines}
    if not world.emitter.emit(p.idx, rng, "order_created", "shop", t, props, keys):
        return
    world.truth.order(oid, p.idx)
    p.n_orders += 1
    _open_payment_account(world, p)
    Order(world, p, oid, total).run(t)


def _open_payment_account(world: World, p: Person) -> None:
    """A first-time buyer gets a payment provider customer id (6%: two of them)."""
    if p.pcids:
        return
    p.pcids.append(world.ids.next("pc", p.rng, 9))
    if p.rng.random() < 0.06:
        p.pcids.append(world.ids.next("pc", p.rng, 9))


class Order:
    """One created order of person ``p``: its payments, status changes and refund."""

    def __init__(self, world: World, p: Person, oid: str, total: float) -> None:
        self.world = world
        self.p = p
        self.rng = p.rng
        self.oid = oid
        self.total = total
        self.pay_id = ""

    def run(self, t: int) -> None:
        """Pay from ``t`` on; an unpaid order is cancelled, a paid one fulfilled."""
        t, paid = self.pay(t)
        if not paid:
            t += self.rng.randint(20 * MS_MIN, 3 * MS_HOUR)
            self.status(t, "cancelled", None)
            return
        self.fulfil(t)

    def pay(self, t: int) -> tuple[int, bool]:
        """Try to pay (8% fail; 65% of those retry); (time of the last payment event, paid)."""
        rng = self.rng
        method = rng.choices(METHODS, cum_weights=METHOD_CUM)[0]
        t += rng.randint(2_000, 20_000)
        if rng.random() < 0.08:
            reason = {"failure_reason": rng.choice(FAILURE_REASONS)}
            self.pay_id = self.payment(t, "payment_failed", method, reason)
            if rng.random() >= 0.65:
                return t, False
            t += rng.randint(30_000, 15 * MS_MIN)  # retry with a new payment
        self.pay_id = self.payment(t, "payment_authorized", method, {})
        t += rng.randint(1_000, 10 * MS_MIN)
        self.payment(t, "payment_captured", method, {}, pay_id=self.pay_id)
        return t, True

    def fulfil(self, t: int) -> None:
        """Paid, then (2%) cancelled and refunded, or shipped, delivered and (5%) refunded."""
        rng = self.rng
        t += rng.randint(1_000, 60_000)
        self.status(t, "paid", None)
        if rng.random() < 0.02:
            t += rng.randint(10 * MS_MIN, 6 * MS_HOUR)
            self.status(t, "cancelled", "paid")
            self.refund(t, "cancelled")
            return
        t += rng.randint(6 * MS_HOUR, 3 * MS_DAY)
        self.status(t, "shipped", "paid")
        t += rng.randint(MS_DAY, 4 * MS_DAY)
        self.status(t, "delivered", "shipped")
        if rng.random() < 0.05:
            t += rng.randint(MS_DAY, 10 * MS_DAY)
            self.refund(t, rng.choice(REFUND_REASONS))

    def status(self, t: int, status: str, prev: str | None) -> None:
        """The order's status changes from ``prev`` (None: it had none) to ``status``."""
        props = {"status": status, "previous_status": prev}
        self._emit("order_status_changed", "shop", t, props, Keys(order_id=self.oid))

    def refund(self, t: int, reason: str) -> None:
        """The shop refunds the order; the payment provider follows 1 min to 2 h later."""
        p, rng = self.p, self.rng
        props: Event = {"amount": self.total, "currency": p.currency, "reason": reason}
        self._emit("order_refunded", "shop", t, props, Keys(order_id=self.oid))
        refund_id = self.world.ids.next("re", rng, 5)
        pcid = self._customer()
        props = {
            "payment_id": self.pay_id,
            "amount": self.total,
            "currency": p.currency,
            "refund_id": refund_id,
        }
        t += rng.randint(MS_MIN, 2 * MS_HOUR)
        self._emit("payment_refunded", "payments", t, props, self._payment_keys(pcid))

    def payment(
        self, t: int, etype: str, method: str, extra: Event, pay_id: str | None = None
    ) -> str:
        """Emit payment event ``etype`` (of a new payment unless ``pay_id``); its payment id."""
        p, rng = self.p, self.rng
        if pay_id is None:
            pay_id = self.world.ids.next("pay", rng, 9)
        pcid = self._customer()
        props = {
            "payment_id": pay_id,
            "amount": self.total,
            "currency": p.currency,
            "method": method,
            **extra,
        }
        if self._emit(etype, "payments", t, props, self._payment_keys(pcid)):
            self.world.truth.payment(pay_id, self.oid, p.idx)
        return pay_id

    def _emit(self, etype: str, source: str, t: int, props: Event, keys: Keys) -> bool:
        return self.world.emitter.emit(self.p.idx, self.rng, etype, source, t, props, keys)

    def _customer(self) -> str:
        """The customer id charged: the first, or (30%) the second when there are two."""
        pcids = self.p.pcids
        return pcids[-1] if len(pcids) > 1 and self.rng.random() < 0.3 else pcids[0]

    def _payment_keys(self, pcid: str) -> Keys:
        """Keys of a payment event: the customer id and (90%) the order id."""
        return Keys(pcid=pcid, order_id=self.oid if self.rng.random() < 0.9 else None)
