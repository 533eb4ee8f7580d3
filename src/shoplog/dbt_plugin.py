"""A dbt-duckdb plugin that hands the pseudonymisation key to DuckDB without writing it anywhere.

Named in the profile (``plugins: [{module: shoplog.dbt_plugin}]``), it runs on every connection
and cursor dbt opens and sets two session variables, HMAC's inner and outer padded keys, which the
``pseudonymize`` macro reads with ``getvariable``. The key is never in model SQL, compiled SQL,
dbt's logs or the database file: it lives in the environment or the key file (shoplog.keys).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from shoplog.keys import hmac_pads, read_key


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        key_file = plugin_config.get("key_file")
        self._pads = hmac_pads(read_key(Path(key_file) if key_file else None))

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        self._set_key(conn)

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        # dbt runs each model on a cursor, a connection of its own: variables do not carry over
        self._set_key(cursor)

    def _set_key(self, conn: DuckDBPyConnection) -> None:
        inner, outer = self._pads
        conn.execute("set variable shoplog_hmac_inner = ?", [inner])
        conn.execute("set variable shoplog_hmac_outer = ?", [outer])
