"""Spilling to disk, so that a run's memory does not grow with the size of the log.

``SortedRuns`` is an external sort: it holds up to ``max_records`` records in memory, writes
each full buffer to its folder as a sorted *run*, and reads everything back as one sorted
stream (``heapq.merge`` of the runs and the buffer). Runs are files of pickled batches of
records, written and read by this process only, in a temporary folder of the run.
"""

from __future__ import annotations

import heapq
import pickle
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

#: One record: a tuple of comparable values (str, int), the same shape within one sort.
Record = tuple[Any, ...]

#: Records per pickled batch of a run file (what reading one run holds in memory).
BATCH = 4096
#: Runs kept side by side; one more and they are merged into one (bounds the open files).
MAX_RUNS = 32


class SortedRuns:
    """Records added in any order, read back sorted; at most ``max_records`` held in memory.

    ``folder`` (created when the first run is written) must be this object's alone.
    """

    def __init__(self, folder: Path, max_records: int) -> None:
        self.folder = folder
        self.max_records = max(1, max_records)
        self.buffer: list[Record] = []
        self.runs: list[Path] = []
        self._named = 0

    def add(self, record: Record) -> None:
        """Add one record; a full buffer is written as a run."""
        self.buffer.append(record)
        if len(self.buffer) >= self.max_records:
            self.spill(self.buffer)
            self.buffer = []

    def spill(self, records: Iterable[Record]) -> None:
        """Write ``records`` (in any order) as one sorted run, merging the runs when too many."""
        self.runs.append(self._write(sorted(records)))
        if len(self.runs) > MAX_RUNS:
            runs, self.runs = self.runs, []
            self.runs.append(self._write(heapq.merge(*(read_run(p) for p in runs))))
            for path in runs:
                path.unlink()

    def merged(self) -> Iterator[Record]:
        """Every record added, sorted (the buffer is sorted in place)."""
        self.buffer.sort()
        return heapq.merge(*(read_run(p) for p in self.runs), self.buffer)

    def _write(self, records: Iterable[Record]) -> Path:
        """A new run file holding ``records`` (already sorted) in pickled batches."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"run-{self._named:06d}.pickle"
        self._named += 1
        it = iter(records)
        with path.open("wb") as f:
            while batch := list(islice(it, BATCH)):
                pickle.dump(batch, f, protocol=pickle.HIGHEST_PROTOCOL)
        return path


def read_run(path: Path) -> Iterator[Record]:
    """The records of a run file, in order, one batch in memory at a time."""
    with path.open("rb") as f:
        while True:
            try:
                batch = pickle.load(f)
            except EOFError:
                return
            yield from batch
