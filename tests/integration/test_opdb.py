"""The operational store migrates on SQLite and on a real PostgreSQL, with one head."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from riskwatch.settings import Settings
from riskwatch.store import opdb
from riskwatch.store.models.jobs import JobRun


def test_migrations_form_one_line() -> None:
    script = ScriptDirectory.from_config(opdb.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, "two migrations claim the same parent: chain them"


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_migrate_and_use(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgres" else ""
    settings = Settings(home=tmp_path / "home", database_url=url)
    opdb.migrate(settings)
    opdb.migrate(settings)  # idempotent
    tables = set(inspect(opdb.get_engine(settings)).get_table_names())
    assert {"job_runs", "alembic_version"} <= tables
    with opdb.session_scope(settings) as session:
        session.add(
            JobRun(job="ingest", started_at=datetime.now(UTC), status="done", counts={"rows": 3})
        )
    with opdb.session_scope(settings) as session:
        run = session.scalars(select(JobRun)).one()
        assert run.counts == {"rows": 3}
    opdb.get_engine(settings).dispose()
