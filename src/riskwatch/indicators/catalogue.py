"""The indicator catalogue (``config/indicators.yaml``) as validated data.

The catalogue declares the indicator tree in SAMR's five first-level dimensions, their
second-level groups and the third-level indicators. Every indicator names its template
(an aggregation from a closed lookup table, see :mod:`riskwatch.indicators.templates`), its
source table, the column that makes a record known, its window, its in-force rule, its
direction and how a missing value is treated. Nothing in the YAML is evaluated as code.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from riskwatch.errors import ConfigError
from riskwatch.indicators.templates import (
    ATTRIBUTE_TEMPLATES,
    DERIVED_TEMPLATES,
    EVENT_TEMPLATES,
    IN_FORCE_RULES,
    PEER_TEMPLATES,
    PUBLISHED_SOURCES,
    PUBLISHED_TEMPLATES,
    VIRTUAL_SOURCES,
    Template,
    source_columns,
)

DEFAULT_CATALOGUE = Path(__file__).resolve().parents[3] / "config" / "indicators.yaml"
"""The catalogue shipped with riskwatch (``config/indicators.yaml``)."""

_ID = r"^[a-z][a-z0-9_]*$"
_WINDOW = re.compile(r"^(\d+)([dy])$")
_DAYS_PER_UNIT = {"d": 1, "y": 365}

Scalar = str | int | float | bool


def window_days(window: str | None) -> int | None:
    """Parse a window such as ``"30d"`` or ``"3y"`` (a year is 365 days) into days."""
    if window is None:
        return None
    m = _WINDOW.match(window)
    if m is None or int(m.group(1)) <= 0:
        raise ValueError(f"window {window!r} must look like '30d' or '3y'")
    return int(m.group(1)) * _DAYS_PER_UNIT[m.group(2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """One filter condition on a source column (ANDed with the others)."""

    column: str
    op: Literal["eq", "ne", "in", "not_in", "is_null", "not_null", "contains_any", "lt", "ge"]
    values: tuple[Scalar, ...] = ()

    @model_validator(mode="after")
    def _arity(self) -> Condition:
        unary = self.op in ("is_null", "not_null")
        if unary and self.values:
            raise ValueError(f"op {self.op} takes no values")
        if not unary and not self.values:
            raise ValueError(f"op {self.op} needs values")
        if self.op in ("eq", "ne", "lt", "ge") and len(self.values) != 1:
            raise ValueError(f"op {self.op} takes exactly one value")
        return self


class Indicator(_Strict):
    """One third-level indicator."""

    id: Annotated[str, Field(pattern=_ID)]
    name_zh: str
    name_en: str
    description: str
    template: Template
    source: str | None = None
    known_on: str | None = None
    anchor: str | None = None
    anchor_offset_days: int = 0
    until: str | None = None
    window: str | None = None
    in_force: str = "none"
    where: tuple[Condition, ...] = ()
    flag: tuple[Condition, ...] = ()
    value: str | None = None
    scale: int = 1
    levels: dict[int, tuple[str, ...]] = Field(default_factory=dict)
    values: tuple[str, ...] = ()
    of: tuple[str, ...] = ()
    link: Literal["address", "legal_rep", "shareholder"] | None = None
    direction: Literal["higher_riskier", "lower_riskier", "neutral"]
    missing: Literal["zero", "null"] = "zero"
    reason_zh: str
    reason_en: str
    enabled: bool = True
    output: bool = True

    @field_validator("window")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        window_days(v)
        return v

    @field_validator("in_force")
    @classmethod
    def _rule(cls, v: str) -> str:
        if v not in IN_FORCE_RULES:
            raise ValueError(f"unknown in-force rule {v!r}; known: {sorted(IN_FORCE_RULES)}")
        return v

    @field_validator("reason_zh", "reason_en")
    @classmethod
    def _reason(cls, v: str) -> str:
        stripped = v.replace("{value}", "")
        if "{" in stripped or "}" in stripped:
            raise ValueError("a reason template may only use the {value} placeholder")
        return v

    @property
    def window_days(self) -> int | None:
        """The window in days (``None``: no window)."""
        return window_days(self.window)

    @property
    def dtype(self) -> Literal["int64", "float64"]:
        """The output type: counts and flags are integers; shares and amounts are floats."""
        if self.template in ("ratio", "growth", "peer_share", "attribute", "previous_month") or (
            self.template == "sum" and self.scale != 1
        ):
            return "float64"
        return "int64"

    def reason(self, value: object, lang: Literal["zh", "en"] = "zh") -> str:
        """Render the human-readable reason for a value (``{value}`` is replaced)."""
        template = self.reason_zh if lang == "zh" else self.reason_en
        return template.replace("{value}", str(value))


class Group(_Strict):
    """A second-level group."""

    id: Annotated[str, Field(pattern=_ID)]
    name_zh: str
    name_en: str
    indicators: tuple[Indicator, ...]


class Dimension(_Strict):
    """A first-level dimension (one of SAMR's five)."""

    id: Annotated[str, Field(pattern=_ID)]
    name_zh: str
    name_en: str
    groups: tuple[Group, ...]


SAMR_DIMENSIONS = ("企业基础属性信息", "企业动态信息", "监管信息", "关联关系信息", "社会评价信息")


class Catalogue(_Strict):
    """The whole indicator catalogue."""

    config_version: Annotated[str, Field(min_length=1)]
    penalty_publicity_default_days: int = Field(default=365, gt=0)
    dimensions: tuple[Dimension, ...]

    @model_validator(mode="after")
    def _check(self) -> Catalogue:
        names = tuple(d.name_zh for d in self.dimensions)
        if sorted(names) != sorted(SAMR_DIMENSIONS):
            raise ValueError(f"first-level dimensions must be SAMR's five: {SAMR_DIMENSIONS}")
        seen: dict[str, Indicator] = {}
        for ind in self.all():
            if ind.id in seen:
                raise ValueError(f"indicator id {ind.id!r} is declared twice")
            _check_indicator(ind, seen)
            seen[ind.id] = ind
        return self

    def all(self) -> Iterator[Indicator]:
        """Every indicator in catalogue order (including disabled ones)."""
        for d in self.dimensions:
            for g in d.groups:
                yield from g.indicators

    def enabled(self) -> list[Indicator]:
        """The indicators the engine computes, in catalogue order."""
        return [i for i in self.all() if i.enabled]

    def outputs(self) -> list[Indicator]:
        """The indicators written to snapshots, in catalogue order."""
        return [i for i in self.enabled() if i.output]

    def get(self, indicator_id: str) -> Indicator:
        """The indicator with this id (``KeyError`` if unknown)."""
        for ind in self.all():
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def fingerprint(self) -> str:
        """A stable hash of the catalogue content (part of every run id)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _check_indicator(ind: Indicator, seen: dict[str, Indicator]) -> None:
    """Cross-field rules: the template's required fields, columns that exist, references."""
    t = ind.template
    where = f"indicator {ind.id!r}"
    if t in EVENT_TEMPLATES or t in ATTRIBUTE_TEMPLATES:
        if ind.source is None:
            raise ValueError(f"{where}: template {t} needs a source")
        cols = source_columns(ind.source)
        if cols is None:
            raise ValueError(f"{where}: unknown source table {ind.source!r}")
        used = [ind.known_on, ind.anchor, ind.until, ind.value]
        used += [c.column for c in (*ind.where, *ind.flag)]
        for col in used:
            if col is not None and col not in cols:
                raise ValueError(f"{where}: {ind.source} has no column {col!r}")
        if t in EVENT_TEMPLATES and ind.known_on is None:
            raise ValueError(f"{where}: an event indicator must name its knowledge date (known_on)")
        needs_col = IN_FORCE_RULES[ind.in_force].needs
        for col in needs_col:
            if col not in cols:
                raise ValueError(f"{where}: rule {ind.in_force} needs column {col!r}")
    if t in ("sum", "attribute") and ind.value is None:
        raise ValueError(f"{where}: template {t} needs a value column")
    if t == "distinct" and not (ind.value and ind.values):
        raise ValueError(f"{where}: template distinct needs value and values")
    if t == "max_level" and not (ind.value and ind.levels):
        raise ValueError(f"{where}: template max_level needs value and levels")
    if t == "last_flag" and not ind.flag:
        raise ValueError(f"{where}: template last_flag needs a flag condition")
    if t in PEER_TEMPLATES and ind.link is None:
        raise ValueError(f"{where}: template {t} needs a link")
    arity = {"ratio": 2, "growth": 2, "peer_share": 1}
    if t in arity and len(ind.of) != arity[t]:
        raise ValueError(f"{where}: template {t} takes {arity[t]} indicator(s) in 'of'")
    if t in DERIVED_TEMPLATES or t == "peer_share":
        for ref in ind.of:
            if ref not in seen:
                raise ValueError(f"{where}: refers to {ref!r}, which is not declared before it")
            if not seen[ref].enabled and ind.enabled:
                raise ValueError(f"{where}: refers to the disabled indicator {ref!r}")
    if t == "growth":
        a, b = (seen[r].window_days for r in ind.of)
        if a is None or b is None or a >= b:
            raise ValueError(f"{where}: growth needs a short window then a longer one")
    if ind.source in VIRTUAL_SOURCES and t not in EVENT_TEMPLATES:
        raise ValueError(f"{where}: virtual source {ind.source} serves event templates only")
    if (ind.source in PUBLISHED_SOURCES) != (t in PUBLISHED_TEMPLATES):
        raise ValueError(
            f"{where}: templates {sorted(PUBLISHED_TEMPLATES)} read, and only they read,"
            f" the published sources {sorted(PUBLISHED_SOURCES)}"
        )
    if t in PUBLISHED_TEMPLATES:
        _check_published(ind, where)


def _check_published(ind: Indicator, where: str) -> None:
    assert ind.source is not None
    cols = PUBLISHED_SOURCES[ind.source]
    for col in [ind.value, *(c.column for c in ind.where)]:
        if col is not None and col not in cols:
            raise ValueError(f"{where}: {ind.source} has no column {col!r}")
    if ind.template == "previous_month" and ind.value is None:
        raise ValueError(f"{where}: template previous_month needs a value column")
    if ind.template == "previous_month_flag" and not ind.where:
        raise ValueError(f"{where}: template previous_month_flag needs a where condition")
    if ind.missing != "null":
        raise ValueError(f'{where}: a published month may be missing: declare missing: "null"')


def parse_catalogue(data: Any, *, origin: str = "<catalogue>") -> Catalogue:
    """Validate already-parsed YAML data as a catalogue (:class:`ConfigError` if invalid)."""
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]
        )
        raise ConfigError(f"{origin}: invalid indicator catalogue: {problems}") from None


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate the indicator catalogue.

    Parameters
    ----------
    path
        The YAML file; ``None`` reads the shipped ``config/indicators.yaml``.

    Returns
    -------
    Catalogue
        The validated catalogue.

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or breaks a catalogue rule.
    """
    path = path or DEFAULT_CATALOGUE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: indicator catalogue not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_catalogue(data, origin=str(path))
