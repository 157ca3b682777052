"""Per-plan discovery rates and the design-weighted (Horvitz–Thompson) problem rate.

A drawn enterprise whose result says the check did not apply (deregistered, closed, no
such business) is not a response: it is left out of both numerator and denominator,
as the training labels do. Within a class stratum h of size N_h with r_h responses, each
response carries the response-adjusted inclusion probability π_h = r_h / N_h (the stored
k_h / N_h when everyone drawn was inspected), so

    Ŷ = Σ_i y_i / π_i          (estimated number of enterprises with a problem)
    p̂ = Ŷ / N                  with N = Σ_h N_h over strata with a response
    V(p̂) = Σ_h (N_h / N)² (1 − r_h / N_h) s_h² / r_h,   s_h² = r_h p_h (1 − p_h) / (r_h − 1)

and the interval is p̂ ± z·√V, clipped to [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy.stats import norm

from riskwatch.domain import is_problem_result
from riskwatch.sampling.policy import CLASSES

NOT_APPLICABLE: tuple[str, ...] = (
    "未发现开展本次抽查涉及的经营活动",
    "已关闭停业或正在组织清算",
    "企业已注销",
)
"""Results that say the check did not apply: not a response."""


@dataclass(frozen=True)
class ClassRate:
    """Discovery in one class stratum."""

    cls: str
    population: int
    drawn: int
    inspected: int
    responses: int
    problems: int

    @property
    def discovery_rate(self) -> float | None:
        return self.problems / self.responses if self.responses else None


@dataclass(frozen=True)
class Estimate:
    """The Horvitz–Thompson estimate of the problem rate in the whole population."""

    rate: float | None
    low: float | None
    high: float | None
    total: float | None
    population: int
    covered_population: int
    confidence: float
    by_class: tuple[ClassRate, ...]


def estimate(
    results: Sequence[tuple[str, str | None]],
    strata: Mapping[str, tuple[int, int]],
    *,
    confidence: float = 0.95,
) -> Estimate:
    """Discovery rates per class and the design-weighted population problem rate.

    Parameters
    ----------
    results
        One ``(class, result)`` per drawn enterprise; result ``None`` when not inspected yet.
    strata
        ``(N_h, k_h)`` per class as recorded with the draw.
    confidence
        Level of the normal-approximation interval.

    Returns
    -------
    Estimate
        ``rate`` is ``None`` until some stratum has a response; strata without a response
        are left out of ``covered_population``.
    """
    per: dict[str, list[str | None]] = {c: [] for c in CLASSES}
    for cls, result in results:
        per.setdefault(cls, []).append(result)
    rates: list[ClassRate] = []
    total = 0.0
    covered = 0
    var_num = 0.0
    for cls in CLASSES:
        size, drawn = strata.get(cls, (0, 0))
        got = [r for r in per.get(cls, []) if r is not None]
        valid = [r for r in got if r not in NOT_APPLICABLE]
        problems = sum(1 for r in valid if is_problem_result(r))
        rates.append(ClassRate(cls, size, drawn, len(got), len(valid), problems))
        r_h = len(valid)
        if not r_h or not size:
            continue
        pi = r_h / size
        total += problems / pi
        covered += size
        p_h = problems / r_h
        s2 = r_h * p_h * (1 - p_h) / (r_h - 1) if r_h > 1 else 0.0
        var_num += size**2 * (1 - r_h / size) * s2 / r_h
    population = sum(n for n, _ in strata.values())
    if not covered:
        return Estimate(None, None, None, None, population, 0, confidence, tuple(rates))
    # A proportion: summing y/π can overshoot 1 (or 0) by a rounding error.
    rate = min(1.0, max(0.0, total / covered))
    half = float(norm.ppf(0.5 + confidence / 2)) * math.sqrt(var_num) / covered
    return Estimate(
        rate=rate,
        low=max(0.0, rate - half),
        high=min(1.0, rate + half),
        total=total,
        population=population,
        covered_population=covered,
        confidence=confidence,
        by_class=tuple(rates),
    )
