"""Saved screenings and enterprise tags (object, behaviour and class tags)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from riskwatch.store.opdb import Base


class SavedScreening(Base):
    """A named rule tree a user kept for reuse."""

    __tablename__ = "saved_screenings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    owner: Mapped[str] = mapped_column(String(128), index=True)
    rule: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Tag(Base):
    """A tag definition; rule-made tags carry a screening rule tree."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # object | behaviour | class
    rule: Mapped[dict[str, object] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EnterpriseTag(Base):
    """A tag on an enterprise (manual, or applied by a rule)."""

    __tablename__ = "enterprise_tags"
    __table_args__ = (UniqueConstraint("tag_id", "uscc"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tag_id: Mapped[int] = mapped_column(Integer, index=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    region: Mapped[str] = mapped_column(String(6))
    source: Mapped[str] = mapped_column(String(8))  # manual | rule
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def screenings_of(session: Session, owner: str) -> list[SavedScreening]:
    """A user's saved screenings, newest first."""
    query = select(SavedScreening).where(SavedScreening.owner == owner)
    return list(session.scalars(query.order_by(SavedScreening.id.desc())))


def tag_by_name(session: Session, name: str) -> Tag | None:
    """The tag called ``name``."""
    return session.scalars(select(Tag).where(Tag.name == name)).first()


def all_tags(session: Session) -> list[Tag]:
    """Every tag, by name."""
    return list(session.scalars(select(Tag).order_by(Tag.name)))


def members(session: Session, tag_id: int, prefix: str) -> list[str]:
    """The usccs carrying a tag within a region prefix."""
    query = select(EnterpriseTag.uscc).where(
        EnterpriseTag.tag_id == tag_id, EnterpriseTag.region.startswith(prefix)
    )
    return list(session.scalars(query.order_by(EnterpriseTag.uscc)))


_TAGS_ON = (
    select(Tag.name, Tag.kind, EnterpriseTag.source)
    .join(EnterpriseTag, EnterpriseTag.tag_id == Tag.id)
    .where(EnterpriseTag.uscc == bindparam("uscc"))
)
"""Built once: every profile reads its tags (Core on the session's connection)."""


def tags_on(session: Session, uscc: str) -> list[tuple[str, str, str]]:
    """(tag name, kind, source) of the tags on one enterprise."""
    rows = session.connection().execute(_TAGS_ON, {"uscc": uscc})
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def existing(session: Session, tag_id: int) -> set[str]:
    """The usccs a tag is on."""
    return set(session.scalars(select(EnterpriseTag.uscc).where(EnterpriseTag.tag_id == tag_id)))


def untag(session: Session, tag_id: int, usccs: list[str], source: str | None = None) -> int:
    """Remove a tag from enterprises (only rule-made ones when ``source`` says so)."""
    stmt = delete(EnterpriseTag).where(
        EnterpriseTag.tag_id == tag_id, EnterpriseTag.uscc.in_(usccs)
    )
    if source is not None:
        stmt = stmt.where(EnterpriseTag.source == source)
    return int(getattr(session.execute(stmt), "rowcount", 0))
