"""``riskwatch evaluate``: grade the classes and every family on later spot checks.

Graded on the inspections in the ``horizon_months`` after as-of from the warehouse (weighted
by inverse inclusion probability), or on a synthetic city's ``truth/future_inspections``
(never used in training). Writes ``evaluation/<month>/report.html`` and ``report.json``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from riskwatch.errors import InputError, NotFoundError
from riskwatch.evaluation import metrics as m
from riskwatch.evaluation.report import render_html
from riskwatch.indicators import load_snapshot
from riskwatch.scoring import registry
from riskwatch.scoring.base import to_frame
from riskwatch.scoring.config import load_models_config
from riskwatch.scoring.labels import label_rows, month_add, read_inspections
from riskwatch.settings import Settings
from riskwatch.store import classes as class_store
from riskwatch.store.snapshots import write_json

CAPACITY = 0.05
DISPARITY = 0.15


def _labels(
    settings: Settings, as_of: dt.date, truth: Path | None, horizon: int
) -> tuple[pd.DataFrame, str]:
    cfg = load_models_config()
    if truth is not None:
        path = truth / "future_inspections.parquet" if truth.is_dir() else truth
        if not path.exists():
            raise InputError(f"{path}: no future_inspections.parquet")
        df = pq.read_table(path).to_pandas()
        df = df[~df["result"].isin(cfg.training.exclude_results)].copy()
        df["y"] = df["problem"].astype(np.int64)
        df["weight"] = 1.0
        return df, "truth/future_inspections"
    end_month = month_add(f"{as_of:%Y-%m}", horizon)
    end = dt.date(int(end_month[:4]), int(end_month[5:7]), 28)
    rows = label_rows(
        read_inspections(settings.warehouse_path), cfg.training, as_of + dt.timedelta(days=1), end
    )
    return rows, f"warehouse inspections {as_of + dt.timedelta(days=1)}…{end_month}"


def evaluate(
    settings: Settings,
    as_of: dt.date,
    truth: Path | None = None,
    horizon: int = 6,
    out: Path | None = None,
) -> dict[str, Any]:
    """Grade classes and families; write the HTML + JSON report; return the JSON data."""
    home = settings.home
    month = f"{as_of:%Y-%m}"
    labels, source = _labels(settings, as_of, truth, horizon)
    if labels.empty:
        raise InputError(f"no spot checks after {as_of} to grade on ({source})")
    classes = class_store.read_classes_raw(home, month).to_pandas()
    g = labels.merge(classes, on="uscc", how="inner")
    y, w = g["y"].to_numpy(), g["weight"].to_numpy(np.float64)
    snap = load_snapshot(home, month).to_pandas(date_as_object=False)
    snap = snap.set_index("uscc").loc[g["uscc"]].reset_index()
    champion = registry.champion(home, month)
    data: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "labels": len(g),
        "label_source": source,
        "champion": champion,
        "families": {},
    }
    if "p_problem" in g:
        data["oracle_auc"] = m.auc(y, g["p_problem"], w)
    latest: dict[str, registry.ModelMeta] = {}
    for meta in registry.list_models(home):
        if meta.as_of <= as_of.isoformat() and meta.family not in latest:
            latest[meta.family] = meta
    if champion:
        cm = registry.meta(home, champion)
        latest[cm.family] = cm
        data["champion_family"] = cm.family
    for family, meta in latest.items():
        model = registry.load(home, meta.version)
        X = to_frame(snap, model.feature_names_in_)
        s, p = model.risk_score(X), model.probability(X)
        fpr, tpr = m.roc(y, s, w)
        step = max(1, len(fpr) // 200)
        data["families"][family] = {
            "version": meta.version,
            **m.summary(y, s, p, w),
            "precision_at_capacity": m.precision_at(y, s, w, CAPACITY),
            "roc": {"fpr": fpr[::step].tolist(), "tpr": tpr[::step].tolist()},
            "gain": m.gain(y, s, w),
            "calibration": m.calibration(y, p, w),
        }
    data["classes"] = _classes(home, month, classes, g, y, w)
    data["by_group"] = {dim: _by_group(g, dim, y, w) for dim in ("region_code", "industry_code")}
    target = out or home / "evaluation" / month
    target.mkdir(parents=True, exist_ok=True)
    write_json(target / "report.json", data)
    (target / "report.html").write_text(render_html(data), encoding="utf-8")
    data["report"] = str(target / "report.html")
    return data


def _classes(
    home: Path, month: str, classes: pd.DataFrame, g: pd.DataFrame, y: Any, w: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "discovery": {
            k: m.rate_ci(y[g["class"] == k], w[g["class"] == k])
            for k in ("A", "B", "C", "D")
            if (g["class"] == k).any()
        },
        "mix": {k: int(v) for k, v in classes["class"].value_counts().sort_index().items()},
    }
    prev = month_add(month, -1)
    try:
        before = class_store.read_classes_raw(home, prev, ["uscc", "class", "score"]).to_pandas()
    except NotFoundError:
        return out
    both = before.merge(classes[["uscc", "class", "score"]], on="uscc", suffixes=("_before", ""))
    tab = pd.crosstab(both["class_before"], both["class"])
    out["migration"] = {
        str(a): {str(b): int(v) for b, v in row.items()} for a, row in tab.iterrows()
    }
    out["psi"] = m.psi(
        before["score"].to_numpy(), classes["score"].to_numpy(), bins=np.linspace(0, 1001, 11)
    )
    return out


def _by_group(g: pd.DataFrame, dim: str, y: Any, w: Any) -> list[dict[str, Any]]:
    overall = float(np.average(y, weights=w))
    rows = []
    for key, idx in g.groupby(dim).indices.items():
        r = m.rate_ci(y[idx], w[idx])
        cd = g["class"].iloc[idx].isin(["C", "D"]).to_numpy()
        auc = m.auc(y[idx], g["score"].iloc[idx], w[idx]) if len(idx) >= 30 else float("nan")
        flag = len(idx) >= 30 and (
            r["low"] > overall + DISPARITY
            or r["high"] < overall - DISPARITY
            or (np.isfinite(auc) and auc < 0.6)
        )
        rows.append(
            {
                dim: str(key),
                "n": len(idx),
                "problem_rate": r["rate"],
                "auc": auc,
                "cd_share": float(cd.mean()),
                "cd_discovery": float(y[idx][cd].mean()) if cd.any() else float("nan"),
                "flag": "⚠" if flag else "",
            }
        )
    return rows
