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
from riskwatch.errors import BusyError
from riskwatch.services.enterprises import EnterpriseService
from riskwatch.services.tags import TagService
from riskwatch.services.users import UserService
from riskwatch.settings import Settings
from riskwatch.store.buckets import SharedBuckets
from riskwatch.store.enterprise_reads import WarehouseReader, preload
from riskwatch.store.locks import WarehouseGate

log = logging.getLogger(__name__)

SESSION_COOKIE = "rw_session"
CSRF_COOKIE = "rw_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Services:
    """Everything a request needs, built once per app (once per worker process).

    The warehouse is opened on first use and held with a shared hold on its gate
    (:class:`~riskwatch.store.locks.WarehouseGate`). When a load wants to write it (an
    upload here or in another worker, or ``riskwatch ingest``), new requests wait, running
    ones finish, the warehouse is closed for the load and opened again after it.
    """

    DRAIN_SECONDS = 60.0
    """How long running requests may take to finish before the warehouse is closed anyway."""
    OPEN_WAIT_SECONDS = 30.0
    """How long a request waits for a load to finish before it is answered 503."""

    def __init__(self, settings: Settings, service: ServiceSettings) -> None:
        self.settings = settings
        self.service = service
        self.users = UserService(settings, service)
        shared = SharedBuckets(settings.home / "ratelimit.sqlite") if service.workers > 1 else None
        self.limiter = RateLimiter(service.rate_per_minute, shared)
        self._reader: WarehouseReader | None = None
        self._reopen = threading.Lock()
        self._gate = WarehouseGate(settings.home)
        self._flow = threading.Condition()  # guards the two below
        self._inflight = 0  # requests running
        self._draining = False  # new requests wait: the warehouse goes to a writer
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()

    # -- requests in and out (api.app.InFlight) ------------------------------------------

    def enter(self) -> bool:
        """Count a request in; False while the warehouse is being handed to a load."""
        with self._flow:
            if self._draining:
                return False
            self._inflight += 1
            return True

    def leave(self) -> None:
        """Count a request out."""
        with self._flow:
            self._inflight -= 1
            self._flow.notify_all()

    def _drain(self, keep: int) -> None:
        """Let no request in, and wait until at most ``keep`` are running."""
        with self._flow:
            self._draining = True
            self._flow.wait_for(lambda: self._inflight <= keep, self.DRAIN_SECONDS)

    def _undrain(self) -> None:
        with self._flow:
            self._draining = False
            self._flow.notify_all()

    # -- the warehouse ---------------------------------------------------------------------

    @property
    def reader(self) -> WarehouseReader:
        """The warehouse, opened on first use (a service may start before the first load)."""
        if self._reader is None:
            with self._reopen:
                return self._open()
        return self._reader

    def _open(self) -> WarehouseReader:
        if self._reader is None:
            if not self._gate.hold(self.OPEN_WAIT_SECONDS):
                raise BusyError("the warehouse is being loaded; try again in a minute", 30)
            try:
                reader = WarehouseReader(
                    self.settings.warehouse_path, self.settings.threads, self.settings.memory_limit
                )
                # Cheap when `riskwatch serve` made the copies already: files found.
                EnterpriseService(self.settings, self.service, reader).prepare()
            except BaseException:
                self._gate.release()
                raise
            self._reader = reader
            self._watch()
        return self._reader

    def _watch(self) -> None:
        """Look out for loads of other processes (started with the first open)."""
        if self._watcher is None:
            self._watcher = threading.Thread(
                target=self._watch_loop, name="warehouse-gate", daemon=True
            )
            self._watcher.start()

    def _watch_loop(self) -> None:
        while not self._stop.wait(0.2):
            if self._reader is not None and self._gate.writer_waiting():
                try:
                    self._let_writer_in()
                except Exception:  # the watcher must survive; the next load retries
                    log.exception("handing the warehouse to a load failed")

    def _let_writer_in(self) -> None:
        """Finish the running requests, close the warehouse, wait for the load."""
        self._drain(keep=0)
        try:
            with self._reopen:
                self.close()
            while self._gate.writer_waiting() and not self._stop.is_set():
                time.sleep(0.1)
        finally:
            self._undrain()

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
        """Release the warehouse for a load by the calling request: the other requests of
        this process finish first, and other processes let go when the load announces
        itself (``open_warehouse`` for writing); reopened on the next use."""
        self._drain(keep=1)  # the calling request itself
        try:
            with self._reopen:
                self.close()
                yield
        finally:
            self._undrain()

    def close(self) -> None:
        """Close the warehouse and let go of the gate."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._gate.release()

    def shutdown(self) -> None:
        """At the app's end: stop watching, close."""
        self._stop.set()
        with self._reopen:
            self.close()


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
