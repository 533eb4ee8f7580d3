"""The shared state of a simulation that persons act on: where events go, what exists."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from shoplog.generate.catalog import Catalog
from shoplog.generate.emitter import Emitter
from shoplog.generate.people import HardCases, Population
from shoplog.generate.truth import Truth


class IdSequences:
    """Gapped id sequences (``u_1003``, ``o_100004``, ...), so ids are not dense counts."""

    #: prefix -> the number before the first id
    START = {"u": 1000, "o": 100000, "pay": 500000, "pc": 7000, "re": 1, "dr": 1}

    def __init__(self) -> None:
        self.last = dict(self.START)

    def next(self, prefix: str, rng: random.Random, max_step: int) -> str:
        """The next ``<prefix>_<n>``, 1 to ``max_step`` after the previous one."""
        self.last[prefix] += rng.randint(1, max_step)
        return f"{prefix}_{self.last[prefix]}"


@dataclass
class World:
    """What a person's visits and orders use: the emitter, catalogue, persons and ids."""

    emitter: Emitter
    catalog: Catalog
    people: Population
    hard_cases: HardCases
    ids: IdSequences = field(default_factory=IdSequences)

    @property
    def truth(self) -> Truth:
        """The ground truth the emitter fills."""
        return self.emitter.truth
