"""Log in (bearer token or web session), log out, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from riskwatch.api.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentUser, ServicesDep
from riskwatch.api.schemas import MeOut, SessionOut, TokenOut
from riskwatch.auth.scope import ROLES
from riskwatch.services import audit

router = APIRouter(prefix="/api", tags=["auth"])
Form = Annotated[OAuth2PasswordRequestForm, Depends()]


@router.post("/auth/token", response_model=TokenOut)
def token(form: Form, services: ServicesDep) -> TokenOut:
    """OAuth2 password flow: a bearer token for the API."""
    try:
        issued = services.users.login(form.username, form.password, "bearer")
    except Exception:
        audit.record(services.settings, services.service, form.username[:128], "login.failed")
        raise
    audit.record(services.settings, services.service, form.username, "login", None,
                 {"token": issued.token_id, "kind": "bearer"})  # fmt: skip
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at.isoformat())


@router.post("/auth/session", response_model=SessionOut)
def session(form: Form, services: ServicesDep, response: Response) -> SessionOut:
    """Web log-in: an HttpOnly SameSite session cookie and a CSRF token."""
    try:
        issued = services.users.login(form.username, form.password, "session")
    except Exception:
        audit.record(services.settings, services.service, form.username[:128], "login.failed")
        raise
    audit.record(services.settings, services.service, form.username, "login", None,
                 {"token": issued.token_id, "kind": "session"})  # fmt: skip
    secure = services.service.cookie_secure
    max_age = services.service.token_minutes * 60
    response.set_cookie(SESSION_COOKIE, issued.token, max_age=max_age, httponly=True,
                        secure=secure, samesite="strict", path="/")  # fmt: skip
    # Readable by the page's script, which echoes it in X-CSRF-Token (double submit).
    response.set_cookie(CSRF_COOKIE, issued.csrf or "", max_age=max_age, httponly=False,
                        secure=secure, samesite="strict", path="/")  # fmt: skip
    return SessionOut(csrf_token=issued.csrf or "", expires_at=issued.expires_at.isoformat())


@router.post("/auth/logout", status_code=204)
def logout(who: CurrentUser, request: Request, services: ServicesDep, response: Response) -> None:
    """Revoke the token or session used for this request."""
    raw = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    services.users.revoke_raw(raw or request.cookies.get(SESSION_COOKIE, ""))
    audit.record(services.settings, services.service, who.name, "logout", None,
                 {"token": who.token_id})  # fmt: skip
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/me", response_model=MeOut)
def me(who: CurrentUser) -> MeOut:
    """The caller's name, role, region scope and (for partners) allowed fields."""
    return MeOut(
        name=who.name,
        role=who.role.value,
        role_zh=ROLES[who.role],
        region=who.region,
        token_kind=who.token_kind,
        fields=sorted(who.fields) if who.fields is not None else None,
    )
