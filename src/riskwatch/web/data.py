"""View models of the dashboard: the cockpit figures, scoped case queues, plan summaries.

The pages call the service's own endpoints where they exist (enterprises, screening, admin);
this module assembles what no endpoint gives yet: the class mix by month and region, the
alerts summary and the case queue within the caller's region scope. It reads through the
store's and services' functions only (no SQL here) and caches the per-scope enterprise frame,
which at 1 M enterprises is the one expensive read.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.alerts.workflow import TERMINAL, TRANSITIONS, CaseState
from riskwatch.auth.scope import Principal
from riskwatch.graph.classes import load_classes
from riskwatch.services import cases as case_service
from riskwatch.settings import Settings
from riskwatch.store import enterprise_reads as reads
from riskwatch.store import snapshots

CLASSES = ("A", "B", "C", "D")
MAX_FRAME = 50_000_000
MAX_CASES = 20_000
TREND_MONTHS = 12
_lock = threading.Lock()
# services.cases opens sessions through opdb.session_scope, which runs Alembic's upgrade on
# every call; Alembic is not thread-safe (KeyError 'config' under concurrent requests), so
# the dashboard's calls into the operational store take turns.
opdb_lock = threading.Lock()
_frames: dict[tuple[str, str, float], pa.Table] = {}


@dataclass(frozen=True)
class CaseFilter:
    """Filters of the alert workbench queue (all optional)."""

    state: str | None = None
    severity: str | None = None
    department: str | None = None
    region: str | None = None
    overdue: bool = False
    deadline_before: dt.date | None = None
    uscc: str | None = None


def enterprise_frame(settings: Settings, reader: reads.WarehouseReader, prefix: str) -> pa.Table:
    """``uscc, region_code, industry_code`` of every enterprise in scope (cached per load)."""
    path = settings.warehouse_path
    stamp = path.stat().st_mtime if path.exists() else 0.0
    key = (str(path), prefix, stamp)
    with _lock:
        hit = _frames.get(key)
    if hit is not None:
        return hit
    # A cursor of its own: the thread's shared cursor may hold another query's pending result.
    cur = reader.cursor().cursor()
    try:
        table = reads.export_enterprises(cur, prefix, reads.ListQuery(), MAX_FRAME)
    finally:
        cur.close()
    frame = table.select(["uscc", "region_code", "industry_code"])
    with _lock:
        for old in [k for k in _frames if k[:2] == key[:2]]:
            del _frames[old]
        _frames[key] = frame
    return frame


def _mix(table: pa.Table) -> dict[str, int]:
    counts = Counter(table.column("risk_class").to_pylist())
    return {c: int(counts.get(c, 0)) for c in CLASSES}


def _group(frame: pa.Table, key: str) -> list[dict[str, Any]]:
    """Totals and C/D counts per value of ``key`` (classes joined when present)."""
    keys = (
        pc.utf8_slice_codeunits(frame.column("industry_code"), 0, 1) if key == "industry" else None
    )
    col = keys if keys is not None else frame.column(key)
    has_class = "risk_class" in frame.column_names
    cd = (
        pc.is_in(frame.column("risk_class"), value_set=pa.array(["C", "D"]))
        if has_class
        else pa.array([False] * frame.num_rows)
    )
    grouped = (
        pa.table({"key": col, "cd": pc.cast(cd, pa.int64())})
        .group_by("key")
        .aggregate([("cd", "sum"), ("cd", "count")])
    )
    out = []
    for row in grouped.to_pylist():
        total = int(row["cd_count"])
        bad = int(row["cd_sum"] or 0)
        out.append(
            {
                "key": row["key"] or "",
                "total": total,
                "cd": bad if has_class else None,
                "share": (bad / total if total else 0.0) if has_class else None,
            }
        )
    return sorted(out, key=lambda r: str(r["key"]))


def cockpit(
    settings: Settings, reader: reads.WarehouseReader, who: Principal, today: dt.date
) -> dict[str, Any]:
    """Class mix and trend, C/D share by region and industry, alerts opened/closed/overdue."""
    frame = enterprise_frame(settings, reader, who.prefix)
    scope = frame.column("uscc")
    months = snapshots.list_months(settings.home)[-TREND_MONTHS:]
    trend = []
    latest: pa.Table | None = None
    for month in months:
        classes = load_classes(settings, month)
        if classes is None:
            continue
        mine = classes.filter(pc.is_in(classes.column("uscc"), value_set=scope))
        trend.append({"month": month, **_mix(mine)})
        latest = mine
    joined = frame
    if latest is not None:
        joined = frame.join(latest, "uscc", join_type="left outer")
    return {
        "region": who.region,
        "enterprises": frame.num_rows,
        "classes_available": latest is not None,
        "month": trend[-1]["month"] if trend else (months[-1] if months else None),
        "mix": {k: v for k, v in trend[-1].items() if k in CLASSES} if trend else None,
        "trend": trend,
        "regions": _group(joined, "region_code"),
        "industries": _group(joined, "industry"),
        "alerts": alerts_summary(settings, reader, who, today),
    }


def _scoped(
    settings: Settings, reader: reads.WarehouseReader, who: Principal, rows: list[Any]
) -> list[tuple[Any, str]]:
    """Cases whose enterprise is in the caller's scope, with its region code."""
    regions = reads.regions_of(reader.cursor(), sorted({r.uscc for r in rows}))
    return [
        (r, regions[r.uscc])
        for r in rows
        if r.uscc in regions and regions[r.uscc].startswith(who.prefix)
    ]


def alerts_summary(
    settings: Settings, reader: reads.WarehouseReader, who: Principal, today: dt.date
) -> dict[str, Any]:
    """Counts of cases by state, opened and closed in the last 30 days, overdue."""
    with opdb_lock:
        found = case_service.list_cases(settings, limit=MAX_CASES)
    rows = _scoped(settings, reader, who, found)
    since = today - dt.timedelta(days=30)
    by_state = Counter(str(r.state) for r, _ in rows)
    return {
        "total": len(rows),
        "by_state": dict(by_state),
        "opened_30d": sum(1 for r, _ in rows if r.opened_on >= since),
        "closed_30d": sum(1 for r, _ in rows if r.closed_on and r.closed_on >= since),
        "overdue": sum(1 for r, _ in rows if _overdue(r, today)),
        "by_severity": dict(Counter(str(r.severity) for r, _ in rows)),
    }


def _overdue(case: Any, today: dt.date) -> bool:
    return bool(case.deadline < today and CaseState(case.state) not in TERMINAL)


def case_queue(
    settings: Settings,
    reader: reads.WarehouseReader,
    who: Principal,
    filt: CaseFilter,
    today: dt.date,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """The filtered queue within scope, most urgent deadline first, overdue flagged."""
    with opdb_lock:
        rows = case_service.list_cases(
            settings,
            state=filt.state,
            department=filt.department,
            uscc=filt.uscc,
            overdue_on=today if filt.overdue else None,
            limit=MAX_CASES,
        )
    items = []
    for case, region in _scoped(settings, reader, who, rows):
        if filt.severity and case.severity != filt.severity:
            continue
        if filt.region and not region.startswith(filt.region):
            continue
        if filt.deadline_before and case.deadline > filt.deadline_before:
            continue
        item = case.model_dump(mode="json")
        item["region_code"] = region
        item["overdue"] = _overdue(case, today)
        items.append(item)
    return {
        "total": len(items),
        "limit": limit,
        "offset": offset,
        "items": items[offset : offset + limit],
    }


def case_in_scope(
    settings: Settings, reader: reads.WarehouseReader, who: Principal, case_id: str
) -> dict[str, Any] | None:
    """A case with alerts, events and the moves allowed from its state; None out of scope."""
    with opdb_lock:
        detail = case_service.get_case(settings, case_id)
    regions = reads.regions_of(reader.cursor(), [detail.case.uscc])
    region = regions.get(detail.case.uscc)
    if region is None or not region.startswith(who.prefix):
        return None
    out = detail.model_dump(mode="json")
    out["case"]["region_code"] = region
    out["case"]["overdue"] = _overdue(detail.case, dt.date.today())
    out["moves"] = sorted(a for (s, a) in TRANSITIONS if s == CaseState(detail.case.state))
    return out


def class_history(settings: Settings, uscc: str) -> list[dict[str, str]]:
    """The enterprise's class in each month that has classes, oldest first."""
    out = []
    for month in snapshots.list_months(settings.home)[-TREND_MONTHS * 3 :]:
        classes = load_classes(settings, month)
        if classes is None:
            continue
        hit = classes.filter(pc.equal(classes.column("uscc"), uscc))
        if hit.num_rows:
            out.append({"month": month, "class": str(hit.column("risk_class")[0])})
    return out


def mark_classes(settings: Settings, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add the latest class to each enterprise node of a graph (risky nodes are C/D)."""
    months = snapshots.list_months(settings.home)
    classes = load_classes(settings, months[-1]) if months else None
    if classes is None:
        return nodes
    ids = pa.array([n["id"] for n in nodes if n.get("kind") == "E"], pa.string())
    hit = classes.filter(pc.is_in(classes.column("uscc"), value_set=ids)).to_pylist()
    found = {r["uscc"]: r["risk_class"] for r in hit}
    for node in nodes:
        if node["id"] in found:
            node["risk_class"] = found[node["id"]]
    return nodes
