"""One writer at a time: the advisory lock beside the database, its message, ``--wait``, and a
holder killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shoplog.cli import main
from shoplog.lock import LockHeldError, lock_path, read_holder, who, writer_lock

from .conftest import PROJECT_DIR, make_event, write_landing

#: A process holding the lock of argv[1] as command argv[2] for argv[3] seconds.
HOLD = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from shoplog.lock import writer_lock\n"
    "with writer_lock(Path(sys.argv[1]), sys.argv[2]):\n"
    "    print('ready', flush=True)\n"
    "    time.sleep(float(sys.argv[3]))\n"
)


def _holder_process(database: Path, command: str, seconds: float) -> subprocess.Popen[str]:
    """Start a process holding the writer lock of ``database``; return once it holds it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(database), command, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "ready"
    return holder


def _main_while_held(
    locked: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, dict[str, object]]:
    """Run ``shoplog argv`` while another process holds the lock of ``locked`` (as ``shoplog
    build``); return the exit code, its stderr and the holder the lock file named."""
    holder = _holder_process(locked, "shoplog build", 600)
    try:
        held = read_holder(locked)
        assert held is not None
        capsys.readouterr()
        code = main(argv)
        return code, capsys.readouterr().err, held
    finally:
        holder.kill()
        holder.wait()


def _held_by(database: Path, holder: dict[str, object], waited: str) -> str:
    return (
        f"{database} is being written by `{holder['command']}` (pid {holder['pid']}, "
        f"{holder['who']}, since {holder['since']}); waited {waited} s "
        "— retry later or pass --wait SECONDS"
    )


def test_a_second_writer_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    database = tmp_path / "shoplog.duckdb"

    with writer_lock(database, "shoplog build") as holder:
        started = time.monotonic()
        with pytest.raises(LockHeldError) as refused, writer_lock(database, "shoplog load"):
            pass
        elapsed = time.monotonic() - started
        recorded = read_holder(database)

    assert str(refused.value) == _held_by(database, holder, "0")
    assert elapsed < 0.5
    assert lock_path(database) == tmp_path / "shoplog.duckdb.lock"
    assert recorded == holder
    assert holder["pid"] == os.getpid() and holder["who"] == who()
    # released: the file stays, empty, and the next writer takes it at once
    assert lock_path(database).read_bytes() == b""
    with writer_lock(database, "shoplog load") as after:
        assert read_holder(database) == after


def test_a_writer_with_wait_takes_the_lock_when_the_holder_releases_it(tmp_path: Path) -> None:
    database = tmp_path / "shoplog.duckdb"
    holder = _holder_process(database, "shoplog run", 1.5)
    try:
        held = read_holder(database)
        assert held is not None
        with pytest.raises(LockHeldError) as too_short, writer_lock(database, "x", wait=0.3):
            pass
        started = time.monotonic()
        with writer_lock(database, "shoplog load", wait=30) as mine:
            waited = time.monotonic() - started
            assert read_holder(database) == mine
    finally:
        holder.kill()
        holder.wait()

    assert str(too_short.value) == _held_by(database, held, "0.3")
    assert held["command"] == "shoplog run" and held["pid"] == holder.pid
    assert 0.3 < waited < 30


def test_a_killed_holder_does_not_block_the_next_writer(tmp_path: Path) -> None:
    database = tmp_path / "shoplog.duckdb"
    holder = _holder_process(database, "shoplog build", 600)
    held = read_holder(database)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()

    stale = read_holder(database)  # the killed holder could not clear its name
    started = time.monotonic()
    with writer_lock(database, "shoplog load") as mine:
        elapsed = time.monotonic() - started

    assert held is not None and held["pid"] == holder.pid
    assert stale == held
    assert mine["pid"] == os.getpid()
    assert elapsed < 0.5


def test_shoplog_load_while_another_process_writes_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "db" / "shoplog.duckdb"
    landing = write_landing(
        tmp_path / "landing",
        [make_event(1, "web", "page_view", "2026-01-01T00:00:00.000Z", anonymous_id="a1")],
    )
    code, err, held = _main_while_held(
        database, ["load", "--landing", str(landing), "--db", str(database)], capsys
    )

    assert code == 2
    assert err == f"error: {_held_by(database, held, '0')}\n"
    assert not database.exists()  # nothing was written, not even a history row


@pytest.mark.parametrize("command", ["build", "run", "replay", "replay-check"])
def test_every_writing_command_waits_for_the_lock_of_what_it_writes(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, workdir = tmp_path / "shoplog.duckdb", tmp_path / "replay-check"
    landing = write_landing(
        tmp_path / "landing",
        [make_event(1, "web", "page_view", "2026-01-01T00:00:00.000Z", anonymous_id="a1")],
    )
    where = ["--project-dir", str(PROJECT_DIR)]
    args = {
        "build": ["--db", str(database)],
        "run": ["--db", str(database), "--landing", str(landing)],
        "replay": ["--db", str(database), "--out", str(tmp_path / "new.duckdb")],
        "replay-check": ["--landing", str(landing), "--workdir", str(workdir)],
    }[command]
    locked = workdir if command == "replay-check" else database  # the check empties its workdir
    code, err, held = _main_while_held(locked, [command, *args, *where, "--wait", "0.2"], capsys)

    assert code == 2
    assert err == f"error: {_held_by(locked, held, '0.2')}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["landing", f"{locked.name}.lock"] + (["new.duckdb.lock"] if command == "replay" else [])
    )  # nothing was written: no database, no workdir
