"""The pseudonymisation key: a secret kept outside the repository and the database.

Emails, IP addresses and every key derived from a personal identifier are keyed hashes
(HMAC-SHA-256) under this secret, so nobody without it can recompute a pseudonym from a list of
emails. The key is read from the environment variable ``SHOPLOG_PSEUDONYM_KEY``, else from the
key file (``SHOPLOG_KEY_FILE``, default ``data/pseudonym.key`` beside the database), which the
main job creates on first run with owner-only permissions.

Rotating the key changes every pseudonym and every person key: rebuild everything with
``dbt build --full-refresh`` (snapshots keep the old pseudonyms; replay them with
``shoplog replay``). The same key and log always give the same pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENV = "SHOPLOG_PSEUDONYM_KEY"
KEY_FILE_ENV = "SHOPLOG_KEY_FILE"
DEFAULT_KEY_FILE = Path("data/pseudonym.key")
#: HMAC-SHA-256 block size in bytes.
_BLOCK = 64


class MissingKeyError(RuntimeError):
    """No pseudonymisation key could be found."""


def key_file(project_dir: Path | None = None) -> Path:
    """The key file: ``SHOPLOG_KEY_FILE``, else ``data/pseudonym.key`` under ``project_dir``
    (default: the working directory)."""
    configured = os.environ.get(KEY_FILE_ENV)
    if configured:
        return Path(configured)
    return (project_dir or Path.cwd()) / DEFAULT_KEY_FILE


def ensure_key_file(project_dir: Path | None = None) -> Path | None:
    """Create the key file with a random 256-bit key (mode 0600) unless the key comes from the
    environment or the file exists; return the file used, or None when the environment holds it."""
    if os.environ.get(KEY_ENV):
        return None
    path = key_file(project_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return path


def read_key(path: Path | None = None) -> bytes:
    """The secret as bytes: the environment variable, else the key file (``path``, or the
    configured or default one relative to the working directory)."""
    value = os.environ.get(KEY_ENV)
    if value:
        return value.encode("utf-8")
    path = path or key_file()
    try:
        text = path.read_text().strip()
    except FileNotFoundError as exc:
        raise MissingKeyError(
            f"no pseudonymisation key: set {KEY_ENV}, or run `shoplog run` once to create "
            f"{path} (owner-only permissions)"
        ) from exc
    if not text:
        raise MissingKeyError(f"the key file {path} is empty")
    return text.encode("utf-8")


def project_key(project_dir: Path | None = None) -> bytes:
    """The key as dbt sees it in ``project_dir`` (default: the project this process runs in):
    the environment, else the project's key file."""
    if os.environ.get(KEY_ENV):
        return read_key()
    from shoplog.locations import ProjectNotFoundError, find_project_dir

    try:
        return read_key(key_file(project_dir or find_project_dir()))
    except ProjectNotFoundError:
        return read_key()


def pseudonym(value: str, key: bytes) -> str:
    """The keyed pseudonym SQL writes for ``value`` (macro pseudonymize): HMAC-SHA-256 hex."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer padded keys (RFC 2104), so SQL can compute HMAC-SHA-256 as
    sha256(opad || sha256(ipad || message)) without the key itself in any SQL text."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


if __name__ == "__main__":  # `python -m shoplog.keys`: create the key file if none (make setup)
    created = ensure_key_file()
    print(f"pseudonymisation key: {created or 'from ' + KEY_ENV}")
