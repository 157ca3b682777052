"""Operational tables. Import every model module here so Alembic sees all of them."""

from __future__ import annotations

from riskwatch.store.models import jobs

__all__ = ["jobs"]
