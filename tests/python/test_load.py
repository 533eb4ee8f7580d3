"""The loader: verbatim, append-only, idempotent, with a manifest; refuses changed files."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from shoplog.load import LoadError, load

from .conftest import query


def write(path: Path, text: str, compress: bool = False) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    if compress:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return data


def test_load_appends_every_line_verbatim_with_a_manifest(tmp_path: Path) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    plain = write(landing / "source=web/a.ndjson", '{"a": 1}\n  {"b":2}  \r\nnot json\n')
    packed = write(landing / "source=shop/b.ndjson.gz", '{"c":3}\n\n{"d":4}', compress=True)
    write(landing / "_truth/ignored.ndjson", '{"x":1}\n')
    write(landing / "source=web/.hidden.ndjson", '{"x":1}\n')
    write(landing / "source=web/readme.txt", "not a landing file\n")

    summary = load(landing, database, progress=False)

    assert (summary.load_id, summary.files_loaded, summary.lines_loaded) == (1, 2, 6)
    assert query(database, "select file_path, line_number, line from raw.events order by 1, 2") == [
        ("source=shop/b.ndjson.gz", 1, '{"c":3}'),
        ("source=shop/b.ndjson.gz", 2, ""),
        ("source=shop/b.ndjson.gz", 3, '{"d":4}'),
        ("source=web/a.ndjson", 1, '{"a": 1}'),
        ("source=web/a.ndjson", 2, '  {"b":2}  \r'),
        ("source=web/a.ndjson", 3, "not json"),
    ]
    assert query(
        database,
        "select load_id, file_path, file_sha256, file_bytes, line_count "
        "from raw.load_manifest order by file_path",
    ) == [
        (1, "source=shop/b.ndjson.gz", hashlib.sha256(packed).hexdigest(), len(packed), 3),
        (1, "source=web/a.ndjson", hashlib.sha256(plain).hexdigest(), len(plain), 3),
    ]


def test_reloading_the_same_files_adds_nothing(tmp_path: Path) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    write(landing / "a.ndjson", '{"a":1}\n{"a":2}\n')
    load(landing, database, progress=False)

    again = load(landing, database, progress=False)

    assert (again.load_id, again.files_loaded, again.files_skipped) == (None, 0, 1)
    assert query(database, "select count(*) from raw.events") == [(2,)]
    assert query(database, "select count(*) from raw.load_manifest") == [(1,)]


def test_new_files_get_a_new_load_id_and_old_rows_are_untouched(tmp_path: Path) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    write(landing / "a.ndjson", '{"a":1}\n')
    load(landing, database, progress=False)
    before = query(database, "select * from raw.events")
    write(landing / "b.ndjson", '{"b":1}\n')

    second = load(landing, database, progress=False)

    assert second.load_id == 2
    after = query(database, "select * from raw.events order by file_path")
    assert after[0] == before[0]
    assert [(row[0], row[1]) for row in after] == [(1, "a.ndjson"), (2, "b.ndjson")]


def test_a_changed_file_is_refused_by_name_and_nothing_is_written(tmp_path: Path) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    write(landing / "a.ndjson", '{"a":1}\n')
    load(landing, database, progress=False)
    write(landing / "a.ndjson", '{"a":1}\n{"a":2}\n')
    write(landing / "b.ndjson", '{"b":1}\n')

    with pytest.raises(LoadError, match=r"Changed: a\.ndjson"):
        load(landing, database, progress=False)

    assert query(database, "select file_path, line from raw.events") == [("a.ndjson", '{"a":1}')]
    assert query(database, "select count(*) from raw.load_manifest") == [(1,)]


def test_a_failure_mid_load_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    write(landing / "a.ndjson", '{"a":1}\n')
    write(landing / "b.ndjson", '{"b":1}\n')
    import shoplog.load as loader

    real_append = loader._append
    calls = []

    def crash_after_append(con, frame):
        real_append(con, frame)
        calls.append(len(frame))
        raise RuntimeError("simulated crash after rows were appended")

    monkeypatch.setattr(loader, "_append", crash_after_append)
    with pytest.raises(RuntimeError, match="simulated crash"):
        load(landing, database, progress=False)

    assert calls == [2]
    assert query(database, "select count(*) from raw.events") == [(0,)]
    assert query(database, "select count(*) from raw.load_manifest") == [(0,)]


def test_a_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    write(landing / "a.ndjson", '{"a":1}\n')
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(30)",
            str(database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(LoadError, match="in use by another process"):
            load(landing, database, progress=False)
    finally:
        holder.kill()
        holder.wait()
    load(landing, database, progress=False)
    assert query(database, "select count(*) from raw.events") == [(1,)]


def test_missing_landing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="landing directory not found"):
        load(tmp_path / "nowhere", tmp_path / "db.duckdb", progress=False)
    assert not (tmp_path / "db.duckdb").exists()


def test_cli_load_stamps_a_backfill_with_the_given_time(tmp_path: Path, capsys) -> None:
    from shoplog.cli import main

    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    write(landing / "a.ndjson", '{"a":1}\n{"a":2}\n')

    code = main(
        [
            "load",
            "--landing",
            str(landing),
            "--db",
            str(database),
            "--loaded-at",
            "2026-01-02T03:04:05",
        ]
    )

    assert code == 0
    assert query(database, "select distinct loaded_at::varchar from raw.events") == [
        ("2026-01-02 03:04:05",)
    ]
    assert query(database, "select loaded_at::varchar, line_count from raw.load_manifest") == [
        ("2026-01-02 03:04:05", 2)
    ]
    assert main(["load", "--landing", str(tmp_path / "missing"), "--db", str(database)]) == 2
