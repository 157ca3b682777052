"""Expert scorecard: AHP weights for dimensions and groups, entropy weights blended in.

Each directional indicator becomes a risk value in [0, 1] (its value over a cap, the
``cap_quantile`` of its positive values; reversed for lower-is-riskier indicators). A group's
risk is the weighted mean of its indicators (equal weights blended with entropy weights);
the points are ``1000 · Σ_dim w_dim Σ_group w_group · group risk`` — a 0–1000 score as in
Henan. With labels, a Platt scaling turns points into P(problem).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskwatch.indicators import Catalogue
from riskwatch.scoring.ahp import entropy_weights, pairwise_weights
from riskwatch.scoring.base import Float, Platt, RiskModel
from riskwatch.scoring.config import ExpertParams


class ExpertScorecard(RiskModel):
    """AHP + entropy expert scorecard.

    Parameters
    ----------
    params
        The ``expert`` section of ``config/models.yaml``.
    catalogue
        The indicator catalogue (dimensions, groups, directions).
    """

    family = "expert"

    def __init__(self, params: ExpertParams, catalogue: Catalogue) -> None:
        super().__init__()
        self.params = params
        self.catalogue = catalogue

    def fit(self, X: pd.DataFrame, y: Any = None, sample_weight: Any = None) -> ExpertScorecard:
        """Fix caps and entropy weights from ``X``; calibrate on ``y`` when given."""
        p = self.params
        dims = pairwise_weights(p.first_level, "expert.first_level")
        self.indicators_: list[str] = []
        self.sign_: list[int] = []
        group_of: list[tuple[str, str]] = []
        for d in self.catalogue.dimensions:
            for g in d.groups:
                for ind in g.indicators:
                    if ind.enabled and ind.output and ind.direction != "neutral" and ind.id in X:
                        self.indicators_.append(ind.id)
                        self.sign_.append(1 if ind.direction == "higher_riskier" else -1)
                        group_of.append((d.id, g.id))
        self.feature_names_in_ = list(self.indicators_)
        values = X[self.indicators_].to_numpy(np.float64)
        caps = []
        for j in range(values.shape[1]):
            col = values[:, j]
            pos = col[np.isfinite(col) & (col > 0)]
            caps.append(float(np.quantile(pos, p.cap_quantile)) if len(pos) else 1.0)
        self.cap_ = np.maximum(np.array(caps), 1e-9)
        risk = self._risk(values)
        weights = np.zeros(len(self.indicators_))
        for dim_id, w_dim in dims.items():
            groups = pairwise_weights(p.second_level[dim_id], f"expert.second_level.{dim_id}")
            for g_id, w_group in groups.items():
                idx = [j for j, key in enumerate(group_of) if key == (dim_id, g_id)]
                if not idx:
                    continue
                equal = np.full(len(idx), 1.0 / len(idx))
                ent = entropy_weights(risk[:, idx])
                inner = (1 - p.entropy_blend) * equal + p.entropy_blend * ent
                weights[idx] = w_dim * w_group * inner
        self.weights_ = weights / weights.sum() if weights.sum() > 0 else weights
        self.mean_points_ = 1000.0 * (risk * self.weights_).mean(axis=0)
        self.platt_: Platt | None = None
        if y is not None:
            self.platt_ = Platt().fit(self.raw(X), np.asarray(y), sample_weight)
        return self

    def _risk(self, values: Float) -> Float:
        v = np.nan_to_num(values, nan=0.0)
        ratio = np.clip(v / self.cap_, 0.0, 1.0)
        sign = np.asarray(self.sign_)
        # Lower-is-riskier indicators (days since, age) are risky when small; missing = none.
        low = np.where(np.isfinite(values), 1.0 - ratio, 0.0)
        out: Float = np.where(sign > 0, ratio, low)
        return out

    def raw(self, X: pd.DataFrame) -> Float:
        """Points 0–1000."""
        out: Float = 1000.0 * (self._risk(X[self.indicators_].to_numpy(np.float64)) @ self.weights_)
        return out

    def probability(self, X: pd.DataFrame) -> Float:
        """P(problem) by Platt scaling of the points (points / 1000 when fitted without labels)."""
        raw = self.raw(X)
        return self.platt_(raw) if self.platt_ is not None else raw / 1000.0

    def contributions(self, X: pd.DataFrame) -> Float:
        """Points per indicator above the population's average."""
        pts = 1000.0 * self._risk(X[self.indicators_].to_numpy(np.float64)) * self.weights_
        out: Float = pts - self.mean_points_
        return out
