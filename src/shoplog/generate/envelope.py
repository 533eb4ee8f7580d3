"""The event envelope of ``docs/event-standard.md`` and its serialisation to one NDJSON line.

Key order is fixed: the six keys every event has, then the optional identifying keys that apply
(``anonymous_id``, ``user_id``, ``email``, ``payment_customer_id``, ``order_id``), ``context``
(web events) and ``properties``. An optional key that does not apply is left out, except
``user_id``, which can also be present as ``null`` (see ``Keys``).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

SOURCES = ("web", "shop", "payments", "catalog", "privacy")

Event = dict[str, Any]


class Omit(enum.Enum):
    """Type of ``OMIT``."""

    OMIT = enum.auto()


#: Leave ``user_id`` out of the envelope (``None`` writes it as ``null``).
OMIT = Omit.OMIT


@dataclass(frozen=True, slots=True)
class Keys:
    """The optional identifying keys of one event; ``None`` (or ``OMIT``) leaves a key out."""

    anon: str | None = None
    user_id: str | None | Omit = OMIT
    email: str | None = None
    pcid: str | None = None
    order_id: str | None = None

    def identifiers(self) -> list[tuple[str, str]]:
        """(identifier type, value) pairs these keys tie to a person; emails are normalised."""
        found = []
        if self.anon is not None:
            found.append(("anonymous_id", self.anon))
        if isinstance(self.user_id, str):
            found.append(("user_id", self.user_id))
        if self.email is not None:
            found.append(("email", self.email.strip().lower()))
        if self.pcid is not None:
            found.append(("payment_customer_id", self.pcid))
        return found


NO_KEYS = Keys()


def head(
    event_id: str, etype: str, version: int, source: str, event_time: str, received_at: str
) -> Event:
    """The six keys every event has, in envelope order."""
    return {
        "event_id": event_id,
        "event_type": etype,
        "schema_version": version,
        "source": source,
        "event_time": event_time,
        "received_at": received_at,
    }


def envelope(ev: Event, keys: Keys, context: dict[str, Any] | None, props: Event) -> Event:
    """Complete ``ev`` (a ``head``) with the keys that apply, the context and the properties."""
    if keys.anon is not None:
        ev["anonymous_id"] = keys.anon
    if keys.user_id is not OMIT:
        ev["user_id"] = keys.user_id
    if keys.email is not None:
        ev["email"] = keys.email
    if keys.pcid is not None:
        ev["payment_customer_id"] = keys.pcid
    if keys.order_id is not None:
        ev["order_id"] = keys.order_id
    if context is not None:
        ev["context"] = context
    ev["properties"] = props
    return ev


def serialise(ev: Event) -> str:
    """One compact JSON line (no spaces, keys in insertion order, non-ASCII escaped)."""
    return json.dumps(ev, separators=(",", ":"), sort_keys=False)
