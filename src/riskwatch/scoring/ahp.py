"""AHP (analytic hierarchy process) and entropy weights for the expert scorecard."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from riskwatch.errors import ConfigError

if TYPE_CHECKING:
    from riskwatch.scoring.config import ExpertParams, Pairwise

Float = npt.NDArray[np.float64]

# Saaty's random consistency index by matrix size.
RANDOM_INDEX = (0.0, 0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56)
MAX_CR = 0.1


def ahp_weights(matrix: Float | list[list[float]]) -> tuple[Float, float]:
    """Priority weights and consistency ratio of a pairwise comparison matrix.

    Parameters
    ----------
    matrix
        A positive reciprocal matrix (``a[i][j] = 1 / a[j][i]``).

    Returns
    -------
    weights, cr
        The principal eigenvector normalised to sum to 1, and Saaty's CR
        (``(λmax − n) / (n − 1) / RI``; 0 for n ≤ 2).

    Raises
    ------
    ValueError
        If the matrix is not square, positive and reciprocal.
    """
    a = np.asarray(matrix, dtype=np.float64)
    n = a.shape[0]
    if a.ndim != 2 or a.shape != (n, n) or n == 0:
        raise ValueError("an AHP matrix must be square")
    if (a <= 0).any():
        raise ValueError("an AHP matrix must be positive")
    if not np.allclose(a * a.T, 1.0, atol=1e-2):
        raise ValueError("an AHP matrix must be reciprocal (a[i][j] = 1 / a[j][i])")
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    if n <= 2:
        return w, 0.0
    ci = (float(values[k].real) - n) / (n - 1)
    ri = RANDOM_INDEX[n] if n < len(RANDOM_INDEX) else RANDOM_INDEX[-1]
    return w, max(ci / ri, 0.0)


def pairwise_weights(p: Pairwise, where: str) -> dict[str, float]:
    """Weights by item of one comparison set (:class:`ConfigError` if CR ≥ 0.1)."""
    items = p.items()
    matrix = p.pairwise()
    if len(matrix) != len(items) or any(len(r) != len(items) for r in matrix):
        raise ConfigError(f"{where}: the matrix must be {len(items)}×{len(items)} (as 'order')")
    try:
        w, cr = ahp_weights(matrix)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if cr >= MAX_CR:
        raise ConfigError(f"{where}: AHP consistency ratio {cr:.3f} ≥ {MAX_CR}; revise the matrix")
    return dict(zip(items, (float(x) for x in w), strict=True))


def check_expert(params: ExpertParams, origin: str = "models.yaml") -> None:
    """Check every AHP matrix of the expert configuration."""
    pairwise_weights(params.first_level, f"{origin}: expert.first_level")
    for dim, p in params.second_level.items():
        pairwise_weights(p, f"{origin}: expert.second_level.{dim}")
    missing = set(params.first_level.items()) - set(params.second_level)
    if missing:
        raise ConfigError(f"{origin}: expert.second_level lacks {sorted(missing)}")


def entropy_weights(risk: Float) -> Float:
    """Objective weights of columns by the entropy method.

    Parameters
    ----------
    risk
        Non-negative risk values, one column per indicator.

    Returns
    -------
    numpy.ndarray
        Weights summing to 1: columns whose values vary more across enterprises (lower
        entropy) weigh more; a constant column weighs nothing unless all are constant.
    """
    r = np.asarray(risk, dtype=np.float64)
    n, k = r.shape
    if k == 0:
        return np.zeros(0)
    totals = r.sum(axis=0)
    p = np.divide(r, totals, out=np.zeros_like(r), where=totals > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / np.log(max(n, 2))
    e = np.where(totals > 0, e, 1.0)
    d = np.clip(1.0 - e, 0.0, None)
    if d.sum() <= 0:
        return np.full(k, 1.0 / k)
    out: Float = d / d.sum()
    return out
