"""Random inspection plans (双随机、一公开): strata, ratios, seeded draws, inspectors, estimates.

Public API::

    from riskwatch.sampling import draw, assign, estimate, add_working_days, load_policy
"""

from __future__ import annotations

from riskwatch.sampling.assign import Assignment, Inspector, Target, assign, assignment_digest
from riskwatch.sampling.draw import Draw, Stratum, draw, list_digest, population_digest
from riskwatch.sampling.estimate import NOT_APPLICABLE, ClassRate, Estimate, estimate
from riskwatch.sampling.policy import (
    PlanSpec,
    Policy,
    Scope,
    load_policy,
    make_plan,
    parse_allocation,
    stratum_counts,
)
from riskwatch.sampling.workdays import Deadline, add_working_days, working_days_between

__all__ = [
    "NOT_APPLICABLE",
    "Assignment",
    "ClassRate",
    "Deadline",
    "Draw",
    "Estimate",
    "Inspector",
    "PlanSpec",
    "Policy",
    "Scope",
    "Stratum",
    "Target",
    "add_working_days",
    "assign",
    "assignment_digest",
    "draw",
    "estimate",
    "list_digest",
    "load_policy",
    "make_plan",
    "parse_allocation",
    "population_digest",
    "stratum_counts",
    "working_days_between",
]
