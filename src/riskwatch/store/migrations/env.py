"""Alembic environment for riskwatch's operational store."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import riskwatch.store.models  # noqa: F401  (registers every table on Base.metadata)
from riskwatch.store.opdb import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)  # fmt: skip
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url)
    with engine.connect() as connection:
        # SQLite cannot ALTER most things in place: batch mode rebuilds tables.
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)  # fmt: skip
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
