"""Operational tables. Import every model module here so Alembic sees all of them."""

from __future__ import annotations

from riskwatch.store.models import audit, cases, jobs, sampling, screening, users

__all__ = ["audit", "cases", "jobs", "sampling", "screening", "users"]
