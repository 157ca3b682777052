"""Score → class A/B/C/D: cut-off policy, override rules, hysteresis (pure functions).

Policy lives in ``config/classes.yaml``. Scores are integers 0–1000 (higher = riskier) so
every engine puts a tie at a cut-off in the same class.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from riskwatch.errors import ConfigError

DEFAULT_CLASSES = Path(__file__).resolve().parents[2] / "config" / "classes.yaml"
CLASSES = ("A", "B", "C", "D")
Int = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]

_OPS = {
    "ge": np.greater_equal,
    "gt": np.greater,
    "eq": np.equal,
    "le": np.less_equal,
    "lt": np.less,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Override(_Strict):
    """A hard rule: when ``indicator op value`` holds, the class is at least ``class``."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    indicator: str
    op: Literal["ge", "gt", "eq", "le", "lt"]
    value: float
    class_: Literal["A", "B", "C", "D"] = Field(alias="class")
    reason_zh: str
    reason_en: str


class Hysteresis(_Strict):
    """Damping of class flips near a boundary."""

    margin: int = Field(default=0, ge=0, le=200)


class ClassPolicy(_Strict):
    """The whole ``config/classes.yaml``."""

    config_version: str = Field(min_length=1)
    policy: Literal["bands", "shares"] = "bands"
    bands: dict[str, int] = Field(default_factory=lambda: {"B": 200, "C": 500, "D": 750})
    shares: dict[str, float] = Field(
        default_factory=lambda: {"A": 0.5, "B": 0.35, "C": 0.1, "D": 0.05}
    )
    overrides: tuple[Override, ...] = ()
    hysteresis: Hysteresis = Hysteresis()

    @model_validator(mode="after")
    def _check(self) -> ClassPolicy:
        b = [self.bands.get(k, -1) for k in ("B", "C", "D")]
        if not (0 < b[0] < b[1] < b[2] <= 1000):
            raise ValueError("bands must satisfy 0 < B < C < D ≤ 1000")
        if set(self.bands) != {"B", "C", "D"}:
            raise ValueError("bands must give B, C and D")
        if set(self.shares) != set(CLASSES) or abs(sum(self.shares.values()) - 1) > 1e-6:
            raise ValueError("shares must give A, B, C and D and sum to 1")
        return self

    def fingerprint(self) -> str:
        """Stable JSON of the policy (part of a run id)."""
        return json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)


def load_policy(path: Path | None = None) -> ClassPolicy:
    """Read and validate ``config/classes.yaml`` (:class:`ConfigError` if invalid)."""
    path = path or DEFAULT_CLASSES
    try:
        return ClassPolicy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(f"{path}: class policy not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]
        )
        raise ConfigError(f"{path}: invalid class policy: {problems}") from None


def cutoffs(policy: ClassPolicy, scores: Int | None = None) -> tuple[int, int, int]:
    """Lowest score of B, C and D under the policy (shares need the month's scores)."""
    if policy.policy == "bands":
        return policy.bands["B"], policy.bands["C"], policy.bands["D"]
    if scores is None or len(scores) == 0:
        raise ValueError("a share policy needs the scores")
    acc = np.cumsum([policy.shares[k] for k in CLASSES])[:3]
    q = np.quantile(np.asarray(scores), acc, method="higher")
    lo = [int(x) + 1 for x in q]
    lo[1] = max(lo[1], lo[0])
    lo[2] = max(lo[2], lo[1])
    return lo[0], lo[1], lo[2]


def class_index(scores: Int, cuts: tuple[int, int, int]) -> Int:
    """0 (A) … 3 (D) by integer score: a score equal to a cut-off is in the higher class."""
    out: Int = np.searchsorted(np.asarray(cuts), np.asarray(scores), side="right").astype(np.int64)
    return out


def apply_hysteresis(
    idx: Int, scores: Int, previous: Int, cuts: tuple[int, int, int], margin: int
) -> Int:
    """Keep last month's class (``previous``, −1 = none) for a one-step move within ``margin``."""
    if margin <= 0:
        return idx
    c = np.asarray(cuts)
    prev = np.asarray(previous)
    up = (prev >= 0) & (idx == prev + 1) & (scores < c[np.clip(prev, 0, 2)] + margin)
    down_cut = c[np.clip(prev - 1, 0, 2)]
    down = (prev >= 1) & (idx == prev - 1) & (scores >= down_cut - margin)
    out: Int = np.where(up | down, prev, idx)
    return out


def apply_overrides(
    idx: Int, values: Mapping[str, npt.NDArray[np.float64]], rules: tuple[Override, ...]
) -> tuple[Int, Obj]:
    """Raise classes by rule; return the classes and each row's fired rule names."""
    names = np.empty(len(idx), dtype=object)
    names.fill(())  # one shared empty tuple; the few rows a rule fires on get their own
    out = np.asarray(idx).copy()
    for rule in rules:
        col = values.get(rule.indicator)
        if col is None:
            continue
        hit = _OPS[rule.op](np.nan_to_num(np.asarray(col, np.float64), nan=-np.inf), rule.value)
        target = CLASSES.index(rule.class_)
        out = np.where(hit, np.maximum(out, target), out)
        for i in np.flatnonzero(hit):
            names[i] = (*names[i], rule.name)
    return out, names


def classify(
    scores: Int,
    values: Mapping[str, npt.NDArray[np.float64]],
    policy: ClassPolicy,
    previous: Int | None = None,
    cuts: tuple[int, int, int] | None = None,
) -> tuple[Obj, Obj]:
    """Classes (``"A"``…``"D"``) and fired override names per enterprise.

    Parameters
    ----------
    scores
        Integer scores 0–1000.
    values
        Indicator columns the override rules read.
    policy
        The class policy.
    previous
        Last month's class index per row (−1 = none) for hysteresis.
    cuts
        Fixed cut-offs (else from the policy; share policies compute them from ``scores``).
    """
    s = np.asarray(scores, dtype=np.int64)
    cuts = cuts or cutoffs(policy, s)
    idx = class_index(s, cuts)
    if previous is not None:
        idx = apply_hysteresis(idx, s, previous, cuts, policy.hysteresis.margin)
    idx, fired = apply_overrides(idx, values, policy.overrides)
    labels = np.asarray(CLASSES, dtype=object)[idx]
    return labels, fired
