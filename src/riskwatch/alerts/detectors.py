"""The lookup table of rule detectors (no eval): id → defaults and a function.

A detector takes a :class:`Context` and its parameters and returns the hits as an Arrow
table ``uscc, region_code, fingerprint, evidence`` (evidence: a JSON object), or ``None``
with a note when it cannot run (no classes yet, no graph built).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from riskwatch.errors import NotFoundError
from riskwatch.graph.classes import LEVEL, load_classes, month_of, previous_month
from riskwatch.ingest.sentiment import classify_sentiment
from riskwatch.settings import Settings
from riskwatch.store import graph as graph_store
from riskwatch.store.alerts import queries as q

HIT_SCHEMA = pa.schema(
    [
        ("uscc", pa.string()),
        ("region_code", pa.string()),
        ("fingerprint", pa.string()),
        ("evidence", pa.string()),
    ]
)


@dataclass
class Context:
    """What a detector may use: settings, the scan date, an open warehouse connection."""

    settings: Settings
    as_of: dt.date
    con: Any  # a read-only DuckDB connection, opened by the store
    notes: list[str] = field(default_factory=list)


Fn = Callable[[Context, dict[str, Any]], pa.Table | None]


@dataclass(frozen=True)
class Detector:
    """A detector's default parameters and its function."""

    defaults: dict[str, Any]
    fn: Fn


def _rows(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=HIT_SCHEMA)


def _negative_opinion(ctx: Context, p: dict[str, Any]) -> pa.Table:
    found = q.run(ctx.con, q.negative_opinions(int(p["window_days"])), ctx.as_of).to_pylist()
    per: dict[str, list[dict[str, Any]]] = {}
    for row in found:
        sentiment = row["sentiment"] or classify_sentiment(row["title"], row["content"])
        if sentiment == "负面":
            per.setdefault(row["uscc"], []).append(row | {"sentiment": sentiment})
    out = []
    for uscc, items in per.items():
        if len(items) < int(p["min_count"]):
            continue
        items.sort(key=lambda r: (r["published_on"], r["opinion_id"]))
        evidence = {
            "negative_opinions": len(items),
            "window_days": int(p["window_days"]),
            "records": [
                {
                    "opinion_id": r["opinion_id"],
                    "published_on": r["published_on"].isoformat(),
                    "source": r["source"],
                    "title": r["title"],
                    "sentiment": r["sentiment"],
                }
                for r in items[-10:]
            ],
        }
        out.append(
            {
                "uscc": uscc,
                "region_code": items[0]["region_code"],
                "fingerprint": items[-1]["opinion_id"],
                "evidence": json.dumps(evidence, ensure_ascii=False),
            }
        )
    return _rows(out)


def _class_deterioration(ctx: Context, p: dict[str, Any]) -> pa.Table | None:
    month = month_of(ctx.as_of)
    now, before = load_classes(ctx.settings, month), None
    if now is not None:
        before = load_classes(ctx.settings, previous_month(month))
    if now is None or before is None:
        ctx.notes.append(
            f"class_deterioration skipped: no classes for {month} and the month before"
        )
        return None
    prev = dict(
        zip(before.column("uscc").to_pylist(), before.column("risk_class").to_pylist(), strict=True)
    )
    hits = []
    for uscc, cls in zip(
        now.column("uscc").to_pylist(), now.column("risk_class").to_pylist(), strict=True
    ):
        old = prev.get(uscc)
        if old is None or cls not in LEVEL or old not in LEVEL:
            continue
        drop = LEVEL[cls] - LEVEL[old]
        if drop >= int(p["min_levels"]) or (cls == "D" and old != "D"):
            hits.append((uscc, old, cls, drop))
    regions = _regions(ctx, [h[0] for h in hits])
    return _rows(
        [
            {
                "uscc": u,
                "region_code": regions.get(u),
                "fingerprint": month,
                "evidence": json.dumps(
                    {"month": month, "previous_class": o, "class": c, "levels": d},
                    ensure_ascii=False,
                ),
            }
            for u, o, c, d in hits
        ]
    )


def _related_party_risk(ctx: Context, p: dict[str, Any]) -> pa.Table | None:
    if load_classes(ctx.settings, month_of(ctx.as_of)) is None:
        ctx.notes.append("related_party_risk skipped: no classes for this month yet")
        return None
    try:
        table = graph_store.load_related_risk(ctx.settings)
    except NotFoundError:
        ctx.notes.append("related_party_risk skipped: no graph built (riskwatch graph build)")
        return None
    rows = [
        r
        for r in table.to_pylist()
        if r["related_risky_count"] >= int(p["min_risky"])
        and r["related_risk_score"] >= float(p["min_score"])
    ]
    regions = _regions(ctx, [r["uscc"] for r in rows])
    return _rows(
        [
            {
                "uscc": r["uscc"],
                "region_code": regions.get(r["uscc"]),
                "fingerprint": month_of(ctx.as_of),
                "evidence": json.dumps(
                    {
                        "related_risk_score": r["related_risk_score"],
                        "related_risky_count": r["related_risky_count"],
                        "related_count": r["related_count"],
                        "graph_as_of": r["as_of"].isoformat(),
                    }
                ),
            }
            for r in rows
        ]
    )


def _regions(ctx: Context, usccs: list[str]) -> dict[str, str]:
    if not usccs:
        return {}
    t = q.region_codes(ctx.con, usccs)
    return dict(zip(t.column("uscc").to_pylist(), t.column("region_code").to_pylist(), strict=True))


def _sql_detector(build: Callable[..., str], sql_args: dict[str, str], bind: dict[str, str]) -> Fn:
    """A detector running one store query: ``sql_args`` shape the SQL, ``bind`` are bound."""

    def fn(ctx: Context, p: dict[str, Any]) -> pa.Table:
        sql = q.finish(build(**{k: p[v] for k, v in sql_args.items()}))
        return q.run(ctx.con, sql, ctx.as_of, **{k: p[v] for k, v in bind.items()})

    return fn


DETECTORS: dict[str, Detector] = {
    "address_cluster": Detector(
        {"lookback_days": 730, "window_days": 90, "min_enterprises": 5},
        _sql_detector(
            q.address_cluster,
            {"lookback_days": "lookback_days", "window_days": "window_days"},
            {"min_n": "min_enterprises"},
        ),
    ),
    "person_cluster": Detector(
        {"lookback_days": 365, "min_enterprises": 5},
        _sql_detector(
            q.person_cluster, {"lookback_days": "lookback_days"}, {"min_n": "min_enterprises"}
        ),
    ),
    "complaint_surge": Detector(
        {
            "window_days": 30,
            "baseline_days": 365,
            "min_count": 5,
            "own_ratio": 3.0,
            "peer_ratio": 5.0,
            "max_p": 0.002,
        },
        _sql_detector(
            q.complaint_surge,
            {"window_days": "window_days", "baseline_days": "baseline_days"},
            {
                "min_count": "min_count",
                "own_ratio": "own_ratio",
                "peer_ratio": "peer_ratio",
                "max_p": "max_p",
            },
        ),
    ),
    "frequent_changes": Detector(
        {"window_days": 365, "min_changes": 3, "items": ["法定代表人", "住所", "注册资本"]},
        _sql_detector(
            q.frequent_changes,
            {"window_days": "window_days"},
            {"min_n": "min_changes", "items": "items"},
        ),
    ),
    "abnormal_registration": Detector(
        {"window_days": 180, "tiny_capital": 10, "predecessor_days": 365},
        _sql_detector(
            q.abnormal_registration,
            {"window_days": "window_days", "predecessor_days": "predecessor_days"},
            {"tiny": "tiny_capital"},
        ),
    ),
    "annual_report_missing": Detector({}, _sql_detector(q.annual_report_missing, {}, {})),
    "penalty_publicity_ending": Detector(
        {"horizon_days": 30},
        _sql_detector(q.penalty_publicity_ending, {"horizon_days": "horizon_days"}, {}),
    ),
    "licence_expired_operating": Detector(
        {"lookback_days": 365},
        _sql_detector(q.licence_expired_operating, {"lookback_days": "lookback_days"}, {}),
    ),
    "class_deterioration": Detector({"min_levels": 2}, _class_deterioration),
    "negative_opinion": Detector({"window_days": 30, "min_count": 1}, _negative_opinion),
    "related_party_risk": Detector({"min_risky": 1, "min_score": 0.5}, _related_party_risk),
    "judicial_dishonest": Detector(
        {"lookback_days": 90},
        _sql_detector(q.judicial_dishonest, {"lookback_days": "lookback_days"}, {}),
    ),
}
"""Detector id → defaults and function (the rule operators' lookup table)."""
