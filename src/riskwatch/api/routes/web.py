"""The dashboard: its page shell and the few JSON views no other endpoint gives yet."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from riskwatch.api.deps import Analyst, ServicesDep, Staff, bearer, current_principal
from riskwatch.api.routes.auth import me
from riskwatch.api.routes.enterprises import USCC, send_export
from riskwatch.auth.tokens import AuthenticationError
from riskwatch.errors import InputError, NotFoundError
from riskwatch.exports import write_table
from riskwatch.indicators import load_catalogue
from riskwatch.services import audit
from riskwatch.services import cases as case_service
from riskwatch.web import data

router = APIRouter(tags=["web"])
SHELL = Path(__file__).resolve().parents[2] / "web" / "templates" / "index.html"
CaseId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[\w\-]+$")]
PlanRef = Annotated[str, PathParam(min_length=1, max_length=200)]
Fmt = Annotated[Literal["xlsx", "csv"], Query()]
CASE_HEADERS = {
    "case_id": "案件编号", "uscc": "统一社会信用代码", "region_code": "区划代码", "state": "状态",
    "severity": "严重程度", "department": "责任部门", "assignee": "承办人",
    "opened_on": "立案日期", "deadline": "办理期限", "overdue": "是否逾期",
    "closed_on": "办结日期",
}  # fmt: skip
AREA_HEADERS = {"key": "代码", "total": "企业数", "cd": "C/D类企业数", "share": "C/D类占比"}


class MoveIn(BaseModel):
    """One move of a case through its state machine."""

    note: str | None = Field(default=None, max_length=2000)
    assignee: str | None = Field(default=None, max_length=128)
    measures: list[str] | None = Field(default=None, max_length=5)
    version: int | None = Field(default=None, ge=0)


class PlanIn(BaseModel):
    """A 双随机 plan drawn from the dashboard."""

    name: str = Field(min_length=1, max_length=200)
    as_of: dt.date
    seed: str = Field(min_length=1, max_length=500)
    ratios: dict[str, float]
    regions: list[str] = Field(default_factory=list, max_length=50)


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """The dashboard lives under /ui/."""
    return RedirectResponse("/ui/")


@router.get("/ui/", include_in_schema=False)
def shell() -> HTMLResponse:
    """The page shell; the script routes by URL hash and asks /api/me who is logged in."""
    return HTMLResponse(SHELL.read_text(encoding="utf-8"))


@router.get("/api/web/whoami")
def whoami(
    request: Request, services: ServicesDep, token: Annotated[str | None, Depends(bearer)]
) -> dict[str, Any]:
    """The caller, or null when not logged in (200 either way: no console error on load)."""
    try:
        who = current_principal(request, services, token)
    except AuthenticationError:
        return {"me": None}
    return {"me": me(who).model_dump()}


def _cockpit(services: ServicesDep, who: Staff) -> dict[str, Any]:
    out = data.cockpit(services.settings, services.reader, who, dt.date.today())
    audit.record(services.settings, services.service, who.name, "dashboard.read", "cockpit")
    return out


@router.get("/api/web/cockpit")
def cockpit(who: Staff, services: ServicesDep) -> dict[str, Any]:
    """Class mix and trend, C/D share by region and industry, alerts summary (your scope)."""
    return _cockpit(services, who)


@router.get("/api/web/areas/export")
def areas_export(
    who: Analyst,
    services: ServicesDep,
    background: BackgroundTasks,
    by: Annotated[Literal["regions", "industries"], Query()] = "regions",
    format: Fmt = "xlsx",
) -> FileResponse:
    """Counts and C/D shares by region or industry as an Excel file."""
    rows = data.cockpit(services.settings, services.reader, who, dt.date.today())[by]
    table = pa.Table.from_pylist(rows) if rows else pa.table({"key": pa.array([], pa.string())})

    def write(path: Path) -> int:
        n = write_table(table, path, AREA_HEADERS)
        audit.record(services.settings, services.service, who.name, "export", by, {"rows": n})
        return n

    return send_export(services, background, format, by, write)


def _filter(
    state: str | None,
    severity: str | None,
    department: str | None,
    region: str | None,
    overdue: bool,
    deadline_before: dt.date | None,
    uscc: str | None = None,
) -> data.CaseFilter:
    return data.CaseFilter(state, severity, department, region, overdue, deadline_before, uscc)


@router.get("/api/web/cases")
def cases(
    who: Staff,
    services: ServicesDep,
    state: Annotated[str | None, Query(max_length=16)] = None,
    severity: Annotated[str | None, Query(pattern=r"^(low|medium|high)$")] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{2,6}$")] = None,
    overdue: bool = False,
    deadline_before: dt.date | None = None,
    uscc: Annotated[str | None, Query(pattern=r"^[0-9A-Za-z]{18}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """The alert workbench queue within your region, most urgent first."""
    filt = _filter(state, severity, department, region, overdue, deadline_before, uscc)
    today = dt.date.today()
    return data.case_queue(services.settings, services.reader, who, filt, today, limit, offset)


@router.get("/api/web/cases/export")
def cases_export(
    who: Analyst,
    services: ServicesDep,
    background: BackgroundTasks,
    state: Annotated[str | None, Query(max_length=16)] = None,
    severity: Annotated[str | None, Query(pattern=r"^(low|medium|high)$")] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{2,6}$")] = None,
    overdue: bool = False,
    format: Fmt = "xlsx",
) -> FileResponse:
    """The filtered case queue as an Excel file."""
    filt = _filter(state, severity, None, region, overdue, None)
    queue = data.case_queue(
        services.settings, services.reader, who, filt, dt.date.today(), data.MAX_CASES, 0
    )
    cols = list(CASE_HEADERS)
    rows = [
        {k: str(r.get(k) if r.get(k) is not None else "") for k in cols} for r in queue["items"]
    ]
    table = (
        pa.Table.from_pylist(rows)
        if rows
        else pa.table({k: pa.array([], pa.string()) for k in cols})
    )

    def write(path: Path) -> int:
        n = write_table(table, path, CASE_HEADERS)
        audit.record(services.settings, services.service, who.name, "export", "cases", {"rows": n})
        return n

    return send_export(services, background, format, "cases", write)


@router.get("/api/web/cases/{case_id}")
def case_detail(case_id: CaseId, who: Staff, services: ServicesDep) -> dict[str, Any]:
    """A case with its alerts (evidence), history and allowed moves."""
    out = data.case_in_scope(services.settings, services.reader, who, case_id)
    if out is None:
        raise NotFoundError(f"no case {case_id} in your region")
    audit.record(services.settings, services.service, who.name, "case.read", case_id)
    return out


@router.post("/api/web/cases/{case_id}/{action}")
def case_move(
    case_id: CaseId,
    action: Annotated[
        str, PathParam(pattern=r"^(assign|start|return|dispose|close|false_positive)$")
    ],
    body: MoveIn,
    who: Staff,
    services: ServicesDep,
) -> dict[str, Any]:
    """Move a case (the state machine decides what is allowed)."""
    if data.case_in_scope(services.settings, services.reader, who, case_id) is None:
        raise NotFoundError(f"no case {case_id} in your region")
    with data.opdb_lock:
        view = case_service.transition(
        services.settings, case_id, action, actor=who.name, note=body.note,
        expected_version=body.version, assignee=body.assignee, measures=body.measures,
    )  # fmt: skip
    audit.record(services.settings, services.service, who.name, f"case.{action}", case_id)
    return view.model_dump(mode="json")


@router.get("/api/web/enterprises/{uscc}/classes")
def enterprise_classes(uscc: USCC, who: Staff, services: ServicesDep) -> dict[str, Any]:
    """Class history of one enterprise in your region."""
    history = services.enterprises.class_history(who, uscc)  # scope checked, audited
    return {"uscc": uscc.upper(), "history": history}


@router.get("/api/web/enterprises/{uscc}/graph")
def enterprise_graph(
    uscc: USCC, who: Staff, services: ServicesDep, depth: Annotated[int, Query(ge=1, le=2)] = 1
) -> dict[str, Any]:
    """The relationship graph (depth 1–2) with each enterprise's latest class."""
    graph = services.enterprises.graph(who, uscc, depth)
    graph["nodes"] = data.mark_classes(services.settings, services.reader, graph["nodes"])
    return graph


@router.get("/api/web/indicators")
def indicators(who: Staff) -> dict[str, Any]:
    """The indicator catalogue by dimension and group."""
    cat = load_catalogue()
    return {
        "config_version": cat.config_version,
        "dimensions": [
            {"id": d.id, "name_zh": d.name_zh, "name_en": d.name_en,
             "groups": [{"id": g.id, "name_zh": g.name_zh, "name_en": g.name_en,
                         "indicators": [{"id": i.id, "name_zh": i.name_zh, "name_en": i.name_en,
                                         "direction": i.direction, "enabled": i.enabled,
                                         "reason_zh": i.reason_zh, "reason_en": i.reason_en}
                                        for i in g.indicators]}
                        for g in d.groups]}
            for d in cat.dimensions
        ],
    }  # fmt: skip


def _sampling() -> Any:
    """The sampling services (another stage); 404 until they have landed."""
    try:
        return importlib.import_module("riskwatch.services.sampling")
    except ImportError:
        raise NotFoundError("random inspection is not installed yet") from None


@router.get("/api/web/plans")
def plans(who: Staff, services: ServicesDep) -> list[dict[str, Any]]:
    """Stored 双随机 plans, newest first."""
    with data.opdb_lock:
        out: list[dict[str, Any]] = _sampling().list_plans(services.settings)
    return [{k: (str(v) if isinstance(v, dt.date | dt.datetime) else v) for k, v in p.items()}
            for p in out]  # fmt: skip


@router.post("/api/web/plans", status_code=201)
def draw_plan(body: PlanIn, who: Analyst, services: ServicesDep) -> dict[str, Any]:
    """Draw a plan over your region with per-class ratios, then assign inspectors."""
    sampling = _sampling()
    policy = importlib.import_module("riskwatch.sampling.policy")
    regions = body.regions or [who.region]
    for r in regions:
        who.require_scope_within(r)
    try:
        spec = policy.PlanSpec(name=body.name, as_of=body.as_of, seed=body.seed,
                               ratios=body.ratios, scope=policy.Scope(regions=regions))  # fmt: skip
    except ValueError as exc:
        raise InputError(str(exc)) from None
    with data.opdb_lock:
        outcome = sampling.PlanService(services.settings).run(spec, actor=who.name)
    audit.record(services.settings, services.service, who.name, "plan.draw", outcome.plan_id)
    result: dict[str, Any] = outcome.model_dump(mode="json")
    return result


@router.get("/api/web/plans/{ref}/verify")
def verify_plan(ref: PlanRef, who: Staff, services: ServicesDep) -> dict[str, Any]:
    """Recompute the draw and the assignment from the frozen inputs and compare."""
    if "/" in ref or ref.endswith((".csv", ".xlsx")):
        raise InputError("give a plan id or name")
    with data.opdb_lock:
        report = _sampling().verify(services.settings, ref)
    audit.record(services.settings, services.service, who.name, "plan.verify", ref)
    dump = getattr(report, "model_dump", None)
    return dump(mode="json") if dump else dict(vars(report))


@router.get("/api/web/plans/{ref}/list")
def plan_list(
    ref: PlanRef,
    who: Analyst,
    services: ServicesDep,
    background: BackgroundTasks,
    format: Fmt = "xlsx",
) -> FileResponse:
    """The drawn list with inspectors, as an Excel file."""
    sampling = _sampling()
    return send_export(
        services, background, format, "plan",
        lambda path: sampling.export_list(services.settings, ref, path),
    )  # fmt: skip
