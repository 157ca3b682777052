"""The alert rules (``config/alert_rules.yaml``): a validated, versioned configuration."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from riskwatch.errors import ConfigError

REQUIRED_RULES: tuple[str, ...] = (
    "address_cluster",
    "person_cluster",
    "complaint_surge",
    "frequent_changes",
    "abnormal_registration",
    "annual_report_missing",
    "penalty_publicity_ending",
    "licence_expired_operating",
    "class_deterioration",
    "negative_opinion",
    "related_party_risk",
    "judicial_dishonest",
)

DEFAULT_PATH = Path(__file__).resolve().parents[3] / "config" / "alert_rules.yaml"

Param = int | float | str | list[str]


class Rule(BaseModel):
    """One rule: identity, detector, parameters, severity, routing, suppression."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    detector: str
    params: dict[str, Param] = Field(default_factory=dict)
    severity: Literal["low", "medium", "high"]
    domain: str
    suppression_days: int = Field(ge=0, le=3650)
    enabled: bool = True


class RuleSet(BaseModel):
    """The whole rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config_version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    deadlines_working_days: dict[str, int]
    departments: dict[str, str]
    rules: list[Rule]

    @model_validator(mode="after")
    def _check(self) -> RuleSet:
        from riskwatch.alerts.detectors import DETECTORS  # the lookup table of operators

        ids = [r.id for r in self.rules]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate rule ids: {', '.join(dup)}")
        missing = [r for r in REQUIRED_RULES if r not in ids]
        if missing:
            raise ValueError(f"required rules missing: {', '.join(missing)}")
        if set(self.deadlines_working_days) != {"low", "medium", "high"}:
            raise ValueError("deadlines_working_days needs low, medium and high")
        for r in self.rules:
            det = DETECTORS.get(r.detector)
            if det is None:
                raise ValueError(
                    f"rule {r.id}: unknown detector {r.detector!r}; known: {', '.join(DETECTORS)}"
                )
            unknown = set(r.params) - set(det.defaults)
            if unknown:
                raise ValueError(f"rule {r.id}: unknown parameters {', '.join(sorted(unknown))}")
            if r.domain not in self.departments:
                raise ValueError(f"rule {r.id}: domain {r.domain!r} has no department")
        return self

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise ConfigError(f"no rule {rule_id!r} in the alert rules")

    def params(self, rule: Rule) -> dict[str, Param]:
        """The rule's parameters over its detector's defaults."""
        from riskwatch.alerts.detectors import DETECTORS

        return {**DETECTORS[rule.detector].defaults, **rule.params}


def load_rules(path: Path | None = None) -> tuple[RuleSet, str]:
    """Read and validate the rules file; return it and a short hash of its text.

    Raises
    ------
    ConfigError
        If the file is missing, not YAML, or breaks a rule (the message says which).
    """
    path = path or DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the alert rules ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        rules = RuleSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from exc
    return rules, hashlib.sha256(text.encode()).hexdigest()[:12]
