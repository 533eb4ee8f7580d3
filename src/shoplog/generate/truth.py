"""The ground truth of who is who, written under ``_truth/`` for the tests to read.

Identity resolution cannot be checked against the log alone; these CSV files say which person
(``p_NNNNN``) each identifier, order and payment belongs to, which anonymous ids were shared by
two persons, when each person was first seen, who signed up and who asked to be forgotten.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from shoplog.generate.clock import Clock


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    """``rows`` under ``header`` as UTF-8 CSV with ``\\n`` line ends."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


class Truth:
    """What the simulation knows about persons, collected while their events are emitted.

    Persons are referred to by their index (0-based); ``files`` names them by person id.
    """

    def __init__(self) -> None:
        #: (identifier type, value) -> {person idx: time of its first event with it}.
        self.ident: dict[tuple[str, str], dict[int, int]] = {}
        self.first_seen: dict[int, int] = {}
        self.signed_up: set[int] = set()
        self.orders: dict[str, int] = {}
        self.payments: dict[str, tuple[str, int]] = {}  # payment id -> (order id, person idx)
        self.buyers: set[int] = set()
        self.deletions: dict[int, int] = {}  # person idx -> event time of the deletion request

    def register(self, idx: int, t: int, keys: list[tuple[str, str]]) -> None:
        """Person ``idx`` was seen at ``t`` with the (identifier type, value) ``keys``."""
        fs = self.first_seen.get(idx)
        if fs is None or t < fs:
            self.first_seen[idx] = t
        for k in keys:
            owners = self.ident.get(k)
            if owners is None:
                self.ident[k] = {idx: t}
            elif idx not in owners or t < owners[idx]:
                owners[idx] = t

    def identifier_rows(self, pids: Sequence[str]) -> tuple[list[list[str]], list[list[str]]]:
        """Rows of ``identifiers.csv`` (first owner) and ``shared_anonymous_ids.csv``.

        Raises ``AssertionError`` when an identifier other than an anonymous id has two owners.
        """
        ident_rows, shared_rows = [], []
        for (itype, value), owners in sorted(self.ident.items()):
            ranked = sorted(owners.items(), key=lambda kv: (kv[1], kv[0]))
            if len(ranked) > 1:
                if itype != "anonymous_id":
                    raise AssertionError(f"{itype} {value} used by several persons")
                shared_rows.append([value, pids[ranked[0][0]], pids[ranked[1][0]]])
            ident_rows.append([itype, value, pids[ranked[0][0]]])
        return ident_rows, shared_rows

    def files(self, pids: Sequence[str], clock: Clock) -> tuple[dict[Path, bytes], list[str]]:
        """The ``_truth/*.csv`` files (relative path -> bytes) and the shared anonymous ids."""
        ident_rows, shared_rows = self.identifier_rows(pids)
        persons_rows = [
            [
                pid,
                clock.iso(self.first_seen[idx]) if idx in self.first_seen else "",
                "true" if idx in self.signed_up else "false",
            ]
            for idx, pid in enumerate(pids)
        ]
        files = {
            Path("_truth/identifiers.csv"): csv_bytes(
                ["identifier_type", "identifier_value", "person_id"], ident_rows
            ),
            Path("_truth/shared_anonymous_ids.csv"): csv_bytes(
                ["anonymous_id", "person_id", "other_person_id"], shared_rows
            ),
            Path("_truth/orders.csv"): csv_bytes(
                ["order_id", "person_id"], [[o, pids[i]] for o, i in sorted(self.orders.items())]
            ),
            Path("_truth/payments.csv"): csv_bytes(
                ["payment_id", "order_id", "person_id"],
                [[k, o, pids[i]] for k, (o, i) in sorted(self.payments.items())],
            ),
            Path("_truth/persons.csv"): csv_bytes(
                ["person_id", "first_seen_at", "signed_up"], persons_rows
            ),
            Path("_truth/deletion_requests.csv"): csv_bytes(
                ["person_id", "requested_at"],
                [[pids[i], clock.iso(t)] for i, t in sorted(self.deletions.items())],
            ),
        }
        return files, [r[0] for r in shared_rows]
