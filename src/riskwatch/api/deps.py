"""Dependencies: the services, the caller (bearer token or session cookie + CSRF), roles.

Like the template's ``deps.py``: ``Annotated`` aliases the routes declare as parameters.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from riskwatch.auth.config import ServiceSettings
from riskwatch.auth.ratelimit import RateLimiter
from riskwatch.auth.scope import Principal, Role
from riskwatch.auth.tokens import AuthenticationError
from riskwatch.errors import ConflictError
from riskwatch.services.enterprises import EnterpriseService
from riskwatch.services.tags import TagService
from riskwatch.services.users import UserService
from riskwatch.settings import Settings
from riskwatch.store.buckets import SharedBuckets
from riskwatch.store.enterprise_reads import WarehouseReader, preload

log = logging.getLogger(__name__)

SESSION_COOKIE = "rw_session"
CSRF_COOKIE = "rw_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Services:
    """Everything a request needs, built once per app."""

    def __init__(self, settings: Settings, service: ServiceSettings) -> None:
        self.settings = settings
        self.service = service
        self.users = UserService(settings, service)
        shared = SharedBuckets(settings.home / "ratelimit.sqlite") if service.workers > 1 else None
        self.limiter = RateLimiter(service.rate_per_minute, shared)
        self._reader: WarehouseReader | None = None
        self._reopen = threading.Lock()

    @property
    def reader(self) -> WarehouseReader:
        """The warehouse, opened on first use (a service may start before the first load)."""
        if self._reader is None:
            with self._reopen:
                return self._open()
        return self._reader

    def _open(self) -> WarehouseReader:
        if self._reader is None:
            reader = WarehouseReader(
                self.settings.warehouse_path, self.settings.threads, self.settings.memory_limit
            )
            # Cheap when `riskwatch serve` built the copies already: a fingerprint check.
            EnterpriseService(self.settings, self.service, reader).prepare()
            self._reader = reader
        return self._reader

    def preload(self) -> None:
        """Open the warehouse and read the profile copies into memory (at start-up)."""
        started = time.monotonic()
        self.enterprises.prepare(wait=True)  # made by `riskwatch serve` already, if it ran
        read = preload(self.reader, self.settings.home)
        log.warning(
            "preloaded %s in %.1f s", ", ".join(read) or "nothing", time.monotonic() - started
        )

    @property
    def enterprises(self) -> EnterpriseService:
        return EnterpriseService(self.settings, self.service, self.reader)

    @property
    def tags(self) -> TagService:
        return TagService(self.settings, self.service, self.reader)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Release the read-only warehouse for a load in this process, reopen after.

        Not with several worker processes: the others keep the warehouse open, and DuckDB
        lets a process write it only when no other process has it open.
        """
        if self.service.workers > 1:
            raise ConflictError(
                "loads through the service need it to run as one process "
                "(riskwatch serve --workers 1); or stop it and run riskwatch ingest"
            )
        with self._reopen:
            self.close()
            yield

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

# auto_error=False: the web sends a cookie instead of the header.
bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def current_principal(
    request: Request, services: ServicesDep, token: Annotated[str | None, Depends(bearer)]
) -> Principal:
    """The caller: a bearer token, or a session cookie (plus CSRF on anything but GET)."""
    if token:
        who = services.users.resolve(token)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise AuthenticationError("log in first: POST /api/auth/token")
        who = services.users.resolve(
            cookie,
            csrf=request.headers.get(CSRF_HEADER),
            need_csrf=request.method not in SAFE_METHODS,
        )
    services.limiter.hit(f"user:{who.user_id}")
    if who.token_id is not None:
        services.limiter.hit(f"token:{who.token_id}")
    return who


CurrentUser = Annotated[Principal, Depends(current_principal)]


def staff(who: CurrentUser) -> Principal:
    """Any role but partner."""
    who.require(Role.ADMIN, Role.ANALYST, Role.INSPECTOR)
    return who


def analyst(who: CurrentUser) -> Principal:
    """Analysts and admins."""
    who.require(Role.ADMIN, Role.ANALYST)
    return who


def admin(who: CurrentUser) -> Principal:
    """Admins only."""
    who.require(Role.ADMIN)
    return who


Staff = Annotated[Principal, Depends(staff)]
Analyst = Annotated[Principal, Depends(analyst)]
Admin = Annotated[Principal, Depends(admin)]
