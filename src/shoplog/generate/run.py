"""``generate()``: run the simulation, land its files, and say what was written.

A run works in a temporary folder beside ``out`` (``.<out name>.generate-*``, removed at the end,
also on error): the simulation spills lines and ground truth there, and the files are staged
there before they are moved into ``out``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from shoplog.generate.envelope import SOURCES
from shoplog.generate.faults import Faults
from shoplog.generate.simulator import DELETION_RATE, Simulator
from shoplog.generate.writer import SPILL_BYTES, Staging
from shoplog.progress import progress_bar


@dataclass
class GenerateSummary:
    """What one ``generate`` call wrote.

    ``events_by_source``/``events_by_type`` count the simulated events (each once, whatever the
    faults did to it); ``lines_written`` counts every line in the files, including duplicates,
    malformed lines and unknown-type events (``fault_lines`` breaks the faults down).
    ``files_written`` counts the data files of this run (``files_unchanged`` of them already
    existed with identical bytes and were left alone); truth files are not counted.
    """

    events_by_source: dict[str, int]
    events_by_type: dict[str, int]
    lines_written: int
    files_written: int
    files_unchanged: int
    persons: int
    signed_up: int
    buyers: int
    orders: int
    payments: int
    fault_lines: dict[str, int] = field(default_factory=dict)

    @property
    def events(self) -> int:
        """Total simulated events (all sources)."""
        return sum(self.events_by_source.values())


def generate(
    out: Path,
    start: date,
    days: int,
    users: int,
    seed: int,
    faults: Faults | None = None,
    hard_cases: bool = True,
    progress: bool = True,
    deletion_rate: float = DELETION_RATE,
    spill_bytes: int = SPILL_BYTES,
) -> GenerateSummary:
    """Simulate ``users`` persons over ``days`` days from ``start`` and land their events.

    Writes ``<out>/source=<s>/date=<YYYY-MM-DD>/hour=<HH>/part-0000N.ndjson.gz`` (``part-00001``
    only holds duplicate deliveries) and the ground truth under ``<out>/_truth/``. ``out`` may
    already hold other files; a file this call would write that exists with different bytes makes
    it raise ``ValueError`` before anything is written (identical files are left alone, so a
    rerun with the same arguments is a no-op).

    Args:
        out: landing directory (created if missing).
        start: first day (UTC) of the simulated period.
        days: length of the period in days; no event is received after its end.
        users: number of real persons.
        seed: seed of the only source of randomness.
        faults: delivery faults to inject (none by default).
        hard_cases: add shared devices, look-alike emails, claimed guest orders and emails
            typed differently across events.
        progress: show a rich progress bar on stderr.
        deletion_rate: share of the persons known to the shop who later ask to be forgotten
            (a ``privacy`` ``deletion_requested`` event after their last visit).
        spill_bytes: about how many bytes of lines to hold in memory before spilling them to
            disk (the ground truth holds ``spill_bytes / 1024`` records of each kind); the
            output does not depend on it.
    """
    _check(days, users, deletion_rate)
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.generate-", dir=out.parent) as tmp:
        work = Path(tmp)
        sim = Simulator(
            start,
            days,
            users,
            seed,
            faults or Faults(),
            hard_cases,
            work / "spill",
            deletion_rate,
            spill_bytes,
        )
        with progress_bar("simulating persons", users, enabled=progress) as advance:
            for idx in range(users):
                sim.person(idx)
                advance(1)
        staging = Staging(out, work / "stage")
        with progress_bar("compressing files", len(sim.landing), enabled=progress) as advance:
            for rel, data in sim.landing.files(sim.clock):
                staging.write(rel, (data,))
                advance(1)
        sim.world.truth.write(staging.write)
        staging.land()
    return _summary(sim, staging)


def _check(days: int, users: int, deletion_rate: float) -> None:
    """Raise ``ValueError`` for arguments ``generate`` cannot simulate."""
    if days < 1 or users < 1:
        raise ValueError(f"days and users must be >= 1, got days={days}, users={users}")
    if not 0 <= deletion_rate <= 1:
        raise ValueError(f"deletion_rate must be between 0 and 1, got {deletion_rate}")


def _summary(sim: Simulator, staging: Staging) -> GenerateSummary:
    """What the run simulated and wrote (``staging``: all the files, truth included)."""
    data_files = [r for r in staging.written if r.parts[0] != "_truth"]
    truth = sim.world.truth
    return GenerateSummary(
        events_by_source={s: sim.emitter.by_source.get(s, 0) for s in SOURCES},
        events_by_type=dict(sorted(sim.emitter.by_type.items())),
        lines_written=sim.landing.lines,
        files_written=len(data_files),
        files_unchanged=sum(1 for r in staging.unchanged if r.parts[0] != "_truth"),
        persons=sim.world.people.count,
        signed_up=truth.signed_up,
        buyers=truth.buyers,
        orders=truth.orders,
        payments=truth.payments,
        fault_lines=dict(sorted(sim.faults.lines.items())),
    )
