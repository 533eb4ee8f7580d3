"""The ``shoplog`` command line: its options, exit codes, and how every subcommand finds the
project, the database and the landing folder."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from shoplog.cli import main
from shoplog.load import read_journal
from shoplog.locations import ProjectNotFoundError, locate

from .conftest import PROJECT_DIR, make_event, query, write_landing

#: Every subcommand and the options scripts rely on (none may disappear).
OPTIONS = {
    "generate": [
        "--out",
        "--start",
        "--days",
        "--users",
        "--seed",
        "--no-hard-cases",
        "--deletion-rate",
        "--duplicate-rate",
        "--late-rate",
        "--skew-rate",
        "--malformed-rate",
        "--unknown-type-rate",
        "--v2-rate",
    ],
    "load": [
        "--landing",
        "--loaded-at",
        "--from-partition",
        "--db",
        "--project-dir",
        "--wait",
        "--journal",
    ],
    "run": [
        "--landing",
        "--project-dir",
        "--db",
        "--wall-clock",
        "--serving",
        "--keep",
        "--wait",
        "--journal",
    ],
    "build": ["--project-dir", "--db", "--serving", "--keep", "--wait"],
    "publish": ["--serving", "--keep", "--db", "--project-dir", "--wait"],
    "validate": ["--db", "--project-dir"],
    "reconcile": ["--landing", "--db", "--project-dir"],
    "health": ["--json", "--no-freshness", "--db", "--project-dir", "--wait"],
    "replay-check": ["--landing", "--batches", "--workdir", "--project-dir", "--wait"],
    "replay": ["--out", "--project-dir", "--db", "--wait"],
    "recover": ["--journal", "--landing", "--db", "--project-dir", "--serving", "--keep", "--wait"],
    "er-report": ["--truth", "--db", "--project-dir"],
    "evaluate": ["--json", "--project-dir"],
    "history": ["--limit", "--json", "--db", "--project-dir"],
    "bench": [
        "--events",
        "--incremental-share",
        "--workdir",
        "--keep-log",
        "--json-only",
        "--steps",
        "--project-dir",
    ],
}


def test_the_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    commands = capsys.readouterr().out.split("Commands:")[1]
    listed = [
        line.split()[0]
        for line in commands.splitlines()
        if line.startswith("  ") and line[2] != " "
    ]
    assert listed == list(OPTIONS)  # in the job's order


@pytest.mark.parametrize("command", sorted(OPTIONS))
def test_each_subcommand_help_lists_its_options(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "-h"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Usage: shoplog {command} [OPTIONS]")
    for option in OPTIONS[command]:
        assert f"  {option} " in out, option


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["no-such-command"]) == 2
    assert main(["generate"]) == 2  # --out is required
    assert main(["generate", "--out", str(tmp_path), "--start", "soon"]) == 2
    both = ["load", "--loaded-at", "2026-01-01T00:00:00", "--from-partition"]
    assert main(both) == 2
    assert "not allowed with --loaded-at" in capsys.readouterr().err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder made a project (a dbt_project.yml), with a subfolder as the working
    directory and no SHOPLOG_* locations in the environment."""
    root = tmp_path / "project"
    (root / "sub").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: elsewhere\n")
    monkeypatch.chdir(root / "sub")
    monkeypatch.delenv("SHOPLOG_DB", raising=False)
    monkeypatch.delenv("SHOPLOG_PROJECT_DIR", raising=False)
    return root


def test_the_project_is_the_option_else_the_environment_else_above_the_cwd(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert locate().project_dir == project.resolve()
    monkeypatch.setenv("SHOPLOG_PROJECT_DIR", str(PROJECT_DIR))
    assert locate().project_dir == PROJECT_DIR
    assert locate(project_dir=project / "sub").project_dir == project.resolve()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHOPLOG_PROJECT_DIR")
    with pytest.raises(ProjectNotFoundError, match="--project-dir"):
        _ = locate().project_dir


def test_the_database_is_the_option_else_the_environment_else_in_the_project(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = Path.cwd()
    assert locate().database == project.resolve() / "data/shoplog.duckdb"
    assert locate().landing == project.resolve() / "data/landing"
    # relative paths, from an option or the environment, are taken from the working directory
    assert locate(db=Path("mine.duckdb")).database == cwd / "mine.duckdb"
    assert locate(landing=Path("in")).landing == cwd / "in"
    monkeypatch.setenv("SHOPLOG_DB", "env.duckdb")
    assert locate().database == cwd / "env.duckdb"
    assert locate(db=Path("/abs/x.duckdb")).database == Path("/abs/x.duckdb")


def test_a_given_database_needs_no_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHOPLOG_PROJECT_DIR", raising=False)
    assert locate(db=Path("x.duckdb")).database == tmp_path / "x.duckdb"


def test_every_subcommand_resolves_a_relative_db_and_the_defaults_the_same_way(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_landing(
        project / "data/landing",
        [make_event(1, "web", "page_view", "2026-01-01T00:00:00.000Z", anonymous_id="a1")],
    )
    # no --db, no --landing: both under the project, found from a subfolder
    assert main(["load"]) == 0
    assert query(project / "data/shoplog.duckdb", "select count(*) from raw.events") == [(1,)]
    # a relative --db is taken from the working directory, by load and by reconcile alike
    assert main(["load", "--db", "here.duckdb"]) == 0
    assert (Path.cwd() / "here.duckdb").is_file()
    capsys.readouterr()
    assert main(["reconcile", "--db", "here.duckdb"]) == 1  # loaded, not built: unbalanced
    assert "landed: 1, raw: 1" in capsys.readouterr().err


def test_load_journals_where_told_and_recover_refuses_a_changed_landing_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = write_landing(
        project / "data/landing",
        [make_event(1, "web", "page_view", "2026-01-01T00:00:00.000Z", anonymous_id="a1")],
    )
    journal = project / "elsewhere/load.journal.jsonl"
    assert main(["load", "--journal", str(journal)]) == 0
    landed = "source=web/date=2026-01-01/hour=00/part-00000.ndjson"
    (landing / landed).write_text("rewritten\n")
    capsys.readouterr()

    code = main(["recover", "--journal", str(journal), "--db", "new.duckdb"])

    assert code == 2
    assert f"{landed} (changed" in capsys.readouterr().err
    assert not (Path.cwd() / "new.duckdb").exists()
    assert [record.file_path for record in read_journal(journal).loads] == [landed]
    assert not (project / "data/shoplog.duckdb.journal.jsonl").exists()


def test_outside_a_project_a_default_location_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHOPLOG_DB", raising=False)
    monkeypatch.delenv("SHOPLOG_PROJECT_DIR", raising=False)
    assert main(["load"]) == 2
    assert "no dbt_project.yml" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_a_sigterm_inside_a_duckdb_query_exits_143_not_as_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A SIGTERM during a DuckDB query runs the handler inside the query, and DuckDB turns its
    # SystemExit into its own error, RuntimeError("Query interrupted"), which the step running
    # the query (a dbt hook, the loader) reports as a failure. That is emulated here, without
    # racing a real query against a timer: it is still a signal, 128 + 15.
    def a_load_stopped_mid_query(*args: object, **kwargs: object) -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before the next line
            time.sleep(10)
        except SystemExit:
            raise RuntimeError("Query interrupted") from None
        raise AssertionError("SIGTERM did not reach shoplog's handler")

    monkeypatch.setattr("shoplog.cli.load", a_load_stopped_mid_query)
    before = signal.getsignal(signal.SIGTERM)

    code = main(["load", "--landing", str(tmp_path), "--db", str(tmp_path / "log.duckdb")])

    assert code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before  # main() put the handler back
