"""``config/models.yaml`` as validated data (no code is evaluated from it)."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from riskwatch.errors import ConfigError

DEFAULT_MODELS = Path(__file__).resolve().parents[3] / "config" / "models.yaml"
"""The model configuration shipped with riskwatch."""

Family = Literal["lightgbm", "woe_scorecard", "bayes_loss", "expert"]
FAMILIES: tuple[Family, ...] = ("lightgbm", "woe_scorecard", "bayes_loss", "expert")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _number(v: object) -> float:
    """A Saaty judgement: a number or a fraction written ``1/3``."""
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(Fraction(str(v).strip()))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{v!r} is not a number or a fraction like 1/3") from None


class Training(_Strict):
    """Labels, temporal split, weights and champion selection."""

    history_months: int = Field(default=24, ge=3, le=120)
    validation_months: int = Field(default=6, ge=1)
    exclude_results: tuple[str, ...] = ()
    unknown_inclusion_probability: float | None = Field(default=0.03, gt=0, le=1)
    families: tuple[Family, ...] = FAMILIES
    select_by: Literal["auc", "ks", "brier"] = "auc"
    threads: int = Field(default=1, ge=1)


class LightGBMParams(_Strict):
    """Monotone gradient boosting (LightGBM)."""

    n_estimators: int = Field(default=600, ge=1)
    learning_rate: float = Field(default=0.03, gt=0)
    num_leaves: int = Field(default=15, ge=2)
    min_child_samples: int = Field(default=50, ge=1)
    subsample: float = Field(default=0.8, gt=0, le=1)
    colsample_bytree: float = Field(default=0.8, gt=0, le=1)
    reg_lambda: float = Field(default=1.0, ge=0)
    early_stopping_rounds: int = Field(default=50, ge=1)
    categorical: tuple[str, ...] = ("region_code", "industry_code")


class WoeParams(_Strict):
    """WOE-binned logistic scorecard (optbinning)."""

    max_n_bins: int = Field(default=6, ge=2)
    min_prebin_size: float = Field(default=0.02, gt=0, lt=0.5)
    C: float = Field(default=1.0, gt=0)


class BayesParams(_Strict):
    """Probability × loss (empirical Bayes)."""

    prior_strength: float = Field(default=30.0, gt=0)
    group_strength: float = Field(default=200.0, gt=0)
    severity: dict[str, float] = Field(default_factory=dict)
    max_loss: float = Field(default=3.0, ge=1)


class Pairwise(_Strict):
    """One AHP comparison set: an explicit matrix, or importances giving a consistent one."""

    order: tuple[str, ...] = ()
    matrix: tuple[tuple[float, ...], ...] = ()
    importance: dict[str, float] = Field(default_factory=dict)

    @field_validator("matrix", mode="before")
    @classmethod
    def _fractions(cls, v: object) -> object:
        if isinstance(v, list | tuple):
            return tuple(tuple(_number(x) for x in row) for row in v)
        return v

    def items(self) -> tuple[str, ...]:
        """The compared items in matrix order."""
        return self.order if self.matrix else tuple(self.importance)

    def pairwise(self) -> list[list[float]]:
        """The full reciprocal matrix."""
        if self.matrix:
            return [list(r) for r in self.matrix]
        vals = list(self.importance.values())
        return [[a / b for b in vals] for a in vals]


class ExpertParams(_Strict):
    """Expert scorecard: AHP weights blended with entropy weights."""

    entropy_blend: float = Field(default=0.3, ge=0, le=1)
    cap_quantile: float = Field(default=0.99, gt=0.5, le=1)
    first_level: Pairwise
    second_level: dict[str, Pairwise]


class ModelsConfig(_Strict):
    """The whole ``config/models.yaml``."""

    config_version: str = Field(min_length=1)
    training: Training = Training()
    lightgbm: LightGBMParams = LightGBMParams()
    woe_scorecard: WoeParams = WoeParams()
    bayes_loss: BayesParams = BayesParams()
    expert: ExpertParams

    def fingerprint(self) -> str:
        """A stable hash of the configuration (stored with every model)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_models_config(path: Path | None = None) -> ModelsConfig:
    """Read and validate ``config/models.yaml``.

    Parameters
    ----------
    path
        The YAML file; ``None`` reads the shipped one.

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML or breaks a rule (AHP consistency included).
    """
    from riskwatch.scoring.ahp import check_expert

    path = path or DEFAULT_MODELS
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        cfg = ModelsConfig.model_validate(data)
    except FileNotFoundError:
        raise ConfigError(f"{path}: model configuration not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]
        )
        raise ConfigError(f"{path}: invalid model configuration: {problems}") from None
    check_expert(cfg.expert, origin=str(path))
    return cfg
