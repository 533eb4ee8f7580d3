"""The ground truth of who is who, written under ``_truth/`` for the tests to read.

Identity resolution cannot be checked against the log alone; these CSV files say which person
(``p_NNNNN``) each identifier, order and payment belongs to, which anonymous ids were shared by
two persons, when each person was first seen, who signed up and who asked to be forgotten.

Persons are simulated one at a time, in index order, and what the truth learns about a person
comes from their own events, so a person's row of ``persons.csv`` is final when the simulation
is done with them (``person_done``). The other records go to sorted runs on disk (``spill``)
and are merged when the files are written: the truth's memory does not grow with the log.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from shoplog.generate.clock import Clock
from shoplog.generate.people import person_id
from shoplog.generate.spill import Record, SortedRuns

#: Rows of a CSV file encoded at a time.
CSV_BATCH = 8192

#: Where a file goes: ``write(relative path, chunks of its bytes)``.
FileSink = Callable[[Path, Iterable[bytes]], None]


def csv_chunks(header: list[str], rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """``rows`` under ``header`` as UTF-8 CSV with ``\\n`` line ends, in chunks."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for n, row in enumerate(rows, 1):
        w.writerow(row)
        if n % CSV_BATCH == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def first_per_key(records: Iterable[Record]) -> Iterator[Record]:
    """The first record of each run of records with the same first value."""
    last: object = object()
    for r in records:
        if r[0] != last:
            last = r[0]
            yield r


class Truth:
    """What the simulation knows about persons, collected while their events are emitted.

    Persons are referred to by their index (0-based); the files name them by person id. Their
    records are kept in sorted runs under ``folder``, at most ``max_records`` of a kind in
    memory. The counts (``signed_up``, ``buyers``; ``orders`` and ``payments`` once the files
    are written) are for the run's summary.
    """

    def __init__(self, folder: Path, clock: Clock, max_records: int) -> None:
        self.clock = clock
        self.max_records = max(1, max_records)
        #: (identifier type, value, person idx) -> time of its first event, since the last spill
        self.ident: dict[tuple[str, str, int], int] = {}
        #: (identifier type, value, time, person idx), spilled from ``ident``
        self.ident_runs = SortedRuns(folder / "identifiers", max_records)
        self.order_runs = SortedRuns(folder / "orders", max_records)  # (order id, -seq, idx)
        self.payment_runs = SortedRuns(folder / "payments", max_records)  # (id, seq, order, idx)
        self.person_runs = SortedRuns(folder / "persons", max_records)  # (idx, first seen, signed)
        self.deletion_runs = SortedRuns(folder / "deletions", max_records)  # (idx, time)
        self.seq = 0
        # the person being simulated (those before are done)
        self.current = 0
        self.first_seen: int | None = None
        self.signed = self.bought = False
        self.signed_up = self.buyers = self.orders = self.payments = 0

    def _check(self, idx: int) -> None:
        if idx != self.current:
            raise AssertionError(f"truth about person {idx} while simulating {self.current}")

    def register(self, idx: int, t: int, keys: list[tuple[str, str]]) -> None:
        """Person ``idx`` was seen at ``t`` with the (identifier type, value) ``keys``."""
        self._check(idx)
        if self.first_seen is None or t < self.first_seen:
            self.first_seen = t
        ident = self.ident
        for itype, value in keys:
            k = (itype, value, idx)
            seen = ident.get(k)
            if seen is None or t < seen:
                ident[k] = t

    def sign_up(self, idx: int) -> None:
        """Person ``idx`` created an account."""
        self._check(idx)
        self.signed = True

    def order(self, order_id: str, idx: int) -> None:
        """Person ``idx`` placed order ``order_id``."""
        self._check(idx)
        self.bought = True
        self.seq += 1
        self.order_runs.add((order_id, -self.seq, idx))

    def payment(self, payment_id: str, order_id: str, idx: int) -> None:
        """Payment ``payment_id`` (its first event) pays ``order_id`` of person ``idx``."""
        self._check(idx)
        self.seq += 1
        self.payment_runs.add((payment_id, self.seq, order_id, idx))

    def deletion(self, idx: int, t: int) -> None:
        """Person ``idx`` asked to be forgotten at ``t``."""
        self._check(idx)
        self.deletion_runs.add((idx, t))

    def person_done(self, idx: int) -> None:
        """The simulation is done with person ``idx`` (the next one is ``idx + 1``)."""
        self._check(idx)
        seen = "" if self.first_seen is None else self.clock.iso(self.first_seen)
        self.person_runs.add((idx, seen, self.signed))
        self.signed_up += self.signed
        self.buyers += self.bought
        self.current, self.first_seen, self.signed, self.bought = idx + 1, None, False, False
        if len(self.ident) >= self.max_records:
            self.ident_runs.spill((it, v, t, idx) for (it, v, idx), t in self.ident.items())
            self.ident = {}

    def identifier_rows(self, shared: list[list[str]]) -> Iterator[list[str]]:
        """Rows of ``identifiers.csv`` (the identifier's first owner); appends the rows of
        ``shared_anonymous_ids.csv`` (first and second owner) to ``shared`` on the way.

        Raises ``AssertionError`` when an identifier other than an anonymous id has two owners.
        """
        for (it, v, idx), t in self.ident.items():
            self.ident_runs.add((it, v, t, idx))
        self.ident = {}
        # sorted by identifier, then time, then person: an identifier's first record is its
        # first owner's, its first record of another person the second owner's
        key: tuple[str, str] | None = None
        first = second = -1
        for it, v, _t, idx in self.ident_runs.merged():
            if (it, v) != key:
                if key is not None:
                    yield self._owner_row(key, first, second, shared)
                key, first, second = (it, v), idx, -1
            elif second < 0 and idx != first:
                second = idx
        if key is not None:
            yield self._owner_row(key, first, second, shared)

    @staticmethod
    def _owner_row(
        key: tuple[str, str], first: int, second: int, shared: list[list[str]]
    ) -> list[str]:
        itype, value = key
        if second >= 0:
            if itype != "anonymous_id":
                raise AssertionError(f"{itype} {value} used by several persons")
            shared.append([value, person_id(first), person_id(second)])
        return [itype, value, person_id(first)]

    def write(self, write: FileSink) -> None:
        """Write the ``_truth/*.csv`` files through ``write``, one after the other."""
        iso = self.clock.iso
        shared: list[list[str]] = []
        write(
            Path("_truth/identifiers.csv"),
            csv_chunks(
                ["identifier_type", "identifier_value", "person_id"], self.identifier_rows(shared)
            ),
        )
        write(
            Path("_truth/shared_anonymous_ids.csv"),
            csv_chunks(["anonymous_id", "person_id", "other_person_id"], shared),
        )
        self.orders = self.payments = 0
        write(Path("_truth/orders.csv"), csv_chunks(["order_id", "person_id"], self._orders()))
        write(
            Path("_truth/payments.csv"),
            csv_chunks(["payment_id", "order_id", "person_id"], self._payments()),
        )
        write(
            Path("_truth/persons.csv"),
            csv_chunks(
                ["person_id", "first_seen_at", "signed_up"],
                (
                    [person_id(idx), seen, "true" if signed else "false"]
                    for idx, seen, signed in self.person_runs.merged()
                ),
            ),
        )
        write(
            Path("_truth/deletion_requests.csv"),
            csv_chunks(
                ["person_id", "requested_at"],
                ([person_id(idx), iso(t)] for idx, t in first_per_key(self.deletion_runs.merged())),
            ),
        )

    def _orders(self) -> Iterator[list[str]]:
        """Rows of ``orders.csv`` (an order id given twice: the last person)."""
        for oid, _seq, idx in first_per_key(self.order_runs.merged()):
            self.orders += 1
            yield [oid, person_id(idx)]

    def _payments(self) -> Iterator[list[str]]:
        """Rows of ``payments.csv`` (a payment id given twice: the first order and person)."""
        for pay_id, _seq, oid, idx in first_per_key(self.payment_runs.merged()):
            self.payments += 1
            yield [pay_id, oid, person_id(idx)]
