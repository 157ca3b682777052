"""Indicators: the catalogue (config/indicators.yaml) compiled to one Ibis definition,
run point-in-time per enterprise and as-of date on DuckDB or Spark.

Public API::

    from riskwatch.indicators import load_catalogue, compute, run, load_snapshot
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from riskwatch.indicators.catalogue import Catalogue, Indicator, load_catalogue
from riskwatch.indicators.compile import KEY_COLUMNS, build_batch
from riskwatch.indicators.engine import RunResult, compute, month_ends, run
from riskwatch.store import snapshots


def load_snapshot(home: Path, month: str) -> pa.Table:
    """The stored indicator snapshot of a month (``YYYY-MM``) as an Arrow table.

    Parameters
    ----------
    home
        ``$RISKWATCH_HOME``.
    month
        The month, e.g. ``"2025-06"``.

    Raises
    ------
    riskwatch.errors.NotFoundError
        If no snapshot exists for the month.
    """
    return snapshots.load_snapshot(home, month)


__all__ = [
    "KEY_COLUMNS",
    "Catalogue",
    "Indicator",
    "RunResult",
    "build_batch",
    "compute",
    "load_catalogue",
    "load_snapshot",
    "month_ends",
    "run",
]
