"""The model registry: every trained model with its config hash, window, metrics, code version.

Layout under ``$RISKWATCH_HOME/models/``::

    <version>/model.joblib     the fitted estimator (every parameter; reloads score identically)
    <version>/meta.json        family, config hash, training window, metrics, code version
    champions.json             {"YYYY-MM": version} — one champion per month

A month without its own champion uses the latest earlier one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import joblib  # type: ignore[import-untyped]

from riskwatch.errors import NotFoundError
from riskwatch.scoring.base import RiskModel
from riskwatch.store.snapshots import read_json, write_json


@dataclass
class ModelMeta:
    """What the registry keeps about a model."""

    version: str
    family: str
    config_hash: str
    catalogue_fingerprint: str
    as_of: str
    train_from: str
    train_to: str
    validation_from: str
    labels: int
    metrics: dict[str, float] = field(default_factory=dict)
    code_version: str = ""
    created_at: str = ""


def root(home: Path) -> Path:
    """The registry folder."""
    return home / "models"


def make_version(family: str, as_of: dt.date, blob: str) -> str:
    """``<family>-<YYYYMM>-<hash>``: readable and unique per configuration and data."""
    h = hashlib.sha256(f"{family}|{as_of}|{blob}".encode()).hexdigest()[:8]
    return f"{family}-{as_of:%Y%m}-{h}"


def save(home: Path, model: RiskModel, meta: ModelMeta) -> Path:
    """Store a fitted model and its metadata."""
    d = root(home) / meta.version
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / "model.joblib.tmp"
    joblib.dump(model, tmp, compress=3)
    tmp.replace(d / "model.joblib")
    meta.created_at = meta.created_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    write_json(d / "meta.json", asdict(meta))
    return d


def load(home: Path, version: str) -> RiskModel:
    """A stored model (:class:`NotFoundError` if unknown)."""
    path = root(home) / version / "model.joblib"
    if not path.exists():
        raise NotFoundError(f"no model {version!r} in {root(home)}")
    model: RiskModel = joblib.load(path)
    return model


def meta(home: Path, version: str) -> ModelMeta:
    """The metadata of a stored model."""
    path = root(home) / version / "meta.json"
    if not path.exists():
        raise NotFoundError(f"no model {version!r} in {root(home)}")
    return ModelMeta(**read_json(path))


def list_models(home: Path) -> list[ModelMeta]:
    """Every stored model, newest first."""
    r = root(home)
    if not r.exists():
        return []
    out = [ModelMeta(**read_json(p)) for p in r.glob("*/meta.json")]
    return sorted(out, key=lambda m: (m.as_of, m.created_at, m.version), reverse=True)


def champions(home: Path) -> dict[str, str]:
    """Champion version by month."""
    path = root(home) / "champions.json"
    data: dict[str, str] = read_json(path) if path.exists() else {}
    return data


def promote(home: Path, version: str, month: str) -> None:
    """Make ``version`` the champion of ``month`` (``YYYY-MM``)."""
    meta(home, version)  # raises if unknown
    data = champions(home)
    data[month] = version
    write_json(root(home) / "champions.json", dict(sorted(data.items())))


def champion(home: Path, month: str) -> str | None:
    """The champion of a month, else of the latest earlier month, else ``None``."""
    data = champions(home)
    earlier = [m for m in data if m <= month]
    return data[max(earlier)] if earlier else None


def describe(m: ModelMeta) -> dict[str, Any]:
    """A flat dict for tables and JSON."""
    return asdict(m)
