"""Delivery faults: which ones to inject, and at what rate."""

from __future__ import annotations

from dataclasses import dataclass


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
