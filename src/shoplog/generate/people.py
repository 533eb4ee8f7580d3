"""The simulated persons: their emails (and how they type them), devices, and the hard cases.

A person has one to three devices; the first is the one they browse on until the shop can
recognise them. *Hard cases* are chosen up front: a few persons take over a device another
person logged in on (a shared family device), and pairs of persons get look-alike emails
(``jon.smith@`` and ``jon.smyth@``; both sign up).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import accumulate

from shoplog.generate.draws import uuid
from shoplog.generate.vocabulary import (
    EMAIL_DOMAIN_CUM,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    HOSTS,
    LAST_NAMES,
    USER_AGENTS,
)


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


class HardCases:
    """Which persons get a shared device or a look-alike email, and the devices to share."""

    def __init__(self, enabled: bool, users: int, rng: random.Random) -> None:
        self.enabled = enabled
        self.shared_pool: list[tuple[int, Device]] = []  # (person idx, device) with a login
        self.pooled: set[str] = set()
        self.shared_takers: set[int] = set()
        self.similar_of: dict[int, int] = {}  # later person idx -> earlier person idx
        self.forced_signup: set[int] = set()
        if enabled and users >= 4:
            self._choose(users, rng)

    def _choose(self, users: int, rng: random.Random) -> None:
        """About 1% of persons (not in the first quarter) take a shared device; one pair in
        400 persons gets look-alike emails."""
        n_shared = max(1, round(users * 0.01))
        self.shared_takers = set(
            rng.sample(range(users // 4, users), min(n_shared, users - users // 4))
        )
        n_pairs = max(1, users // 400)
        cands = [i for i in range(users) if i not in self.shared_takers]
        picked = rng.sample(cands, min(2 * n_pairs, len(cands) // 2 * 2))
        for a, b in zip(picked[::2], picked[1::2], strict=True):
            lo, hi = min(a, b), max(a, b)
            self.similar_of[hi] = lo
            self.forced_signup.update((lo, hi))

    def offer_device(self, idx: int, dev: Device) -> None:
        """Offer a device person ``idx`` logged in on to a later person (a shared device)."""
        if self.enabled and not dev.shared and dev.anon not in self.pooled:
            self.pooled.add(dev.anon)
            self.shared_pool.append((idx, dev))

    def take_device(self, idx: int, rng: random.Random) -> Device | None:
        """A device offered earlier, now shared, if person ``idx`` takes one; else None."""
        if idx not in self.shared_takers or not self.shared_pool:
            return None
        _owner, dev = self.shared_pool.pop(rng.randrange(len(self.shared_pool)))
        dev.shared = True
        return dev


def type_variant(rng: random.Random, email: str) -> str:
    """``email`` as someone may type it: capitalised or upper case, with stray spaces."""
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


def lookalike(rng: random.Random, email: str) -> tuple[str, str]:
    """(local part, domain) of ``email`` with one vowel of the last name part changed."""
    local, domain = email.split("@")
    vowels = [i for i, c in enumerate(local) if c in "aeiou"]
    # change one vowel of the last name part: jon.smith -> jon.smyth
    i = rng.choice(vowels[len(vowels) // 2 :]) if vowels else len(local) - 1
    return local[:i] + ("y" if local[i] != "y" else "i") + local[i + 1 :], domain


def new_device(rng: random.Random) -> Device:
    """A desktop, mobile or tablet with its own anonymous id, user agent, IP and host."""
    kind = rng.choices(("desktop", "mobile", "tablet"), cum_weights=(45, 90, 100))[0]
    host = HOSTS[kind]
    if kind == "desktop" and rng.random() < 0.1:
        host = "www.shop.example.com"
    ip = f"{rng.randint(2, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return Device(uuid(rng), rng.choice(USER_AGENTS[kind]), ip, host)


def person_id(idx: int) -> str:
    """The id (``p_NNNNN``) of person ``idx``, as the ground truth names them."""
    return f"p_{idx + 1:05d}"


class Population:
    """How many persons were created, the emails they took, and the emails look-alikes copy.

    Persons themselves are not kept: each is simulated to the end before the next one.
    """

    def __init__(self, hard: HardCases) -> None:
        self.hard = hard
        self.count = 0
        self.used_emails: set[str] = set()
        #: person idx -> canonical email, of the persons a later look-alike email copies
        self.copied_emails: dict[int, str] = {}
        self._copied = set(hard.similar_of.values())

    def add(self, idx: int, rng: random.Random) -> tuple[Person, bool]:
        """Create person ``idx`` from its own stream ``rng``; True if they got a shared device.

        A shared device becomes their first device.
        """
        currency = "USD" if rng.random() < 0.12 else "EUR"
        email = self.email(rng, idx)
        n_dev = rng.choices((1, 2, 3), cum_weights=(55, 85, 100))[0]
        devices = [new_device(rng) for _ in range(n_dev)]
        shared = self.hard.take_device(idx, rng)
        if shared is not None:
            devices.insert(0, shared)
        weights = [1.0] + [rng.uniform(0.15, 0.6) for _ in devices[1:]]
        buyer_type = rng.random() < 0.05
        p = Person(
            idx,
            person_id(idx),
            rng,
            currency,
            email,
            type_variant(rng, email),
            devices,
            list(accumulate(weights)),
            conv_p=rng.uniform(0.1, 0.35) if buyer_type else 0.0008,
        )
        self.count += 1
        if idx in self._copied:
            self.copied_emails[idx] = email
        return p, shared is not None

    def email(self, rng: random.Random, idx: int) -> str:
        """A new, unused canonical email for person ``idx`` (look-alike for a hard case)."""
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        domain = rng.choices(EMAIL_DOMAINS, cum_weights=EMAIL_DOMAIN_CUM)[0]
        style = rng.random()
        if idx in self.hard.similar_of:
            local, domain = lookalike(rng, self.copied_emails[self.hard.similar_of[idx]])
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
        if not self.hard.enabled or p.rng.random() < 0.6:
            return p.email_typed
        return type_variant(p.rng, p.email)
