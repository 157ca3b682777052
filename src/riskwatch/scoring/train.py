"""Train every configured family on a labelled set with a temporal split; pick the champion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskwatch import __version__
from riskwatch.errors import InputError
from riskwatch.evaluation.metrics import summary
from riskwatch.indicators import Catalogue
from riskwatch.scoring.base import RiskModel, feature_names, to_frame
from riskwatch.scoring.bayes import BayesLoss
from riskwatch.scoring.config import Family, ModelsConfig
from riskwatch.scoring.expert import ExpertScorecard
from riskwatch.scoring.labels import LabelledSet, temporal_split
from riskwatch.scoring.learned import MonotoneGBM, WoeScorecard
from riskwatch.scoring.registry import ModelMeta, make_version

Note = Callable[[str, int, int], None]


@dataclass
class Trained:
    """A fitted model with its registry metadata."""

    model: RiskModel
    meta: ModelMeta


def build(family: Family, cfg: ModelsConfig, catalogue: Catalogue) -> RiskModel:
    """An unfitted model of a family."""
    names = feature_names(catalogue)
    threads = cfg.training.threads
    if family == "lightgbm":
        return MonotoneGBM(cfg.lightgbm, catalogue, names, threads)
    if family == "woe_scorecard":
        return WoeScorecard(cfg.woe_scorecard, catalogue, names)
    if family == "bayes_loss":
        return BayesLoss(cfg.bayes_loss)
    return ExpertScorecard(cfg.expert, catalogue)


def train_all(
    data: LabelledSet,
    as_of: dt.date,
    cfg: ModelsConfig,
    catalogue: Catalogue,
    note: Note | None = None,
) -> list[Trained]:
    """Fit each family on the earlier labels; measure on the later ones (temporal only).

    Returns
    -------
    list[Trained]
        One per family, in configuration order, with validation metrics.
    """
    note = note or (lambda s, d, t: None)
    frame = data.frame
    val = temporal_split(data, as_of, cfg.training.validation_months)
    if val.all() or not val.any():
        raise InputError(
            "the labels do not span both a training and a validation window; "
            "lower training.validation_months or add history"
        )
    names = feature_names(catalogue)
    X = to_frame(frame, names)
    y = frame["y"].to_numpy(np.int64)
    w = frame["weight"].to_numpy(np.float64)
    tr = ~val
    days = pd.to_datetime(frame["inspected_on"])
    blob = "|".join(
        [cfg.fingerprint(), catalogue.fingerprint(), str(len(frame)), str(days.max()), __version__]
    )
    out = []
    families = cfg.training.families
    for i, family in enumerate(families):
        note(f"train {family}", i, len(families))
        model = build(family, cfg, catalogue)
        xt, xv = X[tr].reset_index(drop=True), X[val].reset_index(drop=True)
        if isinstance(model, MonotoneGBM | WoeScorecard):
            model.fit(xt, y[tr], w[tr], validation=(xv, y[val], w[val]))
        else:
            model.fit(xt, y[tr], w[tr])
        metrics = summary(y[val], model.risk_score(xv), model.probability(xv), w[val])
        metrics = {k: round(float(v), 4) for k, v in metrics.items()}
        meta = ModelMeta(
            version=make_version(family, as_of, blob),
            family=family,
            config_hash=cfg.fingerprint(),
            catalogue_fingerprint=catalogue.fingerprint(),
            as_of=as_of.isoformat(),
            train_from=str(days[tr].min().date()),
            train_to=str(days[tr].max().date()),
            validation_from=str(days[val].min().date()),
            labels=len(frame),
            metrics={**metrics, "validation_labels": int(val.sum())},
            code_version=__version__,
        )
        out.append(Trained(model, meta))
    gbm = [t.model for t in out if isinstance(t.model, MonotoneGBM)]
    woe = [t.model for t in out if isinstance(t.model, WoeScorecard)]
    if gbm:
        if not woe:
            note("train explainer", len(families), len(families) + 1)
            sibling = WoeScorecard(cfg.woe_scorecard, catalogue, names)
            woe = [sibling.fit(X[tr].reset_index(drop=True), y[tr], w[tr])]
        gbm[0].explainer_ = woe[0]
    note("train", len(families), len(families))
    return out


def best(trained: list[Trained], select_by: str) -> Trained:
    """The champion by a validation metric (lower is better for Brier)."""
    sign = -1.0 if select_by == "brier" else 1.0

    def key(t: Trained) -> float:
        v = t.meta.metrics.get(select_by, float("nan"))
        return sign * v if np.isfinite(v) else -np.inf

    return max(trained, key=key)
