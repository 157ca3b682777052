"""The FastAPI app factory: services on ``app.state``, one error handler, routes, static."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riskwatch import __version__
from riskwatch.api.deps import Services
from riskwatch.api.routes import admin as admin_routes
from riskwatch.api.routes import auth, enterprises, screening
from riskwatch.auth.config import ServiceSettings, get_service_settings
from riskwatch.auth.ratelimit import RateLimitedError
from riskwatch.errors import BusyError, RiskwatchError
from riskwatch.settings import Settings, get_settings

STATIC = Path(__file__).resolve().parents[1] / "web" / "static"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response that lacks them (plain ASGI:
    Starlette's ``BaseHTTPMiddleware`` costs a task and a stream copy per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in self.extra if k not in have),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


class InFlight:
    """Counts requests in and out of :class:`Services`, which hands the warehouse to a load
    only between requests; while it does, a request waits (up to
    ``Services.OPEN_WAIT_SECONDS``), then is answered 503 with ``Retry-After``."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        waited = 0.0
        while not self.services.enter():  # a load is taking the warehouse: rare
            if waited >= self.services.OPEN_WAIT_SECONDS:
                busy = JSONResponse(
                    {"detail": "the warehouse is being loaded; try again in a minute"},
                    503,
                    headers={"Retry-After": "30"},
                )
                await busy(scope, receive, send)
                return
            await asyncio.sleep(0.05)
            waited += 0.05
        try:
            await self.app(scope, receive, send)
        finally:
            self.services.leave()


def create_app(settings: Settings | None = None, service: ServiceSettings | None = None) -> FastAPI:
    """Build the app for ``settings`` (the process settings by default)."""
    settings = settings or get_settings()
    service = service or get_service_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.serve_preload and settings.warehouse_path.exists():
            await asyncio.to_thread(app.state.services.preload)  # before the first request
        yield
        app.state.services.shutdown()

    app = FastAPI(
        title="riskwatch",
        version=__version__,
        description="企业信用风险分类管理 — internal results: every access is audited.",
        lifespan=lifespan,
    )
    app.state.services = Services(settings, service)

    @app.exception_handler(RiskwatchError)
    async def _riskwatch_error(_request: Request, exc: RiskwatchError) -> JSONResponse:
        headers = {}
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, RateLimitedError | BusyError):
            headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        return JSONResponse({"detail": exc.message}, exc.status_code, headers=headers)

    app.add_middleware(InFlight, services=app.state.services)
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, InFlight's 503 too

    for module in (auth, enterprises, screening, admin_routes):
        app.include_router(module.router)
    _optional_routes(app)
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _optional_routes(app: FastAPI) -> None:
    """Routes of later stages (cases, sampling), included when their modules exist."""
    import importlib

    for name in (
        "riskwatch.api.routes.cases",
        "riskwatch.api.routes.sampling",
        "riskwatch.api.routes.web",
    ):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        app.include_router(module.router)
