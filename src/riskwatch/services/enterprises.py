"""Use cases behind the enterprise endpoints: list, profile, graph, stats, export, screening.

Every call takes the caller (:class:`~riskwatch.auth.Principal`): the region scope goes into
each warehouse query, a partner sees only its allowed fields, and every read is audited.
An enterprise outside the scope is reported exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import importlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from riskwatch.auth.config import ServiceSettings
from riskwatch.auth.scope import Principal, Role, region_prefix
from riskwatch.errors import InputError, NotFoundError
from riskwatch.exports import write_table
from riskwatch.indicators import load_catalogue
from riskwatch.services import audit
from riskwatch.services.screening import Rule, compile_rule
from riskwatch.settings import Settings
from riskwatch.store import enterprise_reads as reads
from riskwatch.store import snapshots

MAX_PAGE = 200
MAX_EXPORT = 200_000
STAFF = (Role.ADMIN, Role.ANALYST, Role.INSPECTOR)
HEADERS = {
    "uscc": "统一社会信用代码", "name": "企业名称", "entity_type": "企业类型", "status": "登记状态",
    "established_on": "成立日期", "registered_capital": "注册资本(万元)",
    "industry_code": "行业代码", "region_code": "住所行政区划代码", "address": "住所",
    "class": "风险分类", "score": "风险分值",
}  # fmt: skip


@lru_cache(maxsize=1)
def _indicator_names() -> dict[str, tuple[str, str]]:
    """indicator id -> (dimension name, indicator name)."""
    cat = load_catalogue()
    return {
        ind.id: (dim.name_zh, ind.name_zh)
        for dim in cat.dimensions
        for group in dim.groups
        for ind in group.indicators
    }


def _optional(module: str) -> Any:
    """A module of another stage if it has landed (classes, alerts), else None."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _page(limit: int, offset: int) -> tuple[int, int]:
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InputError(f"limit must be 1–{MAX_PAGE} and offset ≥ 0")
    return limit, offset


class EnterpriseService:
    """Scoped, audited reads of the warehouse."""

    def __init__(
        self, settings: Settings, service: ServiceSettings, reader: reads.WarehouseReader
    ) -> None:
        self.settings = settings
        self.service = service
        self.reader = reader

    def _audit(self, who: Principal, action: str, target: str | None, **detail: Any) -> None:
        detail["token"] = who.token_id
        audit.record(self.settings, self.service, who.name, action, target, detail)

    def _visible(self, who: Principal, row: dict[str, Any]) -> dict[str, Any]:
        return row if who.fields is None else {k: v for k, v in row.items() if k in who.fields}

    def list_query(
        self,
        who: Principal,
        q: str | None = None,
        region: str | None = None,
        industry: str | None = None,
        status: str | None = None,
        tag_members: list[str] | None = None,
        rule: Rule | None = None,
        as_of: dt.date | None = None,
        tag_lookup: Any = None,
        sort: str = "uscc",
        cls: str | None = None,
    ) -> reads.ListQuery:
        """Validate list filters into a query (a rule is compiled, never spliced)."""
        prefix = None
        if region:
            if not region.isdigit() or len(region) > 6:
                raise InputError("region filter: up to 6 digits of a GB/T 2260 code")
            prefix = region_prefix(region) if len(region) == 6 else region
        if q is not None and len(q) > 100:
            raise InputError("search text: at most 100 characters")
        if sort not in reads.SORTS:
            raise InputError(f"sort must be one of {sorted(reads.SORTS)}")
        where_sql, params = None, ()
        if rule is not None:
            if who.is_partner:
                raise InputError("partners cannot screen")
            sql, plist = compile_rule(rule, as_of or dt.date.today(), tag_lookup)
            where_sql, params = sql, tuple(plist)
        if cls:
            if cls not in ("A", "B", "C", "D"):
                raise InputError("class must be A, B, C or D")
            found = reads.class_filter(self.reader, self.settings.home, cls)
            if found is None:
                raise InputError("no classes yet: the class filter needs a classification run")
            where_sql = f"({where_sql}) AND {found[0]}" if where_sql else found[0]
            params = (*params, *found[1])
        return reads.ListQuery(
            q=q or None,
            region=prefix,
            industry=(industry or None),
            status=status or None,
            uscc_in=tuple(tag_members) if tag_members is not None else None,
            where_sql=where_sql,
            where_params=params,
            sort=sort,
        )

    def page(
        self, who: Principal, query: reads.ListQuery, limit: int = 50, offset: int = 0,
        action: str = "enterprise.list",
    ) -> dict[str, Any]:  # fmt: skip
        """A page of enterprises within the caller's scope."""
        limit, offset = _page(limit, offset)
        total, rows = reads.list_enterprises(
            self.reader.cursor(), who.prefix, query, limit, offset, self.reader,
            self.settings.home,
        )  # fmt: skip
        self._audit(who, action, None, total=total, offset=offset, rows=len(rows),
                    filters=_describe(query))  # fmt: skip
        with_classes = bool(rows) and "class" in rows[0]  # read with the page
        if not with_classes and (who.fields is None or who.fields & {"class", "score", "month"}):
            classes = self._classes([str(r["uscc"]) for r in rows])
            rows = [r | _class_fields((classes.get(str(r["uscc"])) or [{}])[-1]) for r in rows]
        return {"total": total, "limit": limit, "offset": offset,
                "items": [self._visible(who, r) for r in rows]}  # fmt: skip

    def profile(self, who: Principal, uscc: str) -> dict[str, Any]:
        """The profile of one enterprise in scope (NotFound otherwise, whatever the reason)."""
        uscc = uscc.strip().upper()
        table = reads.profile_table(self.reader, self.settings.home)
        if table is not None:
            return self._profile_from_copy(who, table, uscc)
        basics = reads.enterprise(self.reader, who.prefix, uscc)
        self._audit(who, "enterprise.read", uscc, found=basics is not None)
        if basics is None:
            raise NotFoundError(f"no enterprise {uscc} in your region")
        history = self._classes([uscc]).get(uscc, [])
        current = history[-1] if history else {}
        if who.is_partner:
            return self._visible(who, basics | _class_fields(current))
        out: dict[str, Any] = {"basics": basics}
        out["class"] = _class_fields(current) | {
            "reasons": _json(current.get("reasons")),
            "overrides": _json(current.get("overrides")),
        }
        out["class_history"] = [_class_fields(h) for h in history]
        out["indicators"] = self._indicators(uscc)
        out["records"] = reads.records(self.reader, uscc, per_table=100)
        out["relations"] = reads.direct_links(self.reader, who.prefix, uscc)
        return out

    def _profile_from_copy(self, who: Principal, table: str, uscc: str) -> dict[str, Any]:
        """The profile from its one-row copy (what :meth:`profile` reads part by part)."""
        parts = reads.profile_parts(self.reader, table, who.prefix, uscc)
        self._audit(who, "enterprise.read", uscc, found=parts is not None)
        if parts is None:
            raise NotFoundError(f"no enterprise {uscc} in your region")
        history = parts["classes"]
        current = history[-1] if history else {}
        if who.is_partner:
            return self._visible(who, parts["basics"] | _class_fields(current))
        months = snapshots.recent_months(self.settings.home)
        return {
            "basics": parts["basics"],
            "class": _class_fields(current)
            | {"reasons": _json(parts["reasons"]), "overrides": _json(parts["overrides"])},
            "class_history": [_class_fields(h) for h in history],
            "indicators": _by_dimension(months[-1] if months else None, parts["indicators"]),
            "records": parts["records"],
            "relations": parts["relations"],
        }

    def prepare(self, wait: bool = False) -> None:
        """Start (``wait``: make) the serving copies profiles and lists read; cheap when
        they are published (``riskwatch serve`` makes them before it serves)."""
        reads.serving_copies(self.reader, self.settings.home, wait)

    def invalidate(self) -> None:
        """After a load: read the warehouse itself until the copies are rebuilt."""
        reads.invalidate_serving(self.reader)

    def class_history(self, who: Principal, uscc: str) -> list[dict[str, Any]]:
        """The class of one enterprise in scope in every month with classes, oldest first
        (NotFound outside the scope, as for the profile)."""
        uscc = uscc.strip().upper()
        basics = reads.enterprise(self.reader, who.prefix, uscc)
        self._audit(who, "enterprise.classes", uscc, found=basics is not None)
        if basics is None:
            raise NotFoundError(f"no enterprise {uscc} in your region")
        rows = self._classes([uscc]).get(uscc, [])
        return [{"month": r["month"], "class": r["class"]} for r in rows]

    def _classes(self, usccs: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for row in reads.class_rows(self.reader, self.settings.home, usccs):
            out.setdefault(str(row["uscc"]), []).append(row)
        return out

    def _indicators(self, uscc: str) -> dict[str, Any]:
        months = snapshots.recent_months(self.settings.home)
        if not months:
            return {"month": None, "dimensions": {}}
        row = reads.indicator_row(self.reader, self.settings.home, months[-1], uscc)
        return _by_dimension(months[-1], row)

    def graph(self, who: Principal, uscc: str, depth: int = 1) -> dict[str, Any]:
        """Persons and enterprises linked to ``uscc`` up to ``depth`` hops, all in scope."""
        if who.is_partner:
            raise NotFoundError("no graph for partner tokens")
        if not 1 <= depth <= 3:
            raise InputError("depth must be 1–3")
        uscc = uscc.strip().upper()
        cur = self.reader.cursor()
        root = reads.enterprise(self.reader, who.prefix, uscc)
        self._audit(who, "enterprise.graph", uscc, depth=depth, found=root is not None)
        if root is None:
            raise NotFoundError(f"no enterprise {uscc} in your region")
        nodes: dict[str, dict[str, Any]] = {uscc: {"id": uscc, "kind": "E", "label": root["name"]}}
        edges: list[dict[str, Any]] = []
        frontier = [uscc]
        for _ in range(depth):
            found = reads.links(cur, who.prefix, frontier, limit=2000)
            nxt = []
            for link in found:
                other = str(link["other"])
                if other not in nodes:
                    nodes[other] = {"id": other, "kind": link["other_kind"],
                                    "label": link["other_name"]}  # fmt: skip
                    if link["other_kind"] == "E":
                        nxt.append(other)
                edges.append({"src": link["uscc"], "dst": other, "role": link["role"]})
            frontier = nxt[:500]
            if not frontier:
                break
        return {"root": uscc, "nodes": list(nodes.values()), "edges": edges}

    def stats(self, who: Principal, by: str) -> dict[str, Any]:
        """Counts by region, industry or month within the scope (classes when they exist)."""
        if who.is_partner:
            raise NotFoundError("no statistics for partner tokens")
        if by not in ("region", "industry", "month"):
            raise InputError("by must be region, industry or month")
        self._audit(who, "stats.read", None, by=by)
        rows = reads.class_stats(self.reader, self.settings.home, who.prefix, by)
        if rows:
            return {"by": by, "rows": rows}
        if by == "month":  # no classes yet: the months with indicators
            months = snapshots.recent_months(self.settings.home)
            return {"by": by, "rows": [{"key": m} for m in months]}
        return {"by": by, "rows": reads.stats_enterprises(self.reader.cursor(), who.prefix, by)}

    def export(self, who: Principal, query: reads.ListQuery, path: Path, what: str) -> int:
        """Write every matching enterprise in scope to .xlsx/.csv; audited with the count."""
        if who.is_partner:
            raise NotFoundError("partners cannot export")
        table = reads.export_enterprises(self.reader.cursor(), who.prefix, query, MAX_EXPORT)
        n = write_table(table, path, HEADERS)
        self._audit(who, "export", what, rows=n, format=path.suffix, filters=_describe(query))
        return n


def _by_dimension(month: str | None, row: dict[str, Any] | None) -> dict[str, Any]:
    """A snapshot row's indicators grouped by dimension, with their names."""
    if month is None:
        return {"month": None, "dimensions": {}}
    names = _indicator_names()
    dims: dict[str, list[dict[str, Any]]] = {}
    for key, value in (row or {}).items():
        if key in names:
            dim, label = names[key]
            dims.setdefault(dim, []).append({"id": key, "name": label, "value": value})
    return {"month": month, "dimensions": dims}


def _class_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {"class": row.get("class"), "score": row.get("score"), "month": row.get("month")}


def _json(value: Any) -> Any:
    import json

    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value or []


def _describe(query: reads.ListQuery) -> dict[str, Any]:
    return {k: v for k, v in {
        "q": query.q, "region": query.region, "industry": query.industry,
        "status": query.status,
        "tag_members": None if query.uscc_in is None else len(query.uscc_in),
        "rule": query.where_sql is not None,
    }.items() if v not in (None, False)}  # fmt: skip


def arrow_rows(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as an Arrow table (for exports of lists built in Python)."""
    return pa.Table.from_pylist(rows)
