"""Accounts and API tokens: users with roles and region scopes, hashed opaque tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, Row, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from riskwatch.settings import Settings
from riskwatch.store import opdb
from riskwatch.store.opdb import Base


class User(Base):
    """A person (or a partner department) who may use the service."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | analyst | inspector | partner
    region: Mapped[str] = mapped_column(String(6))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token, a web session or a partner token; only its keyed hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # bearer | session | partner
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # A partner token may read only these fields; None means the role's full view.
    fields: Mapped[list[str] | None] = mapped_column(JSON)
    csrf_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# -- queries used by riskwatch.services.users (only store/ speaks SQLAlchemy) -----------

DbSession = Session
"""The session type, for callers outside store/."""


@contextmanager
def service_session(settings: Settings) -> Iterator[Session]:
    """A committing session; the database is migrated once per process, not per request."""
    with opdb.session_scope(settings) as session:
        yield session


def forget_sessions() -> None:
    """Drop cached session factories and engines (tests switch databases)."""
    opdb.dispose_engines()


def user_by_name(session: Session, name: str) -> User | None:
    """The user called ``name``."""
    return session.scalars(select(User).where(User.name == name)).first()


def user_by_id(session: Session, user_id: int) -> User | None:
    """The user with this id."""
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def token_with_user(session: Session, token_hash: str) -> tuple[ApiToken, User] | None:
    """The token with this hash and its user."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash)
    ).first()
    return None if row is None else (row[0], row[1])


_PRINCIPAL = (
    select(
        ApiToken.id.label("token_id"), ApiToken.kind, ApiToken.fields, ApiToken.csrf_hash,
        ApiToken.expires_at, ApiToken.revoked_at, User.id.label("user_id"), User.name,
        User.role, User.region, User.active,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)  # fmt: skip
"""Built once: every request resolves its token (Core on the session's connection, no
ORM identity map: about a third of the ORM query's time)."""


def token_principal(session: Session, token_hash: str) -> Row[Any] | None:
    """The token with this hash and its user, as one row of plain values: ``token_id,
    kind, fields, csrf_hash, expires_at, revoked_at, user_id, name, role, region, active``."""
    found = session.connection().execute(_PRINCIPAL, {"token_hash": token_hash}).first()
    return cast("Row[Any] | None", found)


def tokens_of(session: Session, user_id: int | None = None) -> list[ApiToken]:
    """Tokens (of one user, or all), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))
