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
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.alerts.workflow import TERMINAL, TRANSITIONS, CaseState
from riskwatch.auth.scope import Principal
from riskwatch.services import cases as case_service
from riskwatch.settings import Settings
from riskwatch.store import enterprise_reads as reads
from riskwatch.store import snapshots

CLASSES = ("A", "B", "C", "D")
MAX_CASES = 20_000
TREND_MONTHS = 12
# services.cases opens sessions through opdb.session_scope, which runs Alembic's upgrade on
# every call; Alembic is not thread-safe (KeyError 'config' under concurrent requests), so
# the dashboard's calls into the operational store take turns.
opdb_lock = threading.Lock()


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


def _in_scope(table: pa.Table, prefix: str) -> pa.Table:
    return table.filter(pc.starts_with(table.column("region_code"), prefix))


def _sums(table: pa.Table, keys: list[str]) -> dict[tuple[Any, ...], int]:
    """Sum of ``n`` per value of ``keys``."""
    if table.num_rows == 0:
        return {}
    grouped = table.group_by(keys).aggregate([("n", "sum")]).to_pylist()
    return {tuple(r[k] for k in keys): int(r["n_sum"]) for r in grouped}


def _group(totals: pa.Table, latest: pa.Table | None, key: str) -> list[dict[str, Any]]:
    """Enterprises and C/D-classed ones (latest month) per region code or industry section."""
    total = _sums(totals, [key])
    cd: dict[tuple[Any, ...], int] = {}
    if latest is not None:
        bad = latest.filter(pc.is_in(latest.column("class"), value_set=pa.array(["C", "D"])))
        cd = _sums(bad, [key])
    out = []
    for (value,), n in total.items():
        bad_n = cd.get((value,), 0)
        out.append(
            {
                "key": value or "",
                "total": n,
                "cd": bad_n if latest is not None else None,
                "share": (bad_n / n if n else 0.0) if latest is not None else None,
            }
        )
    return sorted(out, key=lambda r: str(r["key"]))


def cockpit(
    settings: Settings, reader: reads.WarehouseReader, who: Principal, today: dt.date
) -> dict[str, Any]:
    """Class mix and trend, C/D share by region and industry, alerts opened/closed/overdue.

    Read from small aggregates (enterprises by region and industry section; classes by
    month, region, section and class), computed once per load and per classification run.
    """
    totals = _in_scope(reads.enterprise_summary(reader), who.prefix)
    summary = reads.class_summary(reader, settings.home)
    trend: list[dict[str, Any]] = []
    latest: pa.Table | None = None
    if summary is not None:
        mine = _in_scope(summary, who.prefix)
        by_month = _sums(mine, ["month", "class"])
        months = sorted({m for m, _ in by_month})[-TREND_MONTHS:]
        for month in months:
            trend.append({"month": month, **{c: by_month.get((month, c), 0) for c in CLASSES}})
        if months:
            latest = mine.filter(pc.equal(mine.column("month"), months[-1]))
    indicator_months = snapshots.recent_months(settings.home)
    return {
        "region": who.region,
        "enterprises": int(pc.sum(totals.column("n")).as_py() or 0),
        "classes_available": latest is not None,
        "month": trend[-1]["month"]
        if trend
        else (indicator_months[-1] if indicator_months else None),
        "mix": {k: v for k, v in trend[-1].items() if k in CLASSES} if trend else None,
        "trend": trend,
        "regions": _group(totals, latest, "region_code"),
        "industries": _group(totals, latest, "section"),
        "alerts": alerts_summary(settings, reader, who, today),
    }


def alerts_summary(
    settings: Settings, reader: reads.WarehouseReader, who: Principal, today: dt.date
) -> dict[str, Any]:
    """Counts of cases by state, opened and closed in the last 30 days, overdue."""
    with opdb_lock:
        return case_service.case_summary(settings, who.prefix, today)


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
    """The filtered queue within scope, most urgent deadline first, overdue flagged
    (filtered, counted and paged in the operational database)."""
    prefixes = (who.prefix, filt.region) if filt.region else (who.prefix,)
    with opdb_lock:
        total, rows = case_service.case_page(
            settings,
            state=filt.state,
            department=filt.department,
            uscc=filt.uscc,
            overdue_on=today if filt.overdue else None,
            prefixes=prefixes,
            severity=filt.severity,
            deadline_before=filt.deadline_before,
            limit=limit,
            offset=offset,
        )
    items = []
    for case in rows:
        item = case.model_dump(mode="json")
        item["region_code"] = case.region_code or ""
        item["overdue"] = _overdue(case, today)
        items.append(item)
    return {"total": total, "limit": limit, "offset": offset, "items": items}


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


def mark_classes(
    settings: Settings, reader: reads.WarehouseReader, nodes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Add the latest month's class to each enterprise node of a graph (risky nodes are C/D)."""
    ids = [str(n["id"]) for n in nodes if n.get("kind") == "E"]
    rows = reads.class_rows(reader, settings.home, ids)
    if not rows:
        return nodes
    latest = max(str(r["month"]) for r in rows)
    found = {r["uscc"]: r["class"] for r in rows if r["month"] == latest}
    for node in nodes:
        if node["id"] in found:
            node["risk_class"] = found[node["id"]]
    return nodes
