"""Where the project, the database and the landing folder are: one rule for every command.

- The project: the nearest directory holding ``dbt_project.yml`` at or above ``--project-dir``,
  else at or above ``$SHOPLOG_PROJECT_DIR``, else at or above the working directory.
- The database: ``--db``, else ``$SHOPLOG_DB``, else ``<project>/data/shoplog.duckdb``.
- The landing folder: ``--landing``, else ``<project>/data/landing``.
- The serving folder (what readers open, see :mod:`shoplog.publish`): ``--serving``, else
  ``serving/`` beside the database (``<project>/data/serving`` by default).

A relative path given as an option or in the environment is taken relative to the working
directory, as with any command-line tool; only the defaults live under the project. The project
is looked up only when something needs it, so ``shoplog load --landing L --db D`` works outside
a project.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

PROJECT_ENV = "SHOPLOG_PROJECT_DIR"
DB_ENV = "SHOPLOG_DB"
#: Defaults, relative to the project directory.
DEFAULT_DB = Path("data/shoplog.duckdb")
DEFAULT_LANDING = Path("data/landing")
#: The serving folder's name, beside the database (so ``data/serving`` by default).
DEFAULT_SERVING_NAME = "serving"


class ProjectNotFoundError(ValueError):
    """No ``dbt_project.yml`` where the project was looked for."""


def find_project_dir(start: Path | None = None) -> Path:
    """The dbt project directory: ``start`` (default: the working directory) or its nearest
    parent holding ``dbt_project.yml``."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    raise ProjectNotFoundError(
        f"no dbt_project.yml in {here} or its parents; run from the project folder, "
        f"or pass --project-dir or set {PROJECT_ENV}"
    )


def _absolute(path: Path | str, base: Path) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else base / path


@dataclass
class Locations:
    """The paths one command works on, resolved by the module's rule (see :func:`locate`)."""

    project_option: Path | None = None
    db_option: Path | None = None
    landing_option: Path | None = None
    serving_option: Path | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)

    @cached_property
    def project_dir(self) -> Path:
        """The dbt project directory; raises :class:`ProjectNotFoundError` when there is none."""
        start = self.project_option or self.environ.get(PROJECT_ENV) or self.cwd
        return find_project_dir(_absolute(start, self.cwd))

    @property
    def project_dir_if_any(self) -> Path | None:
        """The project directory, or None when there is none (for what only prefers one)."""
        try:
            return self.project_dir
        except ProjectNotFoundError:
            return None

    @cached_property
    def database(self) -> Path:
        """The DuckDB file (an absolute path)."""
        chosen = self.db_option or self.environ.get(DB_ENV)
        if chosen:
            return _absolute(chosen, self.cwd)
        return self.project_dir / DEFAULT_DB

    @cached_property
    def landing(self) -> Path:
        """The landing folder (an absolute path)."""
        if self.landing_option:
            return _absolute(self.landing_option, self.cwd)
        return self.project_dir / DEFAULT_LANDING

    @cached_property
    def serving(self) -> Path:
        """The serving folder (an absolute path): the option, else beside the database."""
        if self.serving_option:
            return _absolute(self.serving_option, self.cwd)
        return self.database.parent / DEFAULT_SERVING_NAME

    def under_project(self, option: Path | None, default: Path) -> Path:
        """``option`` (relative to the working directory), else ``default`` under the project."""
        if option:
            return _absolute(option, self.cwd)
        return self.project_dir / default


def locate(
    project_dir: Path | None = None,
    db: Path | None = None,
    landing: Path | None = None,
    serving: Path | None = None,
) -> Locations:
    """The locations of one command from its options, the environment and the working
    directory; every ``shoplog`` subcommand goes through this one function."""
    return Locations(
        project_option=project_dir, db_option=db, landing_option=landing, serving_option=serving
    )
