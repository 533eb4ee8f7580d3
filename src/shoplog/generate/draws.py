"""Small random draws used all over the simulation: ids, gaps between events, counts.

Each takes the ``random.Random`` to draw from, so the caller decides which stream pays for it.
"""

from __future__ import annotations

import math
import random


def uuid(rng: random.Random) -> str:
    """A uuid-shaped id (128 random bits, hex, dashed 8-4-4-4-12)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def gap(rng: random.Random) -> int:
    """Time between two events of a visit: 5 s to 5 min, log-uniform."""
    return int(5_000 * 60 ** rng.random())


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson-distributed count with mean ``lam`` (Knuth's method)."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
