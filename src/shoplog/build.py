"""Run dbt in-process against the project, on the DuckDB file the loader writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from shoplog.keys import ensure_key_file

DEFAULT_DB = Path("data/shoplog.duckdb")


class BuildError(RuntimeError):
    """A dbt invocation that failed (a model error or a failing test)."""


@dataclass
class DbtOutcome:
    """What one dbt invocation did, by resource type and status."""

    command: list[str]
    success: bool
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def count(self, resource_type: str, status: str) -> int:
        return self.counts.get((resource_type, status), 0)


def find_project_dir(start: Path | None = None) -> Path:
    """The dbt project directory: ``start`` or the nearest parent holding ``dbt_project.yml``."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    raise BuildError(f"no dbt_project.yml in {here} or its parents; run from the project folder")


def ensure_profiles(project_dir: Path) -> Path:
    """Make sure ``profiles.yml`` exists beside the project (copied from the example)."""
    profiles = project_dir / "profiles.yml"
    if not profiles.exists():
        shutil.copyfile(project_dir / "profiles.yml.example", profiles)
    return project_dir


def dbt_environment(database: Path) -> None:
    """Point the profile at ``database`` and switch off network features of dbt."""
    os.environ["SHOPLOG_DB"] = str(Path(database).resolve())
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def dbt_executable() -> str:
    """The ``dbt`` installed beside this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise BuildError("dbt is not installed; run `make setup`")
    return found


def run_dbt(
    args: list[str],
    project_dir: Path,
    database: Path,
    target: str | None = None,
    quiet: bool = False,
) -> DbtOutcome:
    """Run dbt with ``args`` (e.g. ``["build"]``) and summarise ``target/run_results.json``.

    dbt runs in its own process, so it holds the DuckDB file only while it runs.
    """
    dbt_environment(database)
    ensure_profiles(project_dir)
    ensure_key_file(project_dir)
    command = [*args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    if target:
        command += ["--target", target]
    if quiet:
        command = ["--quiet", *command]
    target_path = (
        args[args.index("--target-path") + 1]
        if "--target-path" in args
        else os.environ.get("DBT_TARGET_PATH") or "target"
    )
    results_path = project_dir / target_path / "run_results.json"
    results_path.unlink(missing_ok=True)
    process = subprocess.Popen([dbt_executable(), *command], cwd=project_dir)
    try:
        returncode = process.wait()
    except BaseException:
        # interrupted (Ctrl-C, SIGTERM): dbt must not go on writing on its own
        process.terminate()
        process.wait()
        raise
    outcome = DbtOutcome(command=command, success=returncode == 0)
    if results_path.exists():
        for node in json.loads(results_path.read_text()).get("results", []):
            resource_type = node["unique_id"].split(".", 1)[0]
            key = (resource_type, node["status"])
            outcome.counts[key] = outcome.counts.get(key, 0) + 1
            if node["status"] in {"error", "fail"}:
                outcome.failures.append(f"{node['unique_id']}: {node.get('message')}")
            elif node["status"] == "warn":
                outcome.warnings.append(f"{node['unique_id']}: {node.get('message')}")
    if not outcome.success and not outcome.failures:
        outcome.failures.append(f"dbt exited with code {returncode}")
    return outcome
