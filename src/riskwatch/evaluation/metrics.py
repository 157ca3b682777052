"""Weighted classification metrics: AUC, KS, lift and gain, calibration, PSI, discovery rates.

Weights are inverse inclusion probabilities where draws were risk-stratified, so every
estimate is of the population, not of the inspected.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

Float = npt.NDArray[np.float64]


def _w(y: Any, w: Any) -> tuple[Float, Float]:
    yv = np.asarray(y, dtype=np.float64)
    wv = np.ones(len(yv)) if w is None else np.asarray(w, dtype=np.float64)
    return yv, wv


def auc(y: Any, s: Any, w: Any = None) -> float:
    """Weighted ROC AUC (ties count half); NaN with one class only."""
    from sklearn.metrics import roc_auc_score

    yv, wv = _w(y, w)
    if len(np.unique(yv)) < 2:
        return float("nan")
    return float(roc_auc_score(yv, np.asarray(s, np.float64), sample_weight=wv))


def roc(y: Any, s: Any, w: Any = None) -> tuple[Float, Float]:
    """False and true positive rates (weighted)."""
    from sklearn.metrics import roc_curve

    yv, wv = _w(y, w)
    fpr, tpr, _ = roc_curve(yv, np.asarray(s, np.float64), sample_weight=wv)
    return fpr, tpr


def ks(y: Any, s: Any, w: Any = None) -> float:
    """Kolmogorov–Smirnov statistic: max distance between the score CDFs of the two outcomes."""
    fpr, tpr = roc(y, s, w)
    return float(np.max(np.abs(tpr - fpr))) if len(fpr) else float("nan")


def brier(y: Any, p: Any, w: Any = None) -> float:
    """Weighted Brier score."""
    yv, wv = _w(y, w)
    return float(np.average((np.asarray(p, np.float64) - yv) ** 2, weights=wv))


def gain(y: Any, s: Any, w: Any = None, points: int = 20) -> dict[str, list[float]]:
    """Cumulative gain and lift at each share of the population, riskiest first."""
    yv, wv = _w(y, w)
    order = np.argsort(-np.asarray(s, np.float64), kind="stable")
    cw = np.cumsum(wv[order])
    cy = np.cumsum((wv * yv)[order])
    share = np.linspace(1 / points, 1, points)
    idx: Any = np.clip(np.searchsorted(cw / cw[-1], share), 0, len(cw) - 1) if len(cw) else []
    total = cy[-1] if len(cy) and cy[-1] > 0 else 1.0
    g = [float(cy[i] / total) for i in idx]
    return {
        "share": share.tolist(),
        "gain": g,
        "lift": [gi / sh for gi, sh in zip(g, share, strict=True)],
    }


def precision_at(y: Any, s: Any, w: Any, capacity: float) -> float:
    """Problem rate among the riskiest ``capacity`` share (the inspectors' yearly capacity)."""
    yv, wv = _w(y, w)
    order = np.argsort(-np.asarray(s, np.float64), kind="stable")
    cw = np.cumsum(wv[order])
    k = int(np.searchsorted(cw, capacity * cw[-1])) + 1 if len(cw) else 0
    top = order[:k]
    return float(np.average(yv[top], weights=wv[top])) if k else float("nan")


def calibration(y: Any, p: Any, w: Any = None, bins: int = 10) -> dict[str, list[float]]:
    """Mean predicted vs observed rate in probability bins."""
    yv, wv = _w(y, w)
    pv = np.asarray(p, np.float64)
    edges = np.linspace(0, 1, bins + 1)
    b = np.clip(np.digitize(pv, edges[1:-1]), 0, bins - 1)
    pred: list[float] = []
    obs: list[float] = []
    n: list[float] = []
    for i in range(bins):
        m = b == i
        if m.any():
            pred.append(float(np.average(pv[m], weights=wv[m])))
            obs.append(float(np.average(yv[m], weights=wv[m])))
            n.append(float(m.sum()))
    return {"predicted": pred, "observed": obs, "n": n}


def rate_ci(y: Any, w: Any = None, level: float = 0.95) -> dict[str, float]:
    """Weighted rate with a Wilson interval on the effective sample size (Kish)."""
    yv, wv = _w(y, w)
    if len(yv) == 0:
        return {"n": 0, "rate": float("nan"), "low": float("nan"), "high": float("nan")}
    rate = float(np.average(yv, weights=wv))
    n_eff = float(wv.sum() ** 2 / (wv**2).sum())
    z = float(stats.norm.ppf(0.5 + level / 2))
    denom = 1 + z * z / n_eff
    centre = (rate + z * z / (2 * n_eff)) / denom
    half = z * np.sqrt(rate * (1 - rate) / n_eff + z * z / (4 * n_eff * n_eff)) / denom
    return {
        "n": len(yv),
        "n_effective": round(n_eff, 1),
        "rate": rate,
        "low": float(max(0.0, centre - half)),
        "high": float(min(1.0, centre + half)),
    }


def psi(expected: Any, actual: Any, bins: Any = None) -> float:
    """Population stability index of two samples of a score (or of class labels)."""
    e = np.asarray(expected)
    a = np.asarray(actual)
    if e.dtype.kind in "OUS":
        cats = sorted(set(e.tolist()) | set(a.tolist()))
        pe = np.array([(e == c).mean() for c in cats])
        pa_ = np.array([(a == c).mean() for c in cats])
    else:
        edges = np.asarray(bins) if bins is not None else np.quantile(e, np.linspace(0, 1, 11))
        edges = np.unique(edges)
        pe = np.histogram(e, edges)[0] / max(len(e), 1)
        pa_ = np.histogram(a, edges)[0] / max(len(a), 1)
    pe = np.clip(pe, 1e-4, None)
    pa_ = np.clip(pa_, 1e-4, None)
    return float(np.sum((pa_ - pe) * np.log(pa_ / pe)))


def summary(y: Any, s: Any, p: Any, w: Any = None) -> dict[str, float]:
    """AUC, KS and Brier in one dict (the registry's metrics)."""
    return {"auc": auc(y, s, w), "ks": ks(y, s, w), "brier": brier(y, p, w)}
