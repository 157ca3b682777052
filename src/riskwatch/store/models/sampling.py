"""Random inspection plans (抽查任务), their drawn lists, and inspector recusals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from riskwatch.store.opdb import Base


class SamplePlan(Base):
    """One plan and everything a verifier needs: seed, digests, allocation, snapshots."""

    __tablename__ = "sample_plans"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[str] = mapped_column(String(500))
    seed_source: Mapped[str] = mapped_column(String(500), default="")
    algorithm: Mapped[str] = mapped_column(String(40))
    strata: Mapped[dict[str, Any]] = mapped_column(JSON)
    population_sha256: Mapped[str] = mapped_column(String(64))
    population_path: Mapped[str] = mapped_column(Text)
    list_sha256: Mapped[str] = mapped_column(String(64))
    assignment_sha256: Mapped[str | None] = mapped_column(String(64))
    assignment_inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100), default="")


class SampleDraw(Base):
    """One drawn enterprise of a plan, its inspectors, result and publication."""

    __tablename__ = "sample_draws"

    plan_id: Mapped[str] = mapped_column(
        ForeignKey("sample_plans.id", ondelete="CASCADE"), primary_key=True
    )
    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    risk_class: Mapped[str] = mapped_column(String(1))
    region_code: Mapped[str] = mapped_column(String(6), default="")
    draw_rank: Mapped[int] = mapped_column(Integer)
    inclusion_probability: Mapped[float] = mapped_column(Float)
    inspectors: Mapped[list[str] | None] = mapped_column(JSON)
    result: Mapped[str | None] = mapped_column(String(40))
    inspected_on: Mapped[date | None] = mapped_column(Date)
    publish_by: Mapped[date | None] = mapped_column(Date)
    published_on: Mapped[date | None] = mapped_column(Date)


class Recusal(Base):
    """A listed conflict of interest: this inspector never inspects this enterprise."""

    __tablename__ = "inspector_recusals"

    inspector_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
