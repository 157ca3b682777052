"""What every model family shares: the feature frame, the estimator contract, scores.

Every family follows the scikit-learn contract (``fit(X, y, sample_weight)``,
``predict_proba``, fitted attributes ending in ``_``) and adds two methods:
``contributions(X)`` (per-feature contributions, positive = riskier, used for reasons) and
``risk_score(X)`` (integer 0–1000, higher = riskier).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from riskwatch.indicators import Catalogue

Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]

CATEGORICAL = ("region_code", "industry_code")
"""Snapshot key columns the models may use as categorical features."""

MONOTONE = {"higher_riskier": 1, "lower_riskier": -1, "neutral": 0}


def feature_names(catalogue: Catalogue, categorical: Sequence[str] = CATEGORICAL) -> list[str]:
    """Indicator columns of a snapshot (catalogue order) then the categorical ones."""
    return [i.id for i in catalogue.outputs()] + list(categorical)


def directions(catalogue: Catalogue, names: Sequence[str]) -> list[int]:
    """Monotone direction per feature: +1 riskier when higher, −1 when lower, 0 neutral."""
    out = []
    for n in names:
        try:
            out.append(MONOTONE[catalogue.get(n).direction])
        except KeyError:
            out.append(0)
    return out


def to_frame(table: pa.Table | pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """The model input: indicators as float64 (NaN where missing), categoricals as strings."""
    df = table if isinstance(table, pd.DataFrame) else None
    cols: dict[str, Any] = {}
    for n in names:
        if df is not None:
            col: Any = df[n] if n in df.columns else None
        else:
            col = (
                table.column(n).to_numpy(zero_copy_only=False)  # type: ignore[operator]
                if n in table.column_names
                else None
            )
        if col is None:
            raise KeyError(f"the snapshot has no column {n!r}")
        if n in CATEGORICAL:
            cols[n] = pd.Series(np.asarray(col, dtype=object)).astype("string").to_numpy(object)
        else:
            cols[n] = pd.to_numeric(pd.Series(np.asarray(col)), errors="coerce").to_numpy(
                np.float64, na_value=np.nan
            )
    return pd.DataFrame(cols)


def logit(p: Float) -> Float:
    """Log-odds, clipped away from 0 and 1."""
    q = np.clip(p, 1e-6, 1 - 1e-6)
    out: Float = np.log(q / (1 - q))
    return out


def sigmoid(x: Float) -> Float:
    """The logistic function."""
    out: Float = 1.0 / (1.0 + np.exp(-x))
    return out


class Platt:
    """Platt scaling ``P = σ(a·s + b)`` fitted by weighted logistic regression on a score."""

    def __init__(self) -> None:
        self.a_ = 1.0
        self.b_ = 0.0

    def fit(self, s: Float, y: Float, w: Float | None = None) -> Platt:
        """Fit on a raw score (log-odds or points) and binary labels."""
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6, max_iter=1000)
        lr.fit(np.asarray(s).reshape(-1, 1), y, sample_weight=w)
        self.a_ = float(lr.coef_[0, 0])
        self.b_ = float(lr.intercept_[0])
        return self

    def __call__(self, s: Float) -> Float:
        return sigmoid(self.a_ * np.asarray(s, dtype=np.float64) + self.b_)


def score_of(p: Float) -> Int:
    """Integer risk score 0–1000 from a probability (integers: every engine agrees at cut-offs)."""
    out: Int = np.clip(np.rint(np.asarray(p, dtype=np.float64) * 1000), 0, 1000).astype(np.int64)
    return out


class RiskModel:
    """Base of the model families (scikit-learn estimator contract)."""

    family: str = "base"

    def __init__(self) -> None:
        self.feature_names_in_: list[str] = []
        self.classes_ = np.array([0, 1])

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (scikit-learn contract)."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params: Any) -> RiskModel:
        """Set constructor parameters (scikit-learn contract)."""
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def _param_names(self) -> list[str]:
        import inspect

        sig = inspect.signature(type(self).__init__)
        return [p for p in sig.parameters if p != "self"]

    def fit(self, X: pd.DataFrame, y: Any, sample_weight: Any = None) -> RiskModel:
        raise NotImplementedError

    def raw(self, X: pd.DataFrame) -> Float:
        """The uncalibrated score (log-odds or points)."""
        raise NotImplementedError

    def probability(self, X: pd.DataFrame) -> Float:
        """Calibrated P(problem found at a spot check)."""
        raise NotImplementedError

    def predict_proba(self, X: pd.DataFrame) -> Float:
        """``[[1 − p, p], …]`` (scikit-learn contract)."""
        p = self.probability(X)
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> Int:
        """1 where P(problem) ≥ 0.5."""
        out: Int = (self.probability(X) >= 0.5).astype(np.int64)
        return out

    def risk_score(self, X: pd.DataFrame) -> Int:
        """Integer 0–1000, higher = riskier."""
        return score_of(self.probability(X))

    def contributions(self, X: pd.DataFrame) -> Float:
        """Per-feature contributions (n × features), positive = riskier than average."""
        raise NotImplementedError
