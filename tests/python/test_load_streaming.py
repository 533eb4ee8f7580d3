"""The loader's streaming path: each file's lines split with numpy into one Arrow array, bytes
verbatim; the lines of a run appended in bounded chunks; a DuckDB memory limit on the loader's
connection, set back after the load."""

from __future__ import annotations

import gzip
import hashlib
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import shoplog.load as loader
from shoplog.load import LoadError, line_array, line_offsets, line_slices, load, split_lines

from .conftest import query

#: Bytes that make lines odd: terminators, a lone CR, NUL, bytes that are not UTF-8.
ODD_BYTES = [b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xe9", b"a", b"{}", b"\xef\xbb\xbf"]


@given(st.binary(max_size=300) | st.lists(st.sampled_from(ODD_BYTES), max_size=60).map(b"".join))
def test_the_arrow_lines_are_exactly_the_lines_of_the_content(content: bytes) -> None:
    assert line_array(content, line_offsets(content)).to_pylist() == split_lines(
        content, compressed=False
    )


def test_line_slices_bound_rows_and_bytes_and_give_a_longer_line_a_slice_of_its_own() -> None:
    # lines of 1, 4, 0, 25, 3 and 3 bytes
    offsets = np.array([0, 1, 5, 5, 30, 33, 36], dtype=np.int64)

    assert line_slices(offsets, rows=2, size=10) == [(0, 2), (2, 3), (3, 4), (4, 6)]
    assert line_slices(offsets, rows=100, size=6) == [(0, 3), (3, 4), (4, 6)]
    assert line_slices(np.array([0], dtype=np.int64), rows=2, size=10) == []


def test_chunks_are_bounded_and_every_line_survives_verbatim_across_their_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    contents = {
        # lines of 1, 4, 0, 5 and 3 bytes: not UTF-8, empty, a NUL, a CR
        "source=web/a.ndjson": b"1\ncaf\xe9\n\nnul \x00\ncr\r\n",
        # a line longer than a chunk's bytes, then one without a final newline
        "source=web/b.ndjson.gz": b"x" * 25 + b"\nz",
        "source=web/c.ndjson": b"",
        "source=web/d.ndjson": b"\n\n",
    }
    for rel, content in contents.items():
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
        packed = gzip.compress(content, mtime=0) if rel.endswith(".gz") else content
        (landing / rel).write_bytes(packed)
    monkeypatch.setattr(loader, "CHUNK_ROWS", 2)
    monkeypatch.setattr(loader, "CHUNK_BYTES", 10)
    chunks: list[list[tuple[str, int]]] = []
    real_append = loader._append

    def recorded(con, chunk):
        rows = zip(chunk["file_path"].to_pylist(), chunk["line_number"].to_pylist(), strict=True)
        chunks.append(list(rows))
        real_append(con, chunk)

    monkeypatch.setattr(loader, "_append", recorded)

    summary = load(landing, database, progress=False, loaded_at=datetime(2026, 1, 2))

    a, b, d = "source=web/a.ndjson", "source=web/b.ndjson.gz", "source=web/d.ndjson"
    assert chunks == [
        [(a, 1), (a, 2)],
        [(a, 3), (a, 4)],
        [(a, 5)],
        [(b, 1)],
        [(b, 2)],
        [(d, 1), (d, 2)],
    ]
    assert (summary.files_loaded, summary.lines_loaded) == (4, 9)
    assert query(database, "select file_path, line_number, line from raw.events order by 1, 2") == [
        (a, 1, b"1"),
        (a, 2, b"caf\xe9"),
        (a, 3, b""),
        (a, 4, b"nul \x00"),
        (a, 5, b"cr\r"),
        (b, 1, b"x" * 25),
        (b, 2, b"z"),
        (d, 1, b""),
        (d, 2, b""),
    ]
    assert query(
        database,
        "select file_path, line_count, content_sha256, ends_with_newline, loaded_at, load_id "
        "from raw.load_manifest order by 1",
    ) == [
        (rel, len(split_lines(content, False)), hashlib.sha256(content).hexdigest(), ends, day, 1)
        for (rel, content), ends, day in zip(
            contents.items(), [True, False, False, True], [datetime(2026, 1, 2)] * 4, strict=True
        )
    ]


@pytest.mark.parametrize("before", [None, "3GB", "700MB"])
def test_the_loader_caps_duckdb_memory_and_sets_the_limit_back_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: str | None
) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    (landing / "source=web").mkdir(parents=True)
    (landing / "source=web/a.ndjson").write_bytes(b'{"a":1}\n')
    # a connection of this process to the same file shares the database, and its settings
    holder = duckdb.connect(str(database))
    if before is not None:
        holder.execute(f"set memory_limit = '{before}'")

    def limit(con: duckdb.DuckDBPyConnection) -> str:
        return con.execute("select current_setting('memory_limit')").fetchall()[0][0]

    seen: list[str] = []
    real_append = loader._append

    def watched(con, chunk):
        seen.append(limit(con))
        real_append(con, chunk)

    monkeypatch.setattr(loader, "_append", watched)
    try:
        shown = limit(holder)
        monkeypatch.delenv("SHOPLOG_LOAD_MEMORY_LIMIT", raising=False)
        load(landing, database, progress=False)
        seen.append(limit(holder))
        (landing / "source=web/b.ndjson").write_bytes(b'{"b":1}\n')
        monkeypatch.setenv("SHOPLOG_LOAD_MEMORY_LIMIT", "300MB")
        load(landing, database, progress=False)
        seen.append(limit(holder))
    finally:
        holder.close()

    assert seen == ["953.6 MiB", shown, "286.1 MiB", shown]


def test_a_line_too_long_for_the_memory_limit_raises_the_limit_and_loads_verbatim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    (landing / "source=web").mkdir(parents=True)
    long_line = b'{"x": "' + b"\xff" * (20 * 2**20) + b'"}'
    (landing / "source=web/a.ndjson").write_bytes(b"a\n" + long_line + b"\nb")
    monkeypatch.setenv("SHOPLOG_LOAD_MEMORY_LIMIT", "32MB")  # DuckDB alone fails at 32MB

    summary = load(landing, database, progress=False)

    assert summary.lines_loaded == 3
    assert query(
        database, "select line_number, sha256(line), octet_length(line) from raw.events order by 1"
    ) == [
        (1, hashlib.sha256(b"a").hexdigest(), 1),
        (2, hashlib.sha256(long_line).hexdigest(), len(long_line)),
        (3, hashlib.sha256(b"b").hexdigest(), 1),
    ]


def test_a_memory_limit_duckdb_cannot_read_is_refused_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    (landing / "source=web").mkdir(parents=True)
    (landing / "source=web/a.ndjson").write_bytes(b'{"a":1}\n')
    monkeypatch.setenv("SHOPLOG_LOAD_MEMORY_LIMIT", "plenty'; drop table raw.events; --")

    with pytest.raises(LoadError, match="SHOPLOG_LOAD_MEMORY_LIMIT"):
        load(landing, database, progress=False)

    assert query(database, "select count(*) from raw.events") == [(0,)]
    assert query(database, "select count(*) from raw.load_manifest") == [(0,)]


def test_a_recorded_file_changed_before_its_turn_fails_the_run_and_writes_nothing(
    tmp_path: Path,
) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    (landing / "source=web").mkdir(parents=True)
    for name in ("a", "b", "c"):
        (landing / f"source=web/{name}.ndjson").write_bytes(b'{"x":1}\n' * 3)
    load(landing, database, progress=False, loaded_at=datetime(2026, 1, 2))
    records = loader.read_journal(loader.journal_path(database)).loads
    (landing / "source=web/c.ndjson").write_bytes(b'{"x":2}\n')
    rebuilt = tmp_path / "rebuilt.duckdb"

    with pytest.raises(LoadError, match=r"source=web/c\.ndjson is not the file that was loaded"):
        loader.load_recorded(landing, rebuilt, records)

    assert query(rebuilt, "select count(*) from information_schema.tables") == [(0,)]
