"""Alerts and the case workflow (闭环管理), scoped to the caller's region."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from riskwatch.api.deps import ServicesDep, Staff
from riskwatch.auth.scope import Principal
from riskwatch.errors import NotFoundError
from riskwatch.services import audit, cases
from riskwatch.store.models import audit as scoped
from riskwatch.store.models.users import service_session

router = APIRouter(prefix="/api", tags=["alerts and cases"])
CaseId = Annotated[str, Path(min_length=1, max_length=32)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


class TransitionIn(BaseModel):
    """A step of the workflow."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(min_length=1, max_length=32)
    note: str | None = Field(default=None, max_length=2000)
    expected_version: int | None = Field(default=None, ge=0, le=2**31 - 1)
    assignee: str | None = Field(default=None, max_length=64)
    measures: list[str] | None = Field(default=None, max_length=10)


def _in_scope(services: ServicesDep, who: Principal, case_id: str) -> None:
    with service_session(services.settings) as s:
        region = scoped.case_region(s, case_id)
    if region is None or not who.sees(region):
        raise NotFoundError(f"no case {case_id} in your region")


@router.get("/alerts")
def list_alerts(
    who: Staff,
    services: ServicesDep,
    state: Annotated[str | None, Query(max_length=16)] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    uscc: Annotated[str | None, Query(max_length=18)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Alerts on enterprises in your region (or on one of them), newest first."""
    with service_session(services.settings) as s:
        total, rows = scoped.scoped_alerts(
            s, who.prefix, state, rule, limit, offset, uscc.strip().upper() if uscc else None
        )
        items = [cases.AlertView.model_validate(r).model_dump(mode="json") | {"uscc": r.uscc,
                 "case_id": r.case_id} for r in rows]  # fmt: skip
    audit.record(services.settings, services.service, who.name, "alerts.list", None,
                 {"total": total, "offset": offset})  # fmt: skip
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/cases")
def list_cases(
    who: Staff,
    services: ServicesDep,
    state: Annotated[str | None, Query(max_length=8)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Cases in your region, most urgent deadline first."""
    with service_session(services.settings) as s:
        total, rows = scoped.scoped_cases(s, who.prefix, state, limit, offset)
        items = [cases.CaseView.model_validate(r).model_dump(mode="json") for r in rows]
    audit.record(services.settings, services.service, who.name, "cases.list", None,
                 {"total": total, "offset": offset})  # fmt: skip
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/cases/{case_id}")
def get_case(case_id: CaseId, who: Staff, services: ServicesDep) -> dict[str, Any]:
    """A case with its alerts (and their evidence) and its history."""
    _in_scope(services, who, case_id)
    audit.record(services.settings, services.service, who.name, "case.read", case_id)
    return cases.get_case(services.settings, case_id).model_dump(mode="json")


@router.post("/cases/{case_id}/transition")
def transition(
    case_id: CaseId, body: TransitionIn, who: Staff, services: ServicesDep
) -> dict[str, Any]:
    """Move a case (assign, start, return, dispose, close, false_positive)."""
    _in_scope(services, who, case_id)
    view = cases.transition(
        services.settings, case_id, body.action, actor=who.name, note=body.note,
        expected_version=body.expected_version, assignee=body.assignee, measures=body.measures,
    )  # fmt: skip
    audit.record(services.settings, services.service, who.name, "case.transition", case_id,
                 {"action": body.action, "to": view.state})  # fmt: skip
    return view.model_dump(mode="json")
