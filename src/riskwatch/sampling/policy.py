"""Sampling policy and plan specifications (抽查任务), validated before any draw.

A :class:`Policy` comes from ``config/sampling.yaml`` (house defaults); a :class:`PlanSpec`
is one plan: its scope, its inspection items, its period and its allocation — per-class
ratios or per-class counts. :func:`stratum_counts` turns an allocation and the stratum
sizes into the number drawn per class.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from riskwatch.domain import RiskClass
from riskwatch.errors import ConfigError, InputError

CLASSES: tuple[str, ...] = tuple(c.value for c in RiskClass)
CONFIG_PATH = Path(__file__).resolve().parents[3] / "config" / "sampling.yaml"
DEFAULT_RATIOS: dict[str, float] = {"A": 0.01, "B": 0.03, "C": 0.10, "D": 0.30}


def _check_ratios(ratios: Mapping[str, float]) -> dict[str, float]:
    unknown = sorted(set(ratios) - set(CLASSES))
    if unknown:
        raise ValueError(f"unknown class(es) {', '.join(unknown)}; classes are A, B, C, D")
    for cls, r in ratios.items():
        if not 0.0 <= r <= 1.0:
            raise ValueError(f"ratio of class {cls} must lie in [0, 1], not {r}")
    if "A" in ratios and ratios["A"] <= 0.0:
        raise ValueError("class A may never be exempt (不免抽): give it a ratio above 0")
    return dict(ratios)


class Policy(BaseModel):
    """House defaults for plans (``config/sampling.yaml``)."""

    config_version: str = "sampling-1"
    ratios: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_RATIOS))
    exclude_drawn_this_year: bool = True
    inspectors_per_enterprise: int = Field(default=2, ge=2, le=10)
    inspector_region_digits: int = Field(default=6)
    inspector_wider_digits: int | None = Field(default=4)
    publication_working_days: int = Field(default=20, ge=1, le=60)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    licence_domains: dict[str, str] = Field(default_factory=dict)

    @field_validator("ratios")
    @classmethod
    def _ratios(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_ratios(v)

    @field_validator("inspector_region_digits", "inspector_wider_digits")
    @classmethod
    def _digits(cls, v: int | None) -> int | None:
        if v is not None and v not in (2, 4, 6):
            raise ValueError("inspector_region_digits must be 2, 4 or 6")
        return v


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate the sampling policy YAML (default ``config/sampling.yaml``).

    Parameters
    ----------
    path
        A YAML file; ``None`` reads the versioned default, or built-in defaults when the
        package is installed without the config folder.
    """
    target = path or CONFIG_PATH
    if not target.exists():
        if path is not None:
            raise ConfigError(f"{path}: no such sampling policy file")
        return Policy()
    try:
        data = yaml.safe_load(target.read_text("utf-8")) or {}
        return Policy.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{target}: invalid sampling policy: {exc}") from None


class Scope(BaseModel):
    """Which enterprises a plan covers; an empty list means no restriction.

    Regions and industries match by prefix (``4101`` covers every district of the city,
    ``F52`` every retail class); domains and entity types match exactly.
    """

    regions: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    entity_types: list[str] = Field(default_factory=list)


class PlanSpec(BaseModel):
    """One random-inspection plan (抽查任务).

    Exactly one of ``ratios`` and ``counts`` allocates the draw. A joint plan names several
    departments: it draws once and every department shares the list.
    """

    name: str = Field(min_length=1, max_length=200)
    as_of: dt.date
    seed: str = Field(min_length=1, max_length=500)
    seed_source: str = ""
    departments: list[str] = Field(default_factory=list)
    scope: Scope = Field(default_factory=Scope)
    items: list[str] = Field(default_factory=list)
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    ratios: dict[str, float] | None = None
    counts: dict[str, int] | None = None
    exclude_drawn_this_year: bool = True

    @field_validator("ratios")
    @classmethod
    def _ratios(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        return None if v is None else _check_ratios(v)

    @field_validator("counts")
    @classmethod
    def _counts(cls, v: dict[str, int] | None) -> dict[str, int] | None:
        if v is None:
            return None
        unknown = sorted(set(v) - set(CLASSES))
        if unknown:
            raise ValueError(f"unknown class(es) {', '.join(unknown)}; classes are A, B, C, D")
        if any(n < 0 for n in v.values()):
            raise ValueError("counts cannot be negative")
        if v.get("A", 1) == 0:
            raise ValueError("class A may never be exempt (不免抽): give it a count above 0")
        return v

    @model_validator(mode="after")
    def _allocation(self) -> PlanSpec:
        if self.ratios is not None and self.counts is not None:
            raise ValueError("give per-class ratios or per-class counts, not both")
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError("the period ends before it starts")
        return self


def make_plan(**fields: Any) -> PlanSpec:
    """Build a :class:`PlanSpec`, turning validation errors into an :class:`InputError`."""
    try:
        return PlanSpec.model_validate(fields)
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise InputError(f"invalid plan: {reasons}") from None


def parse_allocation(text: str, *, integer: bool) -> dict[str, Any]:
    """Parse ``A=0.01,B=0.03`` (ratios) or ``A=5,B=20`` (counts); ``%`` is accepted."""
    out: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        cls, sep, value = part.partition("=")
        cls = cls.strip().upper()
        if not sep or cls not in CLASSES:
            raise InputError(f"{part!r}: write CLASS=VALUE, e.g. A=0.01,B=0.03,C=0.1,D=0.3")
        try:
            if integer:
                out[cls] = int(value)
            elif value.strip().endswith("%"):
                out[cls] = float(value.strip()[:-1]) / 100
            else:
                out[cls] = float(value)
        except ValueError:
            raise InputError(f"{part!r}: {value!r} is not a number") from None
    return out


def round_half_up(ratio: float, size: int) -> int:
    """``round(ratio × size)`` with halves rounded up, computed in decimal arithmetic.

    Decimal arithmetic on the ratio as written (``0.01``) keeps ``0.01 × 250`` exactly
    2.5 → 3, where binary floating point could land on either side of the half.
    """
    try:
        exact = Decimal(repr(float(ratio))) * size
    except InvalidOperation:  # pragma: no cover - float repr is always a valid decimal
        raise InputError(f"ratio {ratio!r} is not a number") from None
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def stratum_counts(
    sizes: Mapping[str, int],
    *,
    ratios: Mapping[str, float] | None = None,
    counts: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """How many enterprises to draw from each class stratum.

    Parameters
    ----------
    sizes
        Stratum sizes N_h by class.
    ratios
        Per-class ratios: k_h = round_half_up(ratio_h × N_h); a class without a ratio
        gets none drawn, except A (不免抽).
    counts
        Per-class counts: k_h = min(count_h, N_h).

    Returns
    -------
    dict
        k_h by class, for every class in ``sizes``. Class A gets at least one whenever
        its stratum is non-empty.
    """
    out: dict[str, int] = {}
    for cls, n in sizes.items():
        if counts is not None:
            k = min(int(counts.get(cls, 0)), n)
        else:
            ratio = (ratios or DEFAULT_RATIOS).get(cls, 0.0)
            k = min(round_half_up(ratio, n), n)
        if cls == "A" and n > 0:
            k = max(k, 1)
        out[cls] = k
    return out
