"""Probability × loss (Chengdu's Bayes model).

P(violation) is an empirical-Bayes estimate: the city's problem rate, shrunk industry and
region rates (each pulled toward the city by ``group_strength`` pseudo-inspections) combined
on the log-odds scale as the enterprise's prior, then updated with its own spot checks of the
last three years (``prior_strength`` pseudo-inspections at the prior). The expected loss
(后果损失量) grows with the heaviest penalty in force, the fines and food/drug domains. The
score is ``1000 · P · loss / max_loss``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskwatch.scoring.base import Float, RiskModel, logit, score_of, sigmoid
from riskwatch.scoring.config import BayesParams

USES = (
    "inspection_problems_3y",
    "inspections_3y",
    "penalty_severity_in_force",
    "penalty_fines_3y",
    "penalties_food_drug_3y",
    "region_code",
    "industry_code",
)


class BayesLoss(RiskModel):
    """Empirical-Bayes violation probability times expected loss.

    Parameters
    ----------
    params
        The ``bayes_loss`` section of ``config/models.yaml``.
    """

    family = "bayes_loss"

    def __init__(self, params: BayesParams) -> None:
        super().__init__()
        self.params = params

    def fit(self, X: pd.DataFrame, y: Any, sample_weight: Any = None, **_: Any) -> BayesLoss:
        """Estimate the city, industry and region rates from the labels."""
        self.feature_names_in_ = list(USES)
        yv = np.asarray(y, dtype=np.float64)
        w = np.ones(len(yv)) if sample_weight is None else np.asarray(sample_weight, np.float64)
        # Inverse-probability weights estimate rates; as counts they are rescaled to the
        # number of labels so the shrinkage strength keeps its meaning.
        w = w * len(w) / max(w.sum(), 1e-12)
        self.base_rate_ = float(np.average(yv, weights=w)) if len(yv) else 0.3
        g = self.params.group_strength
        self.group_logit_: dict[str, dict[str, float]] = {}
        for col in ("region_code", "industry_code"):
            frame = pd.DataFrame({"k": X[col].astype(str).to_numpy(), "y": yv * w, "w": w})
            agg = frame.groupby("k", sort=True).sum()
            rate = (agg["y"] + g * self.base_rate_) / (agg["w"] + g)
            shift = logit(rate.to_numpy()) - logit_scalar(self.base_rate_)
            self.group_logit_[col] = {
                str(k): float(v) for k, v in zip(rate.index, shift, strict=True)
            }
        return self

    def _prior_logit(self, X: pd.DataFrame) -> Float:
        out = np.full(len(X), logit_scalar(self.base_rate_))
        for col, table in self.group_logit_.items():
            out = out + X[col].astype(str).map(table).fillna(0.0).to_numpy(np.float64)
        return out

    def probability(self, X: pd.DataFrame) -> Float:
        """Posterior P(violation)."""
        prior = sigmoid(self._prior_logit(X))
        m = self.params.prior_strength
        k = np.nan_to_num(X["inspection_problems_3y"].to_numpy(np.float64))
        n = np.nan_to_num(X["inspections_3y"].to_numpy(np.float64))
        out: Float = (k + m * prior) / (n + m)
        return out

    def loss(self, X: pd.DataFrame) -> Float:
        """Expected-loss multiplier, 1 (ordinary) to ``max_loss``."""
        sev = self.params.severity
        level = np.nan_to_num(X["penalty_severity_in_force"].to_numpy(np.float64))
        fines = np.nan_to_num(X["penalty_fines_3y"].to_numpy(np.float64))
        food = np.nan_to_num(X["penalties_food_drug_3y"].to_numpy(np.float64)) > 0
        out: Float = (
            1.0
            + sev.get("penalty_severity_in_force", 0.0) * level
            + sev.get("penalty_fines_3y_log", 0.0) * np.log1p(np.maximum(fines, 0))
            + sev.get("food_drug_domain", 0.0) * food
        )
        return np.minimum(out, self.params.max_loss)

    def raw(self, X: pd.DataFrame) -> Float:
        """P × loss."""
        return self.probability(X) * self.loss(X)

    def risk_score(self, X: pd.DataFrame) -> Any:
        """``1000 · P · loss / max_loss``."""
        return score_of(self.raw(X) / self.params.max_loss)

    def contributions(self, X: pd.DataFrame) -> Float:
        """Log-odds shifts by region, industry, own checks; loss log-multipliers."""
        region = X["region_code"].astype(str).map(self.group_logit_["region_code"]).fillna(0.0)
        industry = X["industry_code"].astype(str).map(self.group_logit_["industry_code"])
        own = logit(self.probability(X)) - self._prior_logit(X)
        loss = np.log(self.loss(X))
        zero = np.zeros(len(X))
        return np.column_stack(
            [
                own,
                zero,
                loss,
                zero,
                zero,
                region.to_numpy(np.float64),
                industry.fillna(0.0).to_numpy(np.float64),
            ]
        )


def logit_scalar(p: float) -> float:
    """Log-odds of one probability."""
    return float(logit(np.array([p]))[0])
