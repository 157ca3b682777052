"""Scoring: expert scorecard (AHP + entropy), learned models (monotone LightGBM, WOE
scorecard), probability × loss; training on spot-check outcomes, reasons, the registry.

Public API::

    from riskwatch.scoring import load_models_config, train_all, score_batch, registry
"""

from __future__ import annotations

import logging

from riskwatch.scoring import registry
from riskwatch.scoring.base import RiskModel, feature_names, score_of, to_frame
from riskwatch.scoring.bayes import BayesLoss
from riskwatch.scoring.config import ModelsConfig, load_models_config
from riskwatch.scoring.expert import ExpertScorecard
from riskwatch.scoring.learned import MonotoneGBM, WoeScorecard
from riskwatch.scoring.pipeline import CLASS_SCHEMA, score_batch
from riskwatch.scoring.train import best, build, train_all

# optbinning loads ortools, which bundles its own HiGHS; cvxpy (pulled in by optbinning)
# then fails to link its optional HiGHS solver and logs an alarming import error on every
# run. Neither riskwatch nor optbinning uses that solver, so that message (only) is dropped
# (a filter, since cvxpy resets its logger's level when it is imported).
logging.getLogger("__cvxpy__").addFilter(
    lambda record: "exception importing solver" not in record.getMessage()
)

__all__ = [
    "CLASS_SCHEMA",
    "BayesLoss",
    "ExpertScorecard",
    "ModelsConfig",
    "MonotoneGBM",
    "RiskModel",
    "WoeScorecard",
    "best",
    "build",
    "feature_names",
    "load_models_config",
    "registry",
    "score_batch",
    "score_of",
    "to_frame",
    "train_all",
]
