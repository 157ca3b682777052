"""CLI commands: db upgrade | revision (the operational store's migrations)."""

from __future__ import annotations

from typing import Annotated

import typer

from riskwatch.cli.app import app
from riskwatch.cli.common import console, handle_errors
from riskwatch.settings import get_settings

db_app = typer.Typer(help="The operational database (users, cases, plans, audit, jobs).")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@handle_errors
def upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from riskwatch.store import opdb

    settings = get_settings()
    opdb.migrate(settings, revision)
    console.print(f"operational store at {revision}: {opdb.database_url(settings)}")


@db_app.command("revision")
@handle_errors
def revision(message: Annotated[str, typer.Option("-m", "--message", help="what changes")]) -> None:
    """Write a new migration from the models (developers)."""
    from alembic import command

    from riskwatch.store import opdb

    settings = get_settings()
    opdb.migrate(settings)
    command.revision(opdb.alembic_config(opdb.database_url(settings)), message=message,
                     autogenerate=True)  # fmt: skip
