"""Enterprises: list with filters, profile, relationship graph, statistics, export."""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query
from fastapi.responses import FileResponse

from riskwatch.api.deps import Analyst, CurrentUser, Services, ServicesDep, Staff
from riskwatch.api.fastjson import FastJSON
from riskwatch.api.schemas import Page
from riskwatch.auth.scope import Principal
from riskwatch.store.enterprise_reads import ListQuery
from riskwatch.store.models import audit as scoped
from riskwatch.store.models.users import service_session

router = APIRouter(prefix="/api", tags=["enterprises"])

USCC = Annotated[str, Path(min_length=1, max_length=18, pattern=r"^[0-9A-Za-z]{1,18}$")]
Q = Annotated[str | None, Query(max_length=100, description="name fragment or uscc")]
Region = Annotated[str | None, Query(pattern=r"^\d{2,6}$", description="region code prefix")]
Industry = Annotated[str | None, Query(pattern=r"^[A-Ta-t]?\d{0,4}$", max_length=5)]
Status = Annotated[str | None, Query(max_length=8)]
Tag = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Sort = Annotated[Literal["uscc", "name", "established_on", "capital"], Query()]
Class = Annotated[Literal["A", "B", "C", "D"] | None, Query(alias="class")]
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def build_query(
    services: Services,
    who: Principal,
    q: str | None,
    region: str | None,
    industry: str | None,
    status: str | None,
    tag: str | None,
    sort: str = "uscc",
    cls: str | None = None,
) -> ListQuery:
    """Validated list filters for the caller (a tag becomes its members in scope)."""
    members = services.tags.members(who, tag) if tag else None
    return services.enterprises.list_query(
        who, q=q, region=region, industry=industry.upper() if industry else None,
        status=status, tag_members=members, sort=sort, cls=cls,
    )  # fmt: skip


@router.get("/enterprises", response_model=Page)
def list_enterprises(
    who: CurrentUser,
    services: ServicesDep,
    q: Q = None,
    region: Region = None,
    industry: Industry = None,
    status: Status = None,
    tag: Tag = None,
    cls: Class = None,
    sort: Sort = "uscc",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Enterprises in your region, filtered and paginated (partners: their fields only)."""
    if tag and who.is_partner:
        tag = None
    query = build_query(services, who, q, region, industry, status, tag, sort, cls)
    return FastJSON(services.enterprises.page(who, query, limit, offset))


@router.get("/enterprises/export")
def export_enterprises(
    who: Analyst,
    services: ServicesDep,
    background: BackgroundTasks,
    format: Annotated[Literal["xlsx", "csv"], Query()] = "xlsx",
    q: Q = None,
    region: Region = None,
    industry: Industry = None,
    status: Status = None,
    tag: Tag = None,
    cls: Class = None,
    sort: Sort = "uscc",
) -> FileResponse:
    """The filtered list as an Excel (or CSV) file; audited with its row count."""
    query = build_query(services, who, q, region, industry, status, tag, sort, cls)
    return send_export(
        services,
        background,
        format,
        "enterprises",
        lambda path: services.enterprises.export(who, query, path, "enterprises"),
    )


def send_export(
    services: Services, background: BackgroundTasks, fmt: str, stem: str, write: Any
) -> FileResponse:
    """Write an export to a private temp file, send it, then delete it."""
    folder = services.settings.home / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}-{secrets.token_hex(8)}.{fmt}"
    write(path)
    background.add_task(path.unlink, missing_ok=True)
    return FileResponse(path, media_type=MEDIA[fmt], filename=f"{stem}.{fmt}")


@router.get("/enterprises/{uscc}", response_model=dict[str, Any])
def enterprise_profile(uscc: USCC, who: CurrentUser, services: ServicesDep) -> FastJSON:
    """Profile: basics, class, indicators by dimension, records timeline, relations, tags,
    and the enterprise's alerts (newest 50, with their cases)."""
    profile = services.enterprises.profile(who, uscc)
    if not who.is_partner:
        with service_session(services.settings) as s:  # tags and alerts: one session
            profile["tags"] = services.tags.on(s, uscc.upper())
            total, rows = scoped.enterprise_alerts(s, who.prefix, uscc.upper(), 50)
            profile["alerts"] = {"total": total, "items": rows}
    return FastJSON(profile)


@router.get("/enterprises/{uscc}/graph")
def enterprise_graph(
    uscc: USCC,
    who: Staff,
    services: ServicesDep,
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
) -> dict[str, Any]:
    """Persons and enterprises linked to this one (enterprises outside your region hidden)."""
    return services.enterprises.graph(who, uscc, depth)


@router.get("/stats/classes")
def class_stats(
    who: Staff,
    services: ServicesDep,
    by: Annotated[Literal["region", "industry", "month"], Query()] = "region",
) -> dict[str, Any]:
    """Counts by region, industry section or month within your region."""
    return services.enterprises.stats(who, by)
