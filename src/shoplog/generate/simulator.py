"""The simulation: the world is set up, then each person lives their life in it, one by one.

Random streams, all from ``random.Random(seed)``: the master stream seeds the world stream
(hard cases, catalogue), one stream per person, and one per fault kind. A person's stream pays
for everything they do, so persons do not disturb each other's draws more than the shared state
(ids, emails taken, shared devices) makes them.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from shoplog.generate.catalog import Catalog
from shoplog.generate.clock import MS_DAY, MS_HOUR, MS_MIN, Clock, epoch_ms
from shoplog.generate.draws import poisson
from shoplog.generate.emitter import Emitter
from shoplog.generate.envelope import OMIT, Keys
from shoplog.generate.faults import FaultInjector, Faults
from shoplog.generate.people import Device, HardCases, Person, Population
from shoplog.generate.truth import Truth
from shoplog.generate.visits import Visit
from shoplog.generate.vocabulary import HOUR_CUM
from shoplog.generate.world import World
from shoplog.generate.writer import SPILL_BYTES, Landing

#: Share of persons known to the shop (by account or email) who ask to be forgotten.
DELETION_RATE = 0.01
#: The truth holds up to ``spill_bytes // TRUTH_RECORD_BYTES`` records of each kind (identifiers,
#: persons, orders, payments, deletions): a record takes about 250 bytes, so the first two, the
#: big ones, take about half of ``spill_bytes`` between them at most.
TRUTH_RECORD_BYTES = 1024


class Simulator:
    """Sets the world up (catalogue, hard cases); ``person(idx)`` then simulates one person.

    Persons must be simulated in index order, each once. What they leave (lines, ground truth)
    is held in memory up to about ``spill_bytes`` each, and spilled under ``spill`` beyond.
    """

    def __init__(
        self,
        start: date,
        days: int,
        users: int,
        seed: int,
        faults: Faults,
        hard_cases: bool,
        spill: Path,
        deletion_rate: float = DELETION_RATE,
        spill_bytes: int = SPILL_BYTES,
    ) -> None:
        master = random.Random(seed)
        self.clock = Clock()
        self.start_ms = epoch_ms(start)
        self.end_ms = self.start_ms + days * MS_DAY
        self.days = days
        self.deletion_rate = deletion_rate
        world_rng = random.Random(master.getrandbits(64))
        self.person_seeds = [master.getrandbits(64) for _ in range(users)]
        self.faults = FaultInjector(faults, master, self.clock)
        self.landing = Landing(spill / "landing", spill_bytes)
        truth = Truth(spill / "truth", self.clock, spill_bytes // TRUTH_RECORD_BYTES)
        self.emitter = Emitter(self.end_ms, self.clock, self.faults, self.landing, truth)
        hard = HardCases(hard_cases, users, world_rng)
        catalog = Catalog()
        catalog.build(world_rng, self.start_ms, self.end_ms, users, self.emitter)
        self.faults.products = catalog.product_ids
        self.world = World(self.emitter, catalog, Population(hard), hard)

    def person(self, idx: int) -> None:
        """Simulate person ``idx``: who they are, their visits, maybe a deletion request."""
        rng = random.Random(self.person_seeds[idx])
        p, shared_first = self.world.people.add(idx, rng)
        starts = self._visit_starts(rng)
        if idx in self.world.hard_cases.forced_signup or shared_first or rng.random() < 0.38:
            p.signup_session = 0 if rng.random() < 0.45 else rng.randrange(len(starts))
            if shared_first:
                p.signup_session = 0
        last = self._visits(p, rng, starts, shared_first)
        if p.email_given and rng.random() < self.deletion_rate:
            self._deletion_request(p, last + rng.randint(MS_HOUR, 2 * MS_DAY))
        self.world.truth.person_done(idx)

    def _visit_starts(self, rng: random.Random) -> list[int]:
        """Sorted start times of the person's visits: from a random first day (at least one
        visit that day) to the end, a Poisson number a day, at hours weighted by ``HOUR_CUM``."""
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
        return starts

    def _visits(self, p: Person, rng: random.Random, starts: list[int], shared_first: bool) -> int:
        """Simulate the visits (at least 31 min apart, none in the last 3 h of the period);
        return the time of the last web event (before the period if there was no visit)."""
        last_start = self.end_ms - 3 * MS_HOUR
        prev_end = self.start_ms - 20 * MS_MIN  # the catalogue exists before the first visit
        for s_idx, t in enumerate(starts):
            t = max(t, prev_end + 31 * MS_MIN + rng.randrange(60 * MS_MIN))
            if t > last_start:
                break
            dev = self._device(p, rng, s_idx, shared_first)
            prev_end = Visit(self.world, p, dev, s_idx, t).run()
        return prev_end

    @staticmethod
    def _device(p: Person, rng: random.Random, s_idx: int, shared_first: bool) -> Device:
        """The device of visit ``s_idx``: the first one until the shop can recognise the
        person (and on the first visit of a shared device), then any, weighted."""
        if (s_idx == 0 and shared_first) or not p.email_given:
            return p.devices[0]
        return rng.choices(p.devices, cum_weights=p.device_cum)[0]

    def _deletion_request(self, p: Person, t: int) -> None:
        """The person asks the shop to forget them (by account when they have one, and email)."""
        request_id = self.world.ids.next("dr", p.rng, 5)
        user_id = p.user_id if p.user_id is not None else OMIT
        keys = Keys(user_id=user_id, email=self.world.people.typed(p))
        props = {"request_id": request_id}
        if self.emitter.emit(p.idx, p.rng, "deletion_requested", "privacy", t, props, keys):
            self.world.truth.deletion(p.idx, t)
