"""Emitting one simulated event: count it, tell the truth, apply faults, queue its line(s)."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from shoplog.generate.clock import Clock
from shoplog.generate.draws import uuid
from shoplog.generate.envelope import NO_KEYS, Event, Keys, envelope, head, serialise
from shoplog.generate.faults import FaultInjector
from shoplog.generate.truth import Truth
from shoplog.generate.writer import Landing


class Emitter:
    """Turns simulated events into landing lines, up to the end of the period (``end_ms``)."""

    def __init__(
        self, end_ms: int, clock: Clock, faults: FaultInjector, landing: Landing, truth: Truth
    ) -> None:
        self.end_ms = end_ms
        self.clock = clock
        self.faults = faults
        self.landing = landing
        self.truth = truth
        self.by_source: Counter[str] = Counter()
        self.by_type: Counter[str] = Counter()

    def emit(
        self,
        who: int | None,
        rng: random.Random,
        etype: str,
        source: str,
        t: int,
        props: Event,
        keys: Keys = NO_KEYS,
        context: dict[str, Any] | None = None,
    ) -> bool:
        """Emit an event of person ``who`` (None: of the shop) at ``t``; False if received late.

        ``rng`` pays for the event id and the collector's delay; an event received after the
        end of the period is dropped (it did not happen, as far as the log can tell).
        """
        event_id = uuid(rng)
        recv = t + rng.randint(50, 3_000)
        if recv >= self.end_ms:
            return False
        self.by_source[source] += 1
        self.by_type[etype] += 1
        if who is not None:
            self.truth.register(who, t, keys.identifiers())
        version, props = self.faults.schema_version(etype, props)
        recv = self.faults.received_at(t, recv)
        t = self.faults.event_time(t, recv)
        iso = self.clock.iso
        ev = envelope(
            head(event_id, etype, version, source, iso(t), iso(recv)), keys, context, props
        )
        line = serialise(ev)
        self.landing.put(source, recv, 0, event_id, line)
        self._fault_lines(ev, line, t, recv)
        return True

    def _fault_lines(self, ev: Event, line: str, t: int, recv: int) -> None:
        """Queue the lines faults add after an event: a duplicate, garbage, an unknown type."""
        source, event_id = ev["source"], ev["event_id"]
        duplicate = self.faults.duplicate(ev, recv)
        if duplicate is not None:
            later, copy = duplicate
            self.landing.put(source, later, 1, event_id, serialise(copy))
        bad = self.faults.malformed(line, event_id)
        if bad is not None:
            self.landing.put(source, recv, 0, event_id + "~m", bad)
        unknown = self.faults.unknown_type(ev, t)
        if unknown is not None:
            urecv, uev = unknown
            self.landing.put("web", urecv, 0, uev["event_id"], serialise(uev))
