"""Landing files: event lines grouped into hour partitions, gzip-compressed and written once.

A line goes to ``source=<s>/date=<YYYY-MM-DD>/hour=<HH>/part-0000N.ndjson.gz`` by its source and
the hour of its ``received_at``; part 1 only holds duplicate deliveries. Lines of a file are sorted
by ``received_at`` (then event id). Compression is deterministic (no mtime, no file name), and
files are immutable: an existing file may only be "rewritten" with identical bytes.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator, Mapping
from pathlib import Path

from shoplog.generate.clock import MS_HOUR, Clock

#: (source, hour index since the epoch, part number)
PartitionKey = tuple[str, int, int]


def gzip_bytes(data: bytes) -> bytes:
    """``data`` gzip-compressed, byte-identical for identical input (mtime 0, no file name)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="", compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


class Landing:
    """The lines of every landing file, held in memory until they are sorted and written."""

    def __init__(self) -> None:
        self.buckets: dict[PartitionKey, list[tuple[int, str, str]]] = {}

    def put(self, source: str, recv: int, part: int, key: str, line: str) -> None:
        """Queue ``line`` (received at ``recv``, sorted by ``key`` among equal times)."""
        b = (source, recv // MS_HOUR, part)
        lst = self.buckets.get(b)
        if lst is None:
            lst = self.buckets[b] = []
        lst.append((recv, key, line))

    def __len__(self) -> int:
        """Number of files."""
        return len(self.buckets)

    @property
    def lines(self) -> int:
        """Number of lines in all files."""
        return sum(len(v) for v in self.buckets.values())

    def files(self, clock: Clock) -> Iterator[tuple[Path, bytes]]:
        """Yield (relative path, gzip bytes) of the data files, in path order."""
        for (source, hour_idx, part), lst in sorted(self.buckets.items()):
            lst.sort()
            d, h = divmod(hour_idx, 24)
            rel = Path(
                f"source={source}",
                f"date={clock.day(d)}",
                f"hour={h:02d}",
                f"part-{part:05d}.ndjson.gz",
            )
            yield rel, gzip_bytes(("\n".join(x[2] for x in lst) + "\n").encode("utf-8"))


def write_files(out: Path, files: Mapping[Path, bytes]) -> set[Path]:
    """Write ``files`` (path relative to ``out`` -> bytes); return those left as they were.

    A file that exists with identical bytes is left alone; one that exists with different bytes
    raises ``ValueError`` before anything is written.
    """
    unchanged = set()
    for rel, data in files.items():
        path = out / rel
        if path.exists():
            if path.read_bytes() != data:
                raise ValueError(
                    f"refusing to overwrite {path}: it already exists with different content "
                    "(landed files are immutable; use an empty output directory)"
                )
            unchanged.add(rel)
    for rel, data in files.items():
        if rel in unchanged:
            continue
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return unchanged
