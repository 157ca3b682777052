"""Random inspection (双随机、一公开): plans, draws, assignment, results, reports — scoped."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path, UploadFile

from riskwatch.api.deps import Analyst, ServicesDep, Staff
from riskwatch.auth.scope import Principal, covers
from riskwatch.errors import InputError, NotFoundError
from riskwatch.sampling.policy import PlanSpec
from riskwatch.services import audit, sampling
from riskwatch.store import sampling as store

router = APIRouter(prefix="/api/sampling", tags=["sampling"])
Ref = Annotated[str, Path(min_length=1, max_length=200)]


def _covered(who: Principal, regions: list[str]) -> bool:
    """Whether every region a plan covers lies in the caller's scope."""
    if not regions:
        return who.prefix == ""
    return all(r.isdigit() and r.startswith(who.prefix) for r in regions)


def _plan(services: ServicesDep, who: Principal, ref: str, whole: bool) -> tuple[Any, Any]:
    plan, rows = store.find_plan(services.settings, ref)
    regions = list((plan.get("spec") or {}).get("scope", {}).get("regions", []))
    mine = [r for r in rows if covers(who.region, r.get("region_code"))]
    if (whole and not _covered(who, regions)) or (not whole and not mine and rows):
        raise NotFoundError(f"no sampling plan {ref!r} in your region")
    return plan, mine


@router.get("/plans")
def list_plans(who: Staff, services: ServicesDep) -> list[dict[str, Any]]:
    """Plans whose scope lies in your region, newest first."""
    out = []
    for p in store.list_plans(services.settings):
        plan, _rows = store.find_plan(services.settings, str(p["id"]))
        regions = list((plan.get("spec") or {}).get("scope", {}).get("regions", []))
        if _covered(who, regions):
            out.append({k: (str(v) if k == "as_of" else v) for k, v in p.items()})
    return out


@router.post("/plans", status_code=201)
def create_plan(spec: PlanSpec, who: Analyst, services: ServicesDep) -> dict[str, Any]:
    """Draw a plan within your region (its scope defaults to your region)."""
    if not spec.scope.regions and who.prefix:
        spec.scope.regions = [who.prefix]
    if not _covered(who, spec.scope.regions):
        raise InputError(f"a plan's regions must lie within your region {who.region}")
    outcome = sampling.PlanService(services.settings).run(spec, actor=who.name)
    audit.record(services.settings, services.service, who.name, "sampling.plan",
                 outcome.plan_id, {"drawn": outcome.drawn})  # fmt: skip
    return outcome.model_dump(mode="json")


@router.get("/plans/{ref}")
def get_plan(ref: Ref, who: Staff, services: ServicesDep) -> dict[str, Any]:
    """A plan and its drawn enterprises in your region."""
    plan, rows = _plan(services, who, ref, whole=False)
    audit.record(services.settings, services.service, who.name, "sampling.read", str(plan["id"]))
    return {"plan": _jsonable(plan), "draws": [_jsonable(r) for r in rows]}


@router.post("/plans/{ref}/assign")
def assign(ref: Ref, who: Analyst, services: ServicesDep) -> dict[str, Any]:
    """Assign inspectors at random (with recusals) to a plan in your region."""
    plan, _rows = _plan(services, who, ref, whole=True)
    result = sampling.assign_plan(services.settings, str(plan["id"]))
    audit.record(services.settings, services.service, who.name, "sampling.assign", str(plan["id"]))
    return {"plan_id": plan["id"], "sha256": getattr(result, "sha256", None)}


@router.get("/plans/{ref}/verify")
def verify(ref: Ref, who: Staff, services: ServicesDep) -> dict[str, Any]:
    """Recompute the draw and the assignment and compare them with what is stored."""
    plan, _rows = _plan(services, who, ref, whole=True)
    result = sampling.verify(services.settings, str(plan["id"]))
    return dict(_jsonable(result.model_dump() if hasattr(result, "model_dump") else vars(result)))


@router.get("/plans/{ref}/report")
def report(ref: Ref, who: Staff, services: ServicesDep) -> dict[str, Any]:
    """Discovery rate per class and the Horvitz–Thompson estimate of a plan."""
    plan, _rows = _plan(services, who, ref, whole=True)
    est = sampling.report(services.settings, str(plan["id"]))
    audit.record(services.settings, services.service, who.name, "sampling.report", str(plan["id"]))
    return dict(_jsonable(est.model_dump() if hasattr(est, "model_dump") else vars(est)))


@router.post("/plans/{ref}/results")
def results(ref: Ref, file: UploadFile, who: Analyst, services: ServicesDep) -> dict[str, Any]:
    """Import a plan's inspection results (Excel/CSV) through the ingest."""
    plan, _rows = _plan(services, who, ref, whole=True)
    name = file.filename or "results.xlsx"
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix not in (".xlsx", ".csv"):
        raise InputError("upload the results as .xlsx or .csv")
    folder = services.settings.home / "uploads" / secrets.token_hex(8)
    folder.mkdir(parents=True)
    path = folder / f"results{suffix}"
    path.write_bytes(file.file.read(50 * 2**20))
    outcome = sampling.ResultsService(services.settings).run(str(plan["id"]), path)
    audit.record(services.settings, services.service, who.name, "sampling.results",
                 str(plan["id"]), {"loaded": outcome.rows_loaded})  # fmt: skip
    return outcome.model_dump(mode="json")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    return str(obj)
