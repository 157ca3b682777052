"""The operational store: users, cases, sampling plans, audit log, job history.

SQLAlchemy 2 (typed ORM) with Alembic migrations; SQLite under ``RISKWATCH_HOME`` by
default, PostgreSQL in production (``RISKWATCH_DATABASE_URL``). Domain packages declare
their tables on :class:`Base`; only ``store/`` opens engines and sessions.

Adding a table: declare it in a module under ``riskwatch/store/models/`` (imported by
:mod:`riskwatch.store.models`), then add a migration under ``store/migrations/versions``
chained on the current head (``riskwatch db revision -m "..."`` autogenerates one).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from riskwatch.settings import Settings
from riskwatch.store.locks import process_lock

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every operational table."""

    metadata = MetaData(naming_convention=NAMING)


MIGRATIONS = Path(__file__).parent / "migrations"


_URLS: dict[Path, str] = {}


def database_url(settings: Settings) -> str:
    """The configured URL, or a SQLite file under RISKWATCH_HOME (worked out once per home:
    every request opens sessions)."""
    if settings.database_url:
        return settings.database_url
    url = _URLS.get(settings.home)
    if url is None:
        settings.home.mkdir(parents=True, exist_ok=True)
        url = _URLS[settings.home] = f"sqlite:///{(settings.home / 'operational.sqlite').resolve()}"
    return url


def write_lock(settings: Settings) -> AbstractContextManager[object]:
    """Held by hot writers (the audit log) of a SQLite store: writers of several processes
    (the service's workers) then queue in the kernel instead of sleeping in SQLite's busy
    retries. A server database (PostgreSQL) queues writers itself: no lock."""
    url = make_url(database_url(settings))
    if url.get_backend_name() != "sqlite" or not url.database:
        return nullcontext()
    return process_lock(Path(url.database).with_name(Path(url.database).name + ".writelock"))


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


_ENGINES: dict[str, Engine] = {}


def _engine(url: str) -> Engine:
    engine = _ENGINES.get(url)
    if engine is not None:
        return engine
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    _ENGINES[url] = engine
    return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before a process forks)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()
    _FACTORIES.clear()
    _MIGRATED.clear()
    _URLS.clear()


def get_engine(settings: Settings) -> Engine:
    """The (cached) engine for the configured operational database."""
    return _engine(database_url(settings))


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at riskwatch's migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(settings: Settings, revision: str = "head") -> None:
    """Bring the operational database to ``revision`` (idempotent)."""
    url = database_url(settings)
    command.upgrade(alembic_config(url), revision)
    if revision == "head":
        _MIGRATED.add(url)


_MIGRATED: set[str] = set()
_LOCK = threading.Lock()
_FACTORIES: dict[str, sessionmaker[Session]] = {}


def session_factory(settings: Settings) -> sessionmaker[Session]:
    """A sessionmaker bound to the operational database, migrated to head once per process."""
    url = database_url(settings)
    factory = _FACTORIES.get(url)
    if factory is None:
        # Concurrent first requests must not run Alembic twice at once.
        with _LOCK:
            factory = _FACTORIES.get(url)
            if factory is None:
                if url not in _MIGRATED:
                    migrate(settings)
                factory = sessionmaker(get_engine(settings), expire_on_commit=False)
                _FACTORIES[url] = factory
    return factory


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(settings)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
