"""Landing files: event lines grouped into hour partitions, gzip-compressed and written once.

A line goes to ``source=<s>/date=<YYYY-MM-DD>/hour=<HH>/part-0000N.ndjson.gz`` by its source and
the hour of its ``received_at``; part 1 only holds duplicate deliveries. Lines of a file are sorted
by ``received_at`` (then event id). Compression is deterministic (no mtime, no file name), and
files are immutable: an existing file may only be "rewritten" with identical bytes.

Memory stays bounded whatever the size of the log: ``Landing`` holds up to ``max_bytes`` of lines
and spills them to disk when it has more, grouped by partition; a partition's file is then made
from its spilled lines and those still held (only one file's lines are in memory at a time).
``Staging`` writes each output file to a staging folder first and moves them all into place at
the end.
"""

from __future__ import annotations

import filecmp
import gzip
import io
import shutil
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from shoplog.generate.clock import MS_HOUR, Clock

#: (source, hour index since the epoch, part number)
PartitionKey = tuple[str, int, int]
#: One line of a file and its sort key: (received at, event id or other key, line).
Entry = tuple[int, str, str]

#: Bytes of lines ``Landing`` holds in memory before it spills them (by default).
SPILL_BYTES = 64 * 2**20
#: What one held line costs in memory beyond its characters (tuple, int, key), roughly.
ENTRY_OVERHEAD = 200


def gzip_bytes(data: bytes) -> bytes:
    """``data`` gzip-compressed, byte-identical for identical input (mtime 0, no file name)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="", compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


class Landing:
    """The lines of every landing file, by partition, spilled to ``folder`` beyond ``max_bytes``.

    Each spill writes one *run* file: every partition's held lines as one segment of
    ``<received at>\t<key>\t<line>\n`` rows (keys have no tab, serialised lines, truncated or
    not, no newline), whose place (run, offset, length) the partition keeps.
    """

    def __init__(self, folder: Path, max_bytes: int = SPILL_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.buffers: dict[PartitionKey, list[Entry]] = {}
        self.held = 0  # bytes the buffers hold, roughly
        #: partition -> its spilled segments, flat: run number, offset, length, ...
        self.segments: dict[PartitionKey, array[int]] = {}
        self.runs: list[Path] = []
        self.lines = 0  # lines in all files

    def put(self, source: str, recv: int, part: int, key: str, line: str) -> None:
        """Queue ``line`` (received at ``recv``, sorted by ``key`` among equal times)."""
        b = (source, recv // MS_HOUR, part)
        lst = self.buffers.get(b)
        if lst is None:
            lst = self.buffers[b] = []
        lst.append((recv, key, line))
        self.lines += 1
        self.held += len(line) + ENTRY_OVERHEAD
        if self.held > self.max_bytes:
            self.spill()

    def spill(self) -> None:
        """Write the lines held in memory to a new run file, one segment per partition."""
        self.folder.mkdir(parents=True, exist_ok=True)
        run = len(self.runs)
        path = self.folder / f"lines-{run:06d}.tsv"
        with path.open("wb") as f:
            for b, lst in self.buffers.items():
                data = "".join(f"{recv}\t{key}\t{line}\n" for recv, key, line in lst)
                raw = data.encode("utf-8")
                seg = self.segments.get(b)
                if seg is None:
                    seg = self.segments[b] = array("q")
                seg.extend((run, f.tell(), len(raw)))
                f.write(raw)
        self.runs.append(path)
        self.buffers = {}
        self.held = 0

    def __len__(self) -> int:
        """Number of files."""
        return len(self.buffers.keys() | self.segments.keys())

    def files(self, clock: Clock) -> Iterator[tuple[Path, bytes]]:
        """Yield (relative path, gzip bytes) of the data files, in path order; each partition's
        lines are dropped once its file is yielded, the run files at the end."""
        with ExitStack() as stack:
            runs = [stack.enter_context(path.open("rb")) for path in self.runs]
            for b in sorted(self.buffers.keys() | self.segments.keys()):
                lst = self._read_spilled(runs, self.segments.pop(b, None))
                lst += self.buffers.pop(b, [])
                lst.sort()
                source, hour_idx, part = b
                d, h = divmod(hour_idx, 24)
                rel = Path(
                    f"source={source}",
                    f"date={clock.day(d)}",
                    f"hour={h:02d}",
                    f"part-{part:05d}.ndjson.gz",
                )
                yield rel, gzip_bytes(("\n".join(x[2] for x in lst) + "\n").encode("utf-8"))
        for path in self.runs:
            path.unlink()
        self.runs = []

    @staticmethod
    def _read_spilled(runs: Sequence[BinaryIO], segments: array[int] | None) -> list[Entry]:
        """The lines of a partition's spilled ``segments`` (in ``runs``), in spill order."""
        entries: list[Entry] = []
        if segments is None:
            return entries
        for i in range(0, len(segments), 3):
            f = runs[segments[i]]
            f.seek(segments[i + 1])
            text = f.read(segments[i + 2]).decode("utf-8")
            for row in text[:-1].split("\n"):
                recv, key, line = row.split("\t", 2)
                entries.append((int(recv), key, line))
        return entries


class Staging:
    """Output files written under ``stage`` first, then moved to ``out`` all at once.

    A file ``out`` already has with identical bytes is left alone (``unchanged``); one with
    different bytes makes ``write`` raise ``ValueError``, before anything is moved to ``out``.
    """

    def __init__(self, out: Path, stage: Path) -> None:
        self.out = out
        self.stage = stage
        self.written: list[Path] = []  # relative paths, in the order written
        self.unchanged: set[Path] = set()

    def write(self, rel: Path, chunks: Iterable[bytes]) -> None:
        """Stage the file ``rel`` (relative to ``out``) made of ``chunks``."""
        staged, path = self._staged(len(self.written)), self.out / rel
        self.stage.mkdir(parents=True, exist_ok=True)
        with staged.open("wb") as f:
            for chunk in chunks:
                f.write(chunk)
        self.written.append(rel)
        if path.exists():
            if not filecmp.cmp(staged, path, shallow=False):
                raise ValueError(
                    f"refusing to overwrite {path}: it already exists with different content "
                    "(landed files are immutable; use an empty output directory)"
                )
            self.unchanged.add(rel)
            staged.unlink()

    def land(self) -> None:
        """Move the staged files into ``out`` (creating folders as needed)."""
        for i, rel in enumerate(self.written):
            if rel in self.unchanged:
                continue
            path = self.out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(self._staged(i), path)

    def _staged(self, i: int) -> Path:
        """Where the ``i``-th file written is staged (one flat folder: fewer folders to make)."""
        return self.stage / f"{i:07d}"
