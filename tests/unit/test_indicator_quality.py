"""Indicator quality figures: summary, decile edges and PSI against a plain reference."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from riskwatch.indicators.quality import PSI_DRIFT, column_stats, month_stats, report_of


def _reference_psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI as textbooks write it: deciles of expected, binary search per value, NaN bin."""
    e_ok, a_ok = expected[~np.isnan(expected)], actual[~np.isnan(actual)]
    edges = np.unique(np.quantile(e_ok, np.linspace(0, 1, 11)[1:-1]))
    e = np.bincount(np.searchsorted(edges, e_ok, side="right"), minlength=edges.size + 1)
    a = np.bincount(np.searchsorted(edges, a_ok, side="right"), minlength=edges.size + 1)
    e_d = np.maximum(np.append(e, expected.size - e_ok.size) / expected.size, 1e-4)
    a_d = np.maximum(np.append(a, actual.size - a_ok.size) / actual.size, 1e-4)
    return round(float(np.sum((a_d - e_d) * np.log(a_d / e_d))), 6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_psi_matches_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    before = rng.poisson(2.0, 5000).astype(float)  # a count: few distinct values, ties
    after = rng.poisson(2.0 + seed * 0.5, 4000).astype(float)
    before[rng.random(5000) < 0.1] = np.nan
    after[rng.random(4000) < 0.2] = np.nan
    prev = column_stats(before)
    cur = column_stats(after, prev)
    assert cur.psi == pytest.approx(_reference_psi(before, after), abs=1e-9)
    cont = rng.normal(0, 1, 3000)
    assert column_stats(cont + 0.1, column_stats(cont)).psi == pytest.approx(
        _reference_psi(cont, cont + 0.1), abs=1e-9
    )


def test_summary_and_drift_flags() -> None:
    values = np.array([0.0, 1, 2, 3, np.nan])
    s = column_stats(values).summary
    assert s["rows"] == 5 and s["coverage"] == 0.8 and s["zero_share"] == 0.25
    assert (s["min"], s["max"], s["p50"]) == (0.0, 3.0, 1.5)
    # all missing: no distribution, and an empty month has PSI 0, never a division by zero
    empty = column_stats(np.array([np.nan, np.nan]))
    assert empty.summary["coverage"] == 0.0 and empty.summary["mean"] is None
    assert column_stats(np.array([]), column_stats(values)).psi == 0.0
    old = pa.table({"x": [0.0] * 90 + [1.0] * 10, "y": [1.0] * 100})
    new = pa.table({"x": [0.0] * 10 + [1.0] * 90, "y": [1.0] * 100})
    report = report_of(
        month_stats(new, ["x", "y"], month_stats(old, ["x", "y"])),
        100,
        month="2025-06",
        previous_month="2025-05",
    )
    assert report["drifting"] == ["x"]
    assert report["indicators"]["x"]["psi"] >= PSI_DRIFT and not report["indicators"]["y"]["drift"]
    assert not math.isnan(report["indicators"]["y"]["psi"])
