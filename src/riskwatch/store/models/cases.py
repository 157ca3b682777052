"""Alerts, cases and case events (闭环管理) in the operational store.

- ``alerts``: one row per raised alert; ``open_key`` (``rule:uscc`` while open, NULL once
  closed) is unique, so the database itself keeps one open alert per enterprise and rule.
- ``cases``: the unit of handling; ``version`` is the optimistic-locking counter
  (SQLAlchemy ``version_id_col``): a stale update fails instead of losing a change.
- ``case_events``: every transition with actor, time and note (append-only).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from riskwatch.store.opdb import Base


class Case(Base):
    """A case: an enterprise's alerts handled together to closure."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    state: Mapped[str] = mapped_column(String(8), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    department: Mapped[str] = mapped_column(String(128), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6))
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date, index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_on: Mapped[dt.date | None] = mapped_column(Date)
    actions: Mapped[list[str] | None] = mapped_column(JSON)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012


class Alert(Base):
    """One alert raised by a rule on an enterprise, with its evidence."""

    __tablename__ = "alerts"

    alert_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    raised_on: Mapped[dt.date] = mapped_column(Date, index=True)
    department: Mapped[str] = mapped_column(String(128))
    fingerprint: Mapped[str] = mapped_column(String(255))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    open_key: Mapped[str | None] = mapped_column(String(96), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # open | confirmed | false_positive
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    rules_version: Mapped[str] = mapped_column(String(32))
    scan_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CaseEvent(Base):
    """One step of a case: opened, alert joined, transition, escalation."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(8))
    to_state: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
