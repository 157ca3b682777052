"""Administration: users, partner tokens, the audit log, job history, uploads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, UploadFile

from riskwatch.api.deps import Admin, ServicesDep
from riskwatch.api.schemas import PartnerTokenIn, UserIn
from riskwatch.errors import InputError
from riskwatch.services import audit, imports, jobs

router = APIRouter(prefix="/api/admin", tags=["admin"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=100_000_000)]


@router.get("/users")
def list_users(who: Admin, services: ServicesDep) -> list[dict[str, Any]]:
    """Every account."""
    return services.users.list_users()


@router.post("/users", status_code=201)
def add_user(body: UserIn, who: Admin, services: ServicesDep) -> dict[str, Any]:
    """Create an account within your own region."""
    who.require_scope_within(body.region)
    user_id = services.users.add_user(body.name, body.role, body.region, body.password)
    audit.record(services.settings, services.service, who.name, "user.add", body.name,
                 {"role": body.role, "region": body.region})  # fmt: skip
    return {"id": user_id, "name": body.name, "role": body.role, "region": body.region}


@router.get("/tokens")
def list_tokens(who: Admin, services: ServicesDep) -> list[dict[str, Any]]:
    """Every token (never its value)."""
    return services.users.list_tokens()


@router.post("/tokens", status_code=201)
def issue_token(body: PartnerTokenIn, who: Admin, services: ServicesDep) -> dict[str, Any]:
    """Issue a partner token (shown once)."""
    issued = services.users.issue_partner_token(body.partner, body.fields, body.expires)
    detail = {"token": issued.token_id, "fields": body.fields, "expires": body.expires}
    audit.record(services.settings, services.service, who.name, "token.issue", body.partner, detail)
    return {"id": issued.token_id, "token": issued.token,
            "expires_at": issued.expires_at.isoformat()}  # fmt: skip


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], who: Admin, services: ServicesDep
) -> None:
    """Revoke a token at once."""
    services.users.revoke(token_id)
    audit.record(services.settings, services.service, who.name, "token.revoke", str(token_id))


@router.get("/audit")
def audit_log(
    who: Admin,
    services: ServicesDep,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The audit log, newest first."""
    total, items = audit.browse(services.settings, limit, offset, actor, action)
    audit.record(services.settings, services.service, who.name, "audit.read")
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/audit/verify")
def audit_verify(who: Admin, services: ServicesDep) -> dict[str, Any]:
    """Check the hash chain; names the first edited, removed or reordered entry."""
    report = audit.verify(services.settings, services.service)
    return {"ok": report.ok, "entries": report.entries, "first_bad": report.first_bad,
            "problems": report.problems}  # fmt: skip


@router.get("/jobs")
def job_history(
    who: Admin,
    services: ServicesDep,
    job: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Job runs (start, end, status, run id, counts), newest first."""
    total, items = jobs.history(services.settings, limit, offset, job)
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.post("/uploads")
def upload(file: UploadFile, who: Admin, services: ServicesDep) -> dict[str, Any]:
    """Load an Excel/CSV file through the ingest (same validation, quarantine, report)."""
    if not file.filename:
        raise InputError("the upload has no file name")
    data = file.file.read(imports.MAX_BYTES + 1)
    imports.validate_upload(file.filename, len(data))
    with services.exclusive():
        report = imports.import_upload(services.settings, file.filename, data)
    audit.record(services.settings, services.service, who.name, "upload", file.filename,
                 {"load_id": report.load_id,
                  "tables": {k: v.rows_loaded for k, v in report.tables.items()}})  # fmt: skip
    return report.model_dump(mode="json")
