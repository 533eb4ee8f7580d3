"""The simulated persons and their devices."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Device:
    anon: str
    user_agent: str
    ip: str
    host: str
    logged_in: bool = False
    shared: bool = False


@dataclass(slots=True)
class Person:
    idx: int
    pid: str
    rng: random.Random
    currency: str
    email: str  # canonical (lowercase, trimmed)
    email_typed: str
    devices: list[Device]
    device_cum: list[float]
    conv_p: float
    signup_session: int | None = None
    user_id: str | None = None
    pcids: list[str] = field(default_factory=list)
    n_orders: int = 0
    email_given: bool = False  # told the shop their email (account or guest order)
    identified_on: set[str] = field(default_factory=set)  # anonymous ids they identified on
