"""The loader: verbatim, append-only, idempotent, with a manifest; refuses changed files."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
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
    assert summary.unrecognised == ["source=web/readme.txt"]
    assert query(database, "select file_path, line_number, line from raw.events order by 1, 2") == [
        ("source=shop/b.ndjson.gz", 1, b'{"c":3}'),
        ("source=shop/b.ndjson.gz", 2, b""),
        ("source=shop/b.ndjson.gz", 3, b'{"d":4}'),
        ("source=web/a.ndjson", 1, b'{"a": 1}'),
        ("source=web/a.ndjson", 2, b'  {"b":2}  \r'),
        ("source=web/a.ndjson", 3, b"not json"),
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

    assert query(database, "select file_path, line from raw.events") == [("a.ndjson", b'{"a":1}')]
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
        with pytest.raises(LoadError, match="in another process that is not a shoplog writer"):
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


HOSTILE_BYTES = [
    b'{"event_id": "caf\xe9"}',  # Latin-1, not UTF-8
    b"\xef\xbb\xbf{}",  # a byte order mark
    b'{"a": "nul \x00 inside"}',
    b"  crlf  \r",
    b"\xff\xfe\xfd",
    b"",
]


def test_raw_log_rebuilds_the_landed_files_byte_for_byte(tmp_path: Path) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    plain = b"\n".join(HOSTILE_BYTES) + b"\n"
    (landing / "source=web").mkdir(parents=True)
    (landing / "source=web/hostile.ndjson").write_bytes(plain)
    (landing / "source=web/no-final-newline.ndjson").write_bytes(plain[:-1])
    (landing / "source=web/hostile.ndjson.gz").write_bytes(gzip.compress(plain, mtime=0))

    load(landing, database, progress=False)

    manifest = query(
        database,
        "select file_path, content_sha256, ends_with_newline from raw.load_manifest order by 1",
    )
    rebuilt = {}
    for path, _digest, ends_with_newline in manifest:
        lines = query(
            database, f"select line from raw.events where file_path = '{path}' order by line_number"
        )
        content = b"\n".join(line for (line,) in lines) + (b"\n" if ends_with_newline else b"")
        rebuilt[path] = hashlib.sha256(content).hexdigest()
    assert rebuilt == {path: digest for path, digest, _ in manifest}
    assert rebuilt == {
        "source=web/hostile.ndjson": hashlib.sha256(plain).hexdigest(),
        "source=web/hostile.ndjson.gz": hashlib.sha256(plain).hexdigest(),
        "source=web/no-final-newline.ndjson": hashlib.sha256(plain[:-1]).hexdigest(),
    }
    plain_digest = hashlib.sha256((landing / "source=web/hostile.ndjson").read_bytes()).hexdigest()
    assert query(
        database, "select file_sha256 from raw.load_manifest where file_path like '%hostile.ndjson'"
    ) == [(plain_digest,)]


def test_odd_files_are_rejected_without_blocking_or_stopping_the_load(tmp_path: Path) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    write(landing / "source=web/good.ndjson", '{"a":1}\n')
    os.mkfifo(landing / "source=web/pipe.ndjson")
    (landing / os.fsdecode(b"source=web/name-\xff.ndjson")).write_bytes(b'{"a":2}\n')

    summary = load(landing, database, progress=False)

    assert summary.files == ["source=web/good.ndjson"]
    assert sorted((r.file_path, r.reason) for r in summary.rejected) == [
        ("source=web/name-\\xff.ndjson", "invalid_file_name"),
        ("source=web/pipe.ndjson", "unreadable_file"),
    ]
    assert query(database, "select count(*) from raw.load_rejections") == [(2,)]


def test_unreadable_files_are_rejected_by_name_and_the_others_load(tmp_path: Path) -> None:
    from shoplog.cli import main

    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    write(landing / "source=web/good.ndjson", '{"a":1}\n{"a":2}\n')
    write(landing / "source=web/UPPER.NDJSON", '{"a":3}\n')
    whole = gzip.compress(b'{"a":4}\n' * 50, mtime=0)
    (landing / "source=web/truncated.ndjson.gz").write_bytes(whole[: len(whole) // 2])
    (landing / "source=web/corrupt.ndjson.gz").write_bytes(whole[:12] + b"\x00" * 40 + whole[52:])
    (landing / "source=web/not-gzip.ndjson.gz").write_bytes(b'{"a":5}\n')
    (landing / "source=web/dangling.ndjson").symlink_to(tmp_path / "gone.ndjson")
    write(landing / "source=web/other.gzip", "x\n")

    code = main(["load", "--landing", str(landing), "--db", str(database)])

    assert code == 1
    assert query(database, "select file_path, line_count from raw.load_manifest order by 1") == [
        ("source=web/UPPER.NDJSON", 1),
        ("source=web/good.ndjson", 2),
    ]
    assert query(database, "select file_path, reason from raw.load_rejections order by 1") == [
        ("source=web/corrupt.ndjson.gz", "corrupt_gzip"),
        ("source=web/dangling.ndjson", "unreadable_file"),
        ("source=web/not-gzip.ndjson.gz", "corrupt_gzip"),
        ("source=web/truncated.ndjson.gz", "truncated_gzip"),
    ]
    again = load(landing, database, progress=False)
    assert [r.file_path for r in again.rejected] == [
        "source=web/corrupt.ndjson.gz",
        "source=web/dangling.ndjson",
        "source=web/not-gzip.ndjson.gz",
        "source=web/truncated.ndjson.gz",
    ]
    assert again.unrecognised == ["source=web/other.gzip"]
    assert query(database, "select count(*) from raw.load_rejections") == [(4,)]


def test_cli_names_each_rejected_and_unrecognised_file(tmp_path: Path, capsys) -> None:
    from shoplog.cli import main

    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    (landing / "source=web").mkdir(parents=True)
    (landing / "source=web/bad.ndjson.gz").write_bytes(b"not gzip at all")
    write(landing / "source=web/events.gzip", "x\n")

    assert main(["load", "--landing", str(landing), "--db", str(database)]) == 1

    err = capsys.readouterr().err
    assert "rejected source=web/bad.ndjson.gz: corrupt_gzip" in " ".join(err.split())
    assert "source=web/events.gzip" in err


def test_a_backfill_stamps_each_file_with_its_partition_end_and_the_clock_never_goes_back(
    tmp_path: Path,
) -> None:
    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    write(landing / "source=web/date=2026-01-02/hour=03/a.ndjson", '{"a":1}\n')
    write(landing / "source=web/date=2026-01-05/b.ndjson", '{"b":1}\n')
    write(landing / "source=web/date=2999-01-01/hour=00/future.ndjson", '{"f":1}\n')
    write(landing / "source=web/nopartition.ndjson", '{"n":1}\n')

    first = load(landing, database, progress=False, from_partition=True)
    write(landing / "source=web/date=2026-01-01/hour=00/late.ndjson", '{"l":1}\n')
    load(landing, database, progress=False, from_partition=True)

    stamps = dict(query(database, "select file_path, loaded_at from raw.load_manifest"))
    assert stamps["source=web/date=2026-01-02/hour=03/a.ndjson"] == datetime(2026, 1, 2, 4)
    assert stamps["source=web/date=2026-01-05/b.ndjson"] == datetime(2026, 1, 6)
    now = datetime.now(UTC).replace(tzinfo=None)
    assert timedelta(0) <= now - stamps["source=web/date=2999-01-01/hour=00/future.ndjson"]
    assert now - stamps["source=web/date=2999-01-01/hour=00/future.ndjson"] < timedelta(minutes=5)
    # A file landed late in an old partition is stamped no earlier than what was already known.
    assert (
        stamps["source=web/date=2026-01-01/hour=00/late.ndjson"]
        == stamps["source=web/date=2999-01-01/hour=00/future.ndjson"]
    )
    assert [(r.file_path, r.reason) for r in first.rejected] == [
        ("source=web/nopartition.ndjson", "no_partition_time")
    ]


def test_a_failed_replay_leaves_no_half_written_database(tmp_path: Path, monkeypatch) -> None:
    import shoplog.replay as replayer
    from shoplog.build import BuildError, DbtOutcome

    landing, database = tmp_path / "landing", tmp_path / "db.duckdb"
    write(landing / "source=web/date=2026-01-01/hour=00/a.ndjson", '{"a":1}\n')
    load(landing, database, progress=False, from_partition=True)
    monkeypatch.setattr(
        replayer,
        "run_dbt",
        lambda *args, **kwargs: DbtOutcome(command=[], success=False, failures=["boom"]),
    )
    out = tmp_path / "replayed" / "new.duckdb"

    with pytest.raises(BuildError, match="boom"):
        replayer.replay(database, out, tmp_path, quiet=True)

    assert not out.parent.exists()  # neither the database nor the folder replay made
