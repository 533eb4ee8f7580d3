"""``shoplog health``: what an operator must look at, one finding per line.

Checks, each over the built database (read-only) or through dbt:

- ``quarantine_rate``: a producer's share of quarantined lines on one day (the file's ``date=``
  partition) passes ``max_quarantine_rate`` (per producer in ``quarantine_rate_by_source``),
  over the lines loaded in the window; days with fewer than ``min_lines_for_quarantine_rate``
  lines are not judged.
- ``conflicting_duplicates``: re-deliveries of an event id with different content arrived in the
  window (``staging.stg_raw__duplicates``).
- ``clock_ahead``: lines whose ``received_at`` is after their own load time arrived in the window
  (a producer or collector clock ahead of the warehouse; quarantined).
- ``rejected_load``: a landing file the loader rejected (unreadable, corrupt) that has not been
  loaded since: it must be fixed and landed again.
- ``conservation``: the data test ``assert_raw_lines_conserved`` fails (a line is lost or
  counted twice between the manifest, the raw log and staging).
- ``last_build``: the latest build recorded in ``ops.run_history`` failed or had failing
  tests, or no build is recorded.
- ``stale_source``: ``dbt source freshness`` on the ``producers`` source (thresholds per producer
  in ``models/staging/raw/_raw__sources.yml``): ``error`` is a finding, ``warn`` a warning.

The window is on the log's clock, the load time (DESIGN.md, "Three clocks"): the loads of the
``lookback_hours`` before the latest load, so a backfill and a live feed are judged alike.
Freshness alone is against the wall clock: it asks whether the log is still being fed.
Thresholds are the ``health`` var of ``dbt_project.yml``, one place beside the other settings.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from shoplog.build import run_dbt
from shoplog.report import FILE_DAY_SQL, FILE_SOURCE_SQL

#: Settings used when ``dbt_project.yml`` leaves one out.
DEFAULT_SETTINGS: dict[str, Any] = {
    "lookback_hours": 24,
    "max_quarantine_rate": 0.05,
    "min_lines_for_quarantine_rate": 20,
    "quarantine_rate_by_source": {},
    "max_conflicting_duplicates": 0,
    "max_clock_ahead_lines": 0,
}

CONSERVATION_TEST = "assert_raw_lines_conserved"
FRESHNESS_SOURCE = "source:producers"
#: dbt's own console lines (its ERROR STALE, its test failures) would repeat the findings
SILENT = ["--log-level", "none"]


@dataclass(frozen=True)
class Finding:
    """One thing an operator must look at."""

    check: str
    subject: str
    message: str
    severity: str = "error"  # "warn": reported, but the exit code stays 0

    def line(self) -> str:
        """The finding as one line of text."""
        return f"{self.severity.upper():5} {self.check} {self.subject}: {self.message}"


@dataclass
class HealthReport:
    """The findings, and which checks ran (``ok``, ``findings`` or ``skipped: why``)."""

    database: str
    log_clock: datetime | None
    window_start: datetime | None
    checks: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """No finding of severity ``error``."""
        return not any(f.severity == "error" for f in self.findings)

    def add(self, check: str, findings: list[Finding]) -> None:
        """Record that ``check`` ran and what it found."""
        self.checks[check] = "findings" if findings else "ok"
        self.findings.extend(findings)

    def to_json(self) -> str:
        """The report for an alerting system."""
        return json.dumps(
            {
                "healthy": self.healthy,
                "database": self.database,
                "log_clock": self.log_clock.isoformat() if self.log_clock else None,
                "window_start": self.window_start.isoformat() if self.window_start else None,
                "checks": self.checks,
                "findings": [asdict(f) for f in self.findings],
            },
            indent=2,
        )


def load_settings(project_dir: Path) -> dict[str, Any]:
    """The ``health`` var of the project's ``dbt_project.yml`` over :data:`DEFAULT_SETTINGS`."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    configured = (project.get("vars") or {}).get("health") or {}
    unknown = sorted(set(configured) - set(DEFAULT_SETTINGS))
    if unknown:
        raise ValueError(f"unknown health settings in dbt_project.yml: {', '.join(unknown)}")
    return {**DEFAULT_SETTINGS, **configured}


def check_health(
    database: Path,
    project_dir: Path,
    settings: dict[str, Any] | None = None,
    freshness: bool = True,
    target_path: Path | None = None,
) -> HealthReport:
    """Run every check on ``database``; dbt writes its artifacts under ``target_path``."""
    settings = settings or load_settings(project_dir)
    if not Path(database).is_file():
        raise ValueError(f"no database at {database}")
    with duckdb.connect(str(database), read_only=True) as con:
        clock = _scalar(con, "select max(loaded_at) from raw.load_manifest")
        start = clock - timedelta(hours=settings["lookback_hours"]) if clock else None
        report = HealthReport(str(database), clock, start)
        built = _has_table(con, "staging", "base_raw__lines")
        if built and start is not None:
            report.add("quarantine_rate", _quarantine_rates(con, start, settings))
            for arrival in ARRIVALS:
                allowed = settings[arrival[3]]
                report.add(arrival[0], _arrivals(con, start, allowed, arrival))
        else:
            for check in ("quarantine_rate", "conflicting_duplicates", "clock_ahead"):
                report.checks[check] = "skipped: nothing built yet"
        report.add("rejected_load", _rejected_loads(con))
        report.add("last_build", _last_build(con))
    if built:
        report.add("conservation", _conservation(database, project_dir, target_path))
    else:
        report.checks["conservation"] = "skipped: nothing built yet"
    if freshness:
        report.add("stale_source", _stale_sources(database, project_dir, target_path))
    else:
        report.checks["stale_source"] = "skipped: --no-freshness"
    return report


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    row = con.execute(sql, params or []).fetchone()
    return row[0] if row else None


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        _scalar(
            con,
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        )
    )


def _quarantine_rates(
    con: duckdb.DuckDBPyConnection, start: datetime, settings: dict[str, Any]
) -> list[Finding]:
    rows = con.execute(
        f"""
        select
            {FILE_SOURCE_SQL} as source,
            {FILE_DAY_SQL} as day,
            count(*) as lines,
            count(case when line_status = 'quarantined' then 1 end) as quarantined
        from staging.base_raw__lines
        where loaded_at > ?
        group by all
        order by source, day
        """,
        [start],
    ).fetchall()
    findings = []
    for source, day, lines, quarantined in rows:
        limit = settings["quarantine_rate_by_source"].get(source, settings["max_quarantine_rate"])
        if lines >= settings["min_lines_for_quarantine_rate"] and quarantined / lines > limit:
            findings.append(
                Finding(
                    "quarantine_rate",
                    f"{source} {day}",
                    f"{quarantined / lines:.1%} of {lines:,} lines quarantined "
                    f"(threshold {limit:.1%})",
                )
            )
    return findings


def _counted_by_source(
    con: duckdb.DuckDBPyConnection, relation: str, condition: str, start: datetime
) -> list[tuple[str, int, datetime]]:
    """(producer, lines, latest load time) of the lines of ``relation`` loaded after ``start``
    that meet ``condition``."""
    return con.execute(
        f"""
        select {FILE_SOURCE_SQL} as source, count(*), max(loaded_at)
        from {relation}
        where {condition} and loaded_at > ?
        group by all
        order by source
        """,
        [start],
    ).fetchall()


#: Lines that must not arrive: check, relation, condition, setting (the most allowed), and what
#: the finding says after the count (``{latest}``: the latest load time of such a line).
ARRIVALS = (
    (
        "conflicting_duplicates",
        "staging.stg_raw__duplicates",
        "is_conflicting",
        "max_conflicting_duplicates",
        "re-deliveries with content different from the first delivery (latest loaded "
        "{latest}); the first delivery was kept",
    ),
    (
        "clock_ahead",
        "staging.stg_raw__quarantine",
        "quarantine_reason = 'clock_ahead'",
        "max_clock_ahead_lines",
        "lines received after their own load time (latest loaded {latest}): a producer's "
        "clock is ahead; quarantined",
    ),
)


def _arrivals(
    con: duckdb.DuckDBPyConnection, start: datetime, allowed: int, arrival: tuple[str, ...]
) -> list[Finding]:
    """One finding per producer with more lines of the ``arrival`` kind (a row of
    :data:`ARRIVALS`) loaded after ``start`` than ``allowed``."""
    check, relation, condition, _setting, what = arrival
    return [
        Finding(check, source, f"{count:,} " + what.format(latest=f"{latest:%Y-%m-%d %H:%M}"))
        for source, count, latest in _counted_by_source(con, relation, condition, start)
        if count > allowed
    ]


def _rejected_loads(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    rows = con.execute(
        """
        select file_path, arg_max(reason, rejected_at), arg_max(detail, rejected_at),
            max(rejected_at), count(*)
        from raw.load_rejections as rejection
        where not exists (
            select 1 from raw.load_manifest as manifest
            where manifest.file_path = rejection.file_path
        )
        group by file_path
        order by file_path
        """
    ).fetchall()
    return [
        Finding(
            "rejected_load",
            path,
            f"{reason} ({detail}); rejected {times} time(s), last at {last:%Y-%m-%d %H:%M}: "
            "fix the file and land it again",
        )
        for path, reason, detail, last, times in rows
    ]


def _last_build(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    if not _has_table(con, "ops", "run_history"):
        return [Finding("last_build", "-", "no build recorded (ops.run_history is missing)")]
    row = con.execute(
        "select result, failures, finished_at, message from ops.run_history "
        "where command in ('build', 'run') order by started_at desc limit 1"
    ).fetchone()
    if row is None:
        return [Finding("last_build", "-", "no build recorded in ops.run_history")]
    result, failures, finished, message = row
    if result == "success" and not failures:
        return []
    detail = f": {message}" if message else ""
    return [
        Finding(
            "last_build",
            f"{finished:%Y-%m-%d %H:%M}",
            f"{result} with {failures or 0} failing models or tests{detail}",
        )
    ]


def _conservation(database: Path, project_dir: Path, target_path: Path | None) -> list[Finding]:
    outcome = run_dbt(
        ["test", "--select", CONSERVATION_TEST, *SILENT],
        project_dir,
        database,
        quiet=True,
        target_path=target_path,
    )
    if outcome.success:
        return []
    return [Finding("conservation", CONSERVATION_TEST, "; ".join(outcome.failures))]


def _stale_sources(database: Path, project_dir: Path, target_path: Path | None) -> list[Finding]:
    outcome = run_dbt(
        ["source", "freshness", "--select", FRESHNESS_SOURCE, *SILENT],
        project_dir,
        database,
        quiet=True,
        target_path=target_path,
    )
    artifact = (outcome.target_path or project_dir) / "sources.json"
    if not artifact.is_file():  # dbt stopped before checking any source
        failed = "; ".join(outcome.failures) or "see the dbt log"
        return [Finding("stale_source", FRESHNESS_SOURCE, f"freshness could not run: {failed}")]
    sources = json.loads(artifact.read_text())
    findings = []
    for result in sorted(sources["results"], key=lambda r: r["unique_id"]):
        status = result["status"]
        if status == "pass":
            continue
        name = result["unique_id"].rsplit(".", 1)[-1]
        if status == "runtime error":
            findings.append(Finding("stale_source", name, f"freshness query failed: {result}"))
            continue
        loaded = datetime.fromisoformat(result["max_loaded_at"])
        age = timedelta(seconds=round(result["max_loaded_at_time_ago_in_s"]))
        limit = result["criteria"]["error_after" if status == "error" else "warn_after"]
        if loaded.year > 1:
            latest = f"latest file loaded {loaded:%Y-%m-%d %H:%M}, {_days_hours(age)} ago"
        else:
            latest = "no file loaded"
        findings.append(
            Finding(
                "stale_source",
                name,
                f"{latest} ({status} after {limit['count']} {limit['period']}s)",
                severity="error" if status == "error" else "warn",
            )
        )
    return findings


def _days_hours(age: timedelta) -> str:
    hours = age.seconds // 3600
    return f"{age.days} d {hours} h" if age.days else f"{hours} h {age.seconds % 3600 // 60} min"
