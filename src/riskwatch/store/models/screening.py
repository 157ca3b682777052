"""Saved screenings and enterprise tags (object, behaviour and class tags)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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
