"""One writer at a time: an advisory lock file beside the database.

The loader, ``shoplog run``/``build`` and ``replay`` take an exclusive :func:`fcntl.flock` on
``<database>.lock`` (the database file's name plus ``.lock``, in its folder) for as long as they
write. A second writer retries until ``wait`` seconds have passed, then fails with a
:class:`LockHeldError` naming the holder (command, pid, user@host, since when), which the
holder wrote into the lock file as JSON once it had the lock.

The file is never deleted: a process that opened the file before it was removed would lock
the removed file while the next one locks a new file, and both would write. The lock goes with
the holder's open file, so the kernel releases it when the process ends, however it ends
(SIGKILL included): a stale lock file cannot block anyone.

Within one process the lock is not re-entrant: a second :func:`writer_lock` on the same
database (another open file) waits for the first like any other writer.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: How often a waiting writer tries again.
RETRY_SECONDS = 0.1
#: What DuckDB says when another process has the database file open for writing.
DUCKDB_LOCK_CONFLICT = "could not set lock on file"


class LockHeldError(RuntimeError):
    """Another writer holds the database's lock (after waiting as long as asked)."""


def lock_path(database: Path) -> Path:
    """The lock file of ``database``: same folder, the file name plus ``.lock``."""
    database = Path(database)
    return database.with_name(database.name + ".lock")


def who() -> str:
    """``user@host`` of this process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def _holder(command: str) -> dict[str, Any]:
    return {
        "command": command,
        "argv": " ".join(sys.argv),
        "pid": os.getpid(),
        "who": who(),
        "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def read_holder(database: Path) -> dict[str, Any] | None:
    """The holder recorded in the lock file of ``database`` (None when empty or unreadable:
    no writer yet, the last one finished, or one that has the lock but not yet written)."""
    try:
        text = lock_path(database).read_text(encoding="utf-8")
        holder = json.loads(text)
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _held_message(database: Path, waited: float) -> str:
    holder = read_holder(database)
    if holder is None:
        by = "another shoplog writer (it has not said who yet)"
    else:
        by = (
            f"`{holder.get('command', '?')}` (pid {holder.get('pid', '?')}, "
            f"{holder.get('who', '?')}, since {holder.get('since', '?')})"
        )
    return (
        f"{database} is being written by {by}; waited {waited:g} s "
        "— retry later or pass --wait SECONDS"
    )


@contextmanager
def writer_lock(database: Path, command: str, wait: float = 0.0) -> Iterator[dict[str, Any]]:
    """Hold the writer lock of ``database`` for the block; yield the holder record written.

    Tries without blocking, then again every :data:`RETRY_SECONDS` until ``wait`` seconds have
    passed; raises :class:`LockHeldError` naming the holder if it never gets the lock.
    ``command`` (e.g. ``"shoplog build"``) is what a waiting writer is told is running.
    """
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        started = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = wait - (time.monotonic() - started)
                if left <= 0:
                    raise LockHeldError(_held_message(Path(database), wait)) from None
                time.sleep(min(RETRY_SECONDS, left))
        holder = _holder(command)
        _rewrite(fd, json.dumps(holder).encode())
        try:
            yield holder
        finally:
            _rewrite(fd, b"")  # nobody holds it: no stale name for the next one to read
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _rewrite(fd: int, content: bytes) -> None:
    """Replace the lock file's content (truncate, then one unbuffered write)."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, content, 0)


def foreign_holder_message(database: Path, detail: object) -> str:
    """What to say when DuckDB refuses ``database`` although the shoplog lock was free: the
    process holding the file is not a shoplog writer."""
    return (
        f"database {database} is open in another process that is not a shoplog writer (a BI "
        "tool or a reader opening the database file itself, or `dbt` run directly); close it "
        "and run again. Readers should read the published copy (see README, 'Reading the "
        f"warehouse'). DuckDB said: {detail}"
    )


def is_duckdb_lock_conflict(message: object) -> bool:
    """Whether a DuckDB error (or a dbt failure quoting one) is a conflict on the file lock."""
    return DUCKDB_LOCK_CONFLICT in str(message).lower()
