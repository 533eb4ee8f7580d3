"""Delivery faults: which ones to inject, at what rate, and what they do to an event's lines.

Each kind of fault draws from its own random stream (seeded from the master stream whether the
fault is on or not), and only when its rate is not zero: switching one fault on changes only the
lines it touches.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from shoplog.generate.clock import MS_DAY, MS_HOUR, Clock
from shoplog.generate.draws import uuid
from shoplog.generate.envelope import Event, head
from shoplog.generate.vocabulary import UNKNOWN_TYPES

#: The random streams, in the order they are seeded from the master stream.
STREAMS = ("dup", "late", "skew", "malformed", "unknown", "v2")


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


class FaultInjector:
    """Applies ``Faults`` to events; counts the lines each kind touched in ``lines``.

    ``products`` (the product ids, for ``wishlist_add`` events of unknown type) must be set
    before the first web event.
    """

    def __init__(self, faults: Faults, master: random.Random, clock: Clock) -> None:
        self.faults = faults
        self.rng = {k: random.Random(master.getrandbits(64)) for k in STREAMS}
        self.clock = clock
        self.products: Sequence[str] = ()
        self.lines: Counter[str] = Counter()

    def _hit(self, stream: str, rate: float) -> bool:
        """Whether this event gets the fault (draws only when the rate is not zero)."""
        return bool(rate) and self.rng[stream].random() < rate

    def schema_version(self, etype: str, props: Event) -> tuple[int, Event]:
        """(schema version, properties): an ``add_to_cart`` may become v2, fields renamed."""
        if etype != "add_to_cart" or not self._hit("v2", self.faults.v2_rate):
            return 1, props
        self.lines["v2"] += 1
        return 2, {
            "item_id": props["product_id"],
            "qty": props["quantity"],
            "unit_price": props["price"],
            "currency": props["currency"],
        }

    def received_at(self, t: int, recv: int) -> int:
        """``received_at`` (ms): 1 h to 3 days after ``t`` for a late event, else ``recv``."""
        if not self._hit("late", self.faults.late_rate):
            return recv
        self.lines["late"] += 1
        return t + self.rng["late"].randint(MS_HOUR, 3 * MS_DAY)

    def event_time(self, t: int, recv: int) -> int:
        """``event_time`` (ms): 1 to 48 h after ``recv`` for a skewed clock, else ``t``."""
        if not self._hit("skew", self.faults.skew_rate):
            return t
        self.lines["skew"] += 1
        return recv + self.rng["skew"].randint(MS_HOUR, 48 * MS_HOUR)

    def duplicate(self, ev: Event, recv: int) -> tuple[int, Event] | None:
        """(received at, copy) of the event delivered again 1 s to 6 h later, or None."""
        if not self._hit("dup", self.faults.duplicate_rate):
            return None
        later = recv + self.rng["dup"].randint(1_000, 6 * MS_HOUR)
        self.lines["duplicate"] += 1
        return later, dict(ev, received_at=self.clock.iso(later))

    def malformed(self, line: str, event_id: str) -> str | None:
        """An extra line that does not parse (a truncated ``line``, or garbage), or None."""
        if not self._hit("malformed", self.faults.malformed_rate):
            return None
        r = self.rng["malformed"]
        self.lines["malformed"] += 1
        if r.random() < 0.7:
            return line[: r.randint(1, len(line) - 2)]
        return r.choice(
            (
                "<html><body>502 Bad Gateway</body></html>",
                "ERROR upstream timeout",
                "event_id=" + event_id,
                "{'not': json",
            )
        )

    def unknown_type(self, ev: Event, t: int) -> tuple[int, Event] | None:
        """(received at, event) of an extra web event of a type outside the catalogue, or None.

        It follows the web event ``ev`` (at ``t``) on the same visit, 1 to 20 s later.
        """
        if ev["source"] != "web" or not self._hit("unknown", self.faults.unknown_type_rate):
            return None
        r = self.rng["unknown"]
        ut = t + r.randint(1_000, 20_000)
        urecv = ut + r.randint(50, 3_000)
        utype = r.choice(UNKNOWN_TYPES)
        uprops = {"product_id": r.choice(self.products)} if utype == "wishlist_add" else {}
        iso = self.clock.iso
        uev = head(uuid(r), utype, 1, "web", iso(ut), iso(urecv))
        for k in ("anonymous_id", "user_id", "context"):
            if k in ev:
                uev[k] = ev[k]
        uev["properties"] = uprops
        self.lines["unknown_type"] += 1
        return urecv, uev
