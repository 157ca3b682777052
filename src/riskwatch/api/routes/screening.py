"""Screening (combinable rules over six layers), saved screenings and tags."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query
from fastapi.responses import FileResponse

from riskwatch.api.deps import Analyst, Services, ServicesDep, Staff
from riskwatch.api.routes.enterprises import send_export
from riskwatch.api.schemas import Page, RuleIn, SavedIn, TaggingIn, TagIn
from riskwatch.auth.scope import Principal
from riskwatch.services import audit
from riskwatch.services import screening as saved_screenings
from riskwatch.services.screening import catalogue, parse_rule
from riskwatch.store.enterprise_reads import ListQuery

router = APIRouter(prefix="/api", tags=["screening"])
TagName = Annotated[str, Path(min_length=1, max_length=64)]


def _query(services: Services, who: Principal, body: RuleIn) -> ListQuery:
    rule = parse_rule(body.rule)
    return services.enterprises.list_query(
        who, rule=rule, as_of=body.as_of, tag_lookup=lambda name: services.tags.members(who, name)
    )


@router.get("/screening/fields")
def screening_fields(who: Staff) -> list[dict[str, Any]]:
    """The fields, layers and operators a screening rule may use."""
    return catalogue()


@router.post("/screening", response_model=Page)
def screen(body: RuleIn, who: Staff, services: ServicesDep) -> dict[str, Any]:
    """Run a rule tree over your region's enterprises (values are bound, never spliced)."""
    query = _query(services, who, body)
    return services.enterprises.page(who, query, body.limit, body.offset, "screening.run")


@router.post("/screening/export")
def screen_export(
    body: RuleIn,
    who: Analyst,
    services: ServicesDep,
    background: BackgroundTasks,
    format: Annotated[Literal["xlsx", "csv"], Query()] = "xlsx",
) -> FileResponse:
    """The enterprises a rule finds, as an Excel (or CSV) file."""
    query = _query(services, who, body)
    return send_export(
        services, background, format, "screening",
        lambda path: services.enterprises.export(who, query, path, "screening"),
    )  # fmt: skip


@router.get("/screening/saved")
def list_saved(who: Staff, services: ServicesDep) -> list[dict[str, Any]]:
    """Your saved screenings."""
    return saved_screenings.list_saved(services.settings, who)


@router.post("/screening/saved", status_code=201)
def save(body: SavedIn, who: Staff, services: ServicesDep) -> dict[str, Any]:
    """Keep a rule tree under a name."""
    out = saved_screenings.save(services.settings, who, body.name, body.rule)
    audit.record(services.settings, services.service, who.name, "screening.save", body.name)
    return out


@router.get("/tags")
def list_tags(who: Staff, services: ServicesDep) -> list[dict[str, Any]]:
    """Tag definitions (object, behaviour and class tags)."""
    return services.tags.definitions()


@router.post("/tags", status_code=201)
def create_tag(body: TagIn, who: Analyst, services: ServicesDep) -> dict[str, Any]:
    """Define a tag; with a rule tree it is rule-made (apply it with /apply)."""
    return services.tags.create(who, body.name, body.kind, body.rule)


@router.post("/tags/{name}/enterprises")
def tag_enterprises(
    name: TagName, body: TaggingIn, who: Staff, services: ServicesDep
) -> dict[str, int]:
    """Put a manual tag on (or take it off) enterprises in your region."""
    return {"changed": services.tags.tag(who, name, body.usccs, body.remove)}


@router.post("/tags/{name}/apply")
def apply_tag(name: TagName, who: Analyst, services: ServicesDep) -> dict[str, int]:
    """Re-apply a rule-made tag over your region."""
    return {"members": services.tags.apply_rule(who, name)}
