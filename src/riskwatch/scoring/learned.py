"""Learned models: monotone LightGBM and its interpretable sibling, a WOE logistic scorecard.

Both are fitted on spot-check outcomes with the indicators of the month end before each
inspection (see :mod:`riskwatch.scoring.labels`), weighted by inverse inclusion probability,
and calibrated by Platt scaling on the later (validation) inspections.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from riskwatch.indicators import Catalogue
from riskwatch.scoring.base import CATEGORICAL, Float, Platt, RiskModel, directions
from riskwatch.scoring.config import LightGBMParams, WoeParams

Validation = tuple[pd.DataFrame, Any, Any]
"""(X, y, sample_weight) of the later inspections."""


def _codes(values: Any, vocab: dict[str, int]) -> Float:
    """Category strings → integer codes as floats (unknown or missing → NaN)."""
    s = pd.Series(np.asarray(values, dtype=object))
    out: Float = np.asarray(s.map(vocab).to_numpy(np.float64, na_value=np.nan), np.float64)
    return out


class MonotoneGBM(RiskModel):
    """Gradient boosting (LightGBM) with monotone constraints from the catalogue directions.

    Parameters
    ----------
    params
        The ``lightgbm`` section of ``config/models.yaml``.
    catalogue
        The indicator catalogue (directions: higher/lower is riskier, neutral).
    features
        Feature columns (indicator ids and categorical key columns).
    threads
        LightGBM threads.
    """

    family = "lightgbm"

    def __init__(
        self, params: LightGBMParams, catalogue: Catalogue, features: list[str], threads: int = 1
    ) -> None:
        super().__init__()
        self.params = params
        self.catalogue = catalogue
        self.features = features
        self.threads = threads
        self.explainer_: WoeScorecard | None = None

    def _matrix(self, X: pd.DataFrame) -> Float:
        cols = []
        for n in self.feature_names_in_:
            if n in self.vocab_:
                cols.append(_codes(X[n], self.vocab_[n]))
            else:
                cols.append(X[n].to_numpy(np.float64))
        return np.column_stack(cols) if cols else np.zeros((len(X), 0))

    def fit(
        self,
        X: pd.DataFrame,
        y: Any,
        sample_weight: Any = None,
        validation: Validation | None = None,
    ) -> MonotoneGBM:
        """Fit with early stopping and Platt calibration on ``validation`` when given."""
        import lightgbm as lgb

        p = self.params
        self.feature_names_in_ = list(self.features)
        cats = [n for n in self.feature_names_in_ if n in p.categorical]
        self.vocab_ = {
            n: {v: i for i, v in enumerate(sorted(pd.Series(X[n]).dropna().astype(str).unique()))}
            for n in cats
        }
        mono = directions(self.catalogue, self.feature_names_in_)
        self.model_ = lgb.LGBMClassifier(
            n_estimators=p.n_estimators,
            learning_rate=p.learning_rate,
            num_leaves=p.num_leaves,
            min_child_samples=p.min_child_samples,
            subsample=p.subsample,
            subsample_freq=1,
            colsample_bytree=p.colsample_bytree,
            reg_lambda=p.reg_lambda,
            monotone_constraints=mono,
            monotone_constraints_method="advanced",
            n_jobs=self.threads,
            random_state=0,
            deterministic=True,
            verbose=-1,
        )
        cat_idx = [self.feature_names_in_.index(n) for n in cats]
        kwargs: dict[str, Any] = {"categorical_feature": cat_idx or "auto"}
        if validation is not None:
            xv, yv, wv = validation
            kwargs |= {
                "eval_X": (self._matrix(xv),),
                "eval_y": (np.asarray(yv),),
                "eval_sample_weight": None if wv is None else [np.asarray(wv)],
                "callbacks": [lgb.early_stopping(p.early_stopping_rounds, verbose=False)],
            }
        self.model_.fit(self._matrix(X), np.asarray(y), sample_weight=sample_weight, **kwargs)
        cal = validation or (X, y, sample_weight)
        self.platt_ = Platt().fit(self.raw(cal[0]), np.asarray(cal[1]), cal[2])
        return self

    def raw(self, X: pd.DataFrame) -> Float:
        """Log-odds of the boosted trees."""
        out: Float = np.asarray(self.model_.predict(self._matrix(X), raw_score=True), np.float64)
        return out

    def probability(self, X: pd.DataFrame) -> Float:
        """Calibrated P(problem)."""
        return self.platt_(self.raw(X))

    def contributions(self, X: pd.DataFrame) -> Float:
        """Reasons' contributions: the WOE sibling's points (``explainer_``) when attached.

        TreeSHAP costs about 2 ms per enterprise on one core (hours for millions), so the
        monthly run explains with the interpretable sibling fitted on the same labels;
        :meth:`tree_contributions` gives TreeSHAP for a handful of enterprises.
        """
        explainer = getattr(self, "explainer_", None)
        if explainer is None:
            return self.tree_contributions(X)
        theirs: Float = explainer.contributions(X)
        if list(explainer.feature_names_in_) == self.feature_names_in_:
            return theirs
        # the sibling left out features it could not bin: no contribution (never a reason)
        out: Float = np.full((len(X), len(self.feature_names_in_)), np.nan)
        where = {n: j for j, n in enumerate(self.feature_names_in_)}
        for k, name in enumerate(explainer.feature_names_in_):
            out[:, where[name]] = theirs[:, k]
        return out

    def tree_contributions(self, X: pd.DataFrame) -> Float:
        """TreeSHAP contributions in log-odds (LightGBM ``pred_contrib``)."""
        contrib = np.asarray(self.model_.predict(self._matrix(X), pred_contrib=True), np.float64)
        out: Float = contrib[:, :-1]
        return out


class WoeScorecard(RiskModel):
    """WOE-binned logistic scorecard (optbinning ``BinningProcess`` + logistic regression).

    Parameters
    ----------
    params
        The ``woe_scorecard`` section of ``config/models.yaml``.
    catalogue
        The indicator catalogue (directions set each binning's monotonic trend).
    features
        Feature columns.
    """

    family = "woe_scorecard"

    def __init__(self, params: WoeParams, catalogue: Catalogue, features: list[str]) -> None:
        super().__init__()
        self.params = params
        self.catalogue = catalogue
        self.features = features

    def fit(
        self,
        X: pd.DataFrame,
        y: Any,
        sample_weight: Any = None,
        validation: Validation | None = None,
    ) -> WoeScorecard:
        """Bin every feature (monotone where directional), then fit the logistic regression."""
        from optbinning import BinningProcess
        from sklearn.linear_model import LogisticRegression

        p = self.params
        # an indicator missing on every training row cannot be binned (e.g. the class C/D
        # shares before classes were published): left out, and listed
        self.feature_names_in_ = [
            n for n in self.features if n in CATEGORICAL or bool(X[n].notna().any())
        ]
        self.unused_features_ = [n for n in self.features if n not in self.feature_names_in_]
        cats = [n for n in self.feature_names_in_ if n in CATEGORICAL]
        trend = {1: "ascending", -1: "descending", 0: "auto"}
        dirs = directions(self.catalogue, self.feature_names_in_)
        fit_params = {
            n: {"monotonic_trend": trend[d]}
            for n, d in zip(self.feature_names_in_, dirs, strict=True)
            if n not in cats
        }
        self.binning_ = BinningProcess(
            variable_names=self.feature_names_in_,
            categorical_variables=cats,
            max_n_bins=p.max_n_bins,
            min_prebin_size=p.min_prebin_size,
            binning_fit_params=fit_params,
            selection_criteria=None,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.binning_.fit(X[self.feature_names_in_], np.asarray(y), sample_weight=sample_weight)
            woe = self._woe(X)
        self.woe_mean_ = woe.mean(axis=0)
        self.lr_ = LogisticRegression(C=p.C, max_iter=2000)
        self.lr_.fit(woe, np.asarray(y), sample_weight=sample_weight)
        cal = validation or (X, y, sample_weight)
        self.platt_ = Platt().fit(self.raw(cal[0]), np.asarray(cal[1]), cal[2])
        return self

    def _woe(self, X: pd.DataFrame) -> Float:
        """WOE of every feature: a lookup per bin (see :meth:`_lookups`), as optbinning
        computes it but without its per-call checks (a third of the scoring time)."""
        tables = self._lookups()
        out = np.empty((len(X), len(self.feature_names_in_)), np.float64)
        for j, name in enumerate(self.feature_names_in_):
            table = tables.get(name)
            if table is None:  # categorical: transform the batch's few distinct values
                codes, uniques = pd.factorize(X[name], use_na_sentinel=False)
                woe = self._optbinning_woe(name, pd.Series(uniques, dtype=object))
                out[:, j] = woe[codes]
                continue
            splits, values, missing = table
            x = X[name].to_numpy(np.float64)
            col = values[np.digitize(x, splits, right=False)]
            out[:, j] = np.where(np.isnan(x), missing, col)
        return out

    def _optbinning_woe(self, name: str, values: pd.Series) -> Float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out: Float = np.asarray(
                self.binning_.get_binned_variable(name).transform(values, metric="woe"),
                np.float64,
            )
        return out

    def _lookups(self) -> dict[str, tuple[Float, Float, float]]:
        """(splits, WOE per bin, WOE of a missing value) per numerical feature, read back
        from optbinning itself at one point inside each bin, so both always agree."""
        cached: dict[str, tuple[Float, Float, float]] | None = getattr(self, "_lookup_", None)
        if cached is not None:
            return cached
        tables: dict[str, tuple[Float, Float, float]] = {}
        for name in self.feature_names_in_:
            binned = self.binning_.get_binned_variable(name)
            if binned.dtype != "numerical" or binned.special_codes:
                continue
            splits = np.asarray(binned.splits, np.float64)
            edges = np.concatenate([[splits[0] - 1.0] if len(splits) else [0.0], splits])
            probes = np.concatenate([edges, [np.nan]])  # each split value opens its bin
            woe = self._optbinning_woe(name, pd.Series(probes))
            tables[name] = (splits, woe[:-1], float(woe[-1]))
        self._lookup_ = tables
        return tables

    def raw(self, X: pd.DataFrame) -> Float:
        """Log-odds of the logistic regression on WOE."""
        out: Float = self.lr_.decision_function(self._woe(X))
        return out

    def probability(self, X: pd.DataFrame) -> Float:
        """Calibrated P(problem)."""
        return self.platt_(self.raw(X))

    def contributions(self, X: pd.DataFrame) -> Float:
        """Log-odds per feature relative to the training average (scorecard points)."""
        out: Float = (self._woe(X) - self.woe_mean_) * self.lr_.coef_[0]
        return out
