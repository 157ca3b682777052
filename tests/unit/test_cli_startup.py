"""The command line starts without loading the engines: `riskwatch --help` and a typo answer at
once, and each command loads only what it runs."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import typer
from typer.testing import CliRunner

HEAVY = ("pandas", "scipy", "lightgbm", "sklearn", "ibis", "duckdb", "pyarrow", "fastapi",
         "sqlalchemy", "pyspark", "alembic")  # fmt: skip


def test_importing_the_cli_loads_no_engine() -> None:
    code = (
        "import sys; from riskwatch.cli import app; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under a click group (typer may bring its own copy of click)."""
    found = [path]
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            found += _commands(cmd, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_command_shows_its_help() -> None:
    from riskwatch.cli import app

    root = typer.main.get_command(app)
    paths = _commands(root)
    assert len(paths) > 40 and ("alerts", "scan") in paths and ("serve",) in paths
    runner = CliRunner()
    for path in paths:
        res = runner.invoke(app, [*path, "--help"])
        assert res.exit_code == 0, (path, res.output)
        assert "Usage" in res.output, path
