"""Time on the simulated clock: epoch milliseconds (UTC) and their ISO-8601 text."""

from __future__ import annotations

from datetime import date, timedelta

MS_SEC = 1_000
MS_MIN = 60_000
MS_HOUR = 3_600_000
MS_DAY = 86_400_000

_EPOCH = date(1970, 1, 1)


def epoch_ms(day: date) -> int:
    """Epoch milliseconds of the start (00:00 UTC) of ``day``."""
    return (day - _EPOCH).days * MS_DAY


class Clock:
    """Fast ISO-8601 formatting of epoch milliseconds (UTC, ms, ``Z``)."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def day(self, day_idx: int) -> str:
        """``YYYY-MM-DD`` of the ``day_idx``-th day since the epoch."""
        s = self._days.get(day_idx)
        if s is None:
            s = (_EPOCH + timedelta(days=day_idx)).isoformat()
            self._days[day_idx] = s
        return s

    def iso(self, ms: int) -> str:
        """``YYYY-MM-DDTHH:MM:SS.mmmZ`` of epoch milliseconds ``ms``."""
        d, r = divmod(ms, MS_DAY)
        h, r = divmod(r, MS_HOUR)
        m, r = divmod(r, MS_MIN)
        s, f = divmod(r, MS_SEC)
        return f"{self.day(d)}T{h:02d}:{m:02d}:{s:02d}.{f:03d}Z"
