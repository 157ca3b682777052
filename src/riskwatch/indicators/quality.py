"""Indicator quality per snapshot: coverage, distribution summary, PSI against last month."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

PSI_DRIFT = 0.25
"""PSI at or above this flags an indicator as drifting (the usual rule of thumb)."""
_EPS = 1e-4


def _values(table: pa.Table, col: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    arr = table.column(col).to_numpy(zero_copy_only=False)
    return np.asarray(arr, dtype=np.float64)


def summary(values: np.ndarray[Any, np.dtype[np.float64]]) -> dict[str, float | int | None]:
    """Coverage and distribution of one indicator (NaN = missing)."""
    n = int(values.size)
    present = values[~np.isnan(values)]
    out: dict[str, float | int | None] = {
        "rows": n,
        "coverage": round(present.size / n, 6) if n else None,
    }
    if present.size == 0:
        return out | dict.fromkeys(
            ("mean", "std", "min", "p25", "p50", "p75", "p95", "max", "zero_share")
        )
    q = np.quantile(present, [0.25, 0.5, 0.75, 0.95])
    return out | {
        "mean": float(present.mean()),
        "std": float(present.std()),
        "min": float(present.min()),
        "p25": float(q[0]),
        "p50": float(q[1]),
        "p75": float(q[2]),
        "p95": float(q[3]),
        "max": float(present.max()),
        "zero_share": round(float((present == 0).mean()), 6),
    }


def psi(
    expected: np.ndarray[Any, np.dtype[np.float64]],
    actual: np.ndarray[Any, np.dtype[np.float64]],
    bins: int = 10,
) -> float:
    """Population stability index of ``actual`` against ``expected``.

    Bins are the deciles of ``expected`` (merged where equal, so counts with few distinct
    values get one bin per value); missing values form a bin of their own.
    """
    e_ok, a_ok = expected[~np.isnan(expected)], actual[~np.isnan(actual)]
    if expected.size == 0 or actual.size == 0:
        return 0.0
    edges = (
        np.unique(np.quantile(e_ok, np.linspace(0, 1, bins + 1)[1:-1]))
        if e_ok.size
        else np.array([])
    )
    e_counts = np.bincount(np.searchsorted(edges, e_ok, side="right"), minlength=edges.size + 1)
    a_counts = np.bincount(np.searchsorted(edges, a_ok, side="right"), minlength=edges.size + 1)
    e_dist = np.append(e_counts, expected.size - e_ok.size) / expected.size
    a_dist = np.append(a_counts, actual.size - a_ok.size) / actual.size
    e_dist, a_dist = np.maximum(e_dist, _EPS), np.maximum(a_dist, _EPS)
    value = float(np.sum((a_dist - e_dist) * np.log(a_dist / e_dist)))
    return 0.0 if math.isnan(value) else round(value, 6)


def quality_report(
    table: pa.Table, indicators: list[str], previous: pa.Table | None, *, month: str
) -> dict[str, Any]:
    """The quality report of one month's snapshot.

    Parameters
    ----------
    table
        The month's snapshot.
    indicators
        The indicator columns to report on.
    previous
        The previous month's snapshot (``None``: no PSI).
    month
        The month (``YYYY-MM``), recorded in the report.

    Returns
    -------
    dict
        ``{"month", "rows", "previous_month", "drift_threshold", "drifting",
        "indicators": {id: {coverage, mean, …, psi, drift}}}``.
    """
    report: dict[str, Any] = {}
    drifting: list[str] = []
    for col in indicators:
        cur = _values(table, col)
        entry: dict[str, Any] = summary(cur)
        if previous is not None and col in previous.column_names:
            value = psi(_values(previous, col), cur)
            entry["psi"] = value
            entry["drift"] = value >= PSI_DRIFT
            if entry["drift"]:
                drifting.append(col)
        report[col] = entry
    prev_month = None
    if previous is not None and "month" in previous.column_names and previous.num_rows:
        prev_month = previous.column("month")[0].as_py()
    return {
        "month": month,
        "rows": table.num_rows,
        "previous_month": prev_month,
        "drift_threshold": PSI_DRIFT,
        "drifting": drifting,
        "indicators": report,
    }
