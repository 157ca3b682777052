"""A lock held across threads and processes: ``flock`` on a file, waited for in the kernel.

SQLite's own lock makes a second process that wants to write sleep and retry (1, 2, 5,
10 … ms): between the service's worker processes, every collision on the audit log or the
rate-limit buckets cost milliseconds. Writers that take this lock first wait only as long
as the other writer holds it (the kernel wakes them), then find SQLite's lock free.
(``filelock`` from PyPI polls every 50 ms instead of blocking, which is the same problem.)
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import ClassVar

from riskwatch.errors import StoreError


class ProcessLock:
    """An exclusive lock on ``path`` for one thread of one process at a time.

    ``flock`` locks belong to an open file, and a process opens the file once: threads of
    one process take turns on a thread lock, processes on the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread = threading.Lock()
        self._fd: int | None = None

    def __enter__(self) -> ProcessLock:
        self._thread.acquire()
        try:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread.release()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread.release()


_LOCKS: dict[Path, ProcessLock] = {}
_LOCKS_GUARD = threading.Lock()


def _forget_in_child() -> None:  # a forked child shares the parent's open files: own ones
    global _LOCKS_GUARD
    _LOCKS.clear()
    _LOCKS_GUARD = threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)


def process_lock(path: Path) -> ProcessLock:
    """The process's one :class:`ProcessLock` on ``path`` (one open file per process)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(path)
        if lock is None:
            lock = _LOCKS[path] = ProcessLock(path)
        return lock


class WarehouseGate:
    """Hands the warehouse from the processes that keep it open to one writer.

    DuckDB lets a process write a file only while no other process has it open. The
    service's workers keep the warehouse open read-only; each holds a *shared* flock on
    ``HOME/warehouse.gate`` while it does. A writer (a load: an upload through the service,
    or ``riskwatch ingest``) writes a notice, ``HOME/warehouse.writing``, with its process id,
    then waits for the *exclusive* flock: each worker sees the notice, finishes its requests,
    closes the warehouse and lets go; the writer loads, then withdraws the notice, and the
    workers open the warehouse again. A notice whose writer has died is ignored.
    """

    POLL_SECONDS = 0.02
    READER_POLL_SECONDS = 0.2
    _held: ClassVar[Counter[Path]] = Counter()  # gates this process holds (service workers)
    _held_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, home: Path) -> None:
        self.path = home / "warehouse.gate"
        self.notice = home / "warehouse.writing"
        self._shared: int | None = None
        self._lock = threading.Lock()

    # -- readers -------------------------------------------------------------------------

    def hold(self, timeout: float) -> bool:
        """Take the shared hold (waiting while a writer has the warehouse); False if the
        writer did not finish within ``timeout`` seconds."""
        with self._lock:
            if self._shared is not None:
                return True
            fd = self._open()
            if not _flock(fd, fcntl.LOCK_SH, timeout):
                os.close(fd)
                return False
            self._shared = fd
            with WarehouseGate._held_lock:
                WarehouseGate._held[self.path] += 1
            return True

    def release(self) -> None:
        """Let go of the shared hold (after closing the warehouse)."""
        with self._lock:
            if self._shared is not None:
                os.close(self._shared)  # closing the file drops its flock
                self._shared = None
                with WarehouseGate._held_lock:
                    WarehouseGate._held[self.path] -= 1

    def writer_waiting(self) -> bool:
        """Whether another live process has announced a write."""
        try:
            pid = int(self.notice.read_text() or "0")
        except (FileNotFoundError, ValueError):
            return False
        return pid != os.getpid() and _alive(pid)

    @contextmanager
    def reading(self, timeout: float) -> Iterator[None]:
        """A short shared hold for a job that opens the warehouse read-only (an export, a
        scan, a run): it lets an announced or running load finish first (up to ``timeout``
        s), and a load that comes while it reads waits for it.

        In a process that holds the gate already (a service worker: a request, or a job it
        runs), it does not wait for an announced load: that load is waiting for this
        process to let go, so it would wait for the request."""
        deadline = time.monotonic() + timeout
        held = WarehouseGate._held[self.path] > 0
        while not held and self.writer_waiting() and time.monotonic() < deadline:
            time.sleep(self.READER_POLL_SECONDS)
        fd = self._open()
        if not _flock(fd, fcntl.LOCK_SH, max(0.0, deadline - time.monotonic())):
            os.close(fd)
            raise StoreError(
                f"cannot read {self.path.parent / 'warehouse.duckdb'}: a load has been writing "
                f"it for over {timeout:.0f} s; retry when it is done"
            )
        try:
            yield
        finally:
            os.close(fd)

    # -- the writer ----------------------------------------------------------------------

    def writing(self, timeout: float) -> _Writing:
        """Announce a write and wait (up to ``timeout`` s) until every reader has let go."""
        return _Writing(self, timeout)

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)


class _Writing:
    def __init__(self, gate: WarehouseGate, timeout: float) -> None:
        self.gate = gate
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> None:
        gate = self.gate
        gate.path.parent.mkdir(parents=True, exist_ok=True)
        gate.notice.write_text(str(os.getpid()))
        fd = gate._open()
        if not _flock(fd, fcntl.LOCK_EX, self.timeout):
            os.close(fd)
            self._withdraw()
            raise StoreError(
                f"cannot write {gate.path.parent / 'warehouse.duckdb'}: another process still "
                f"has it open after {self.timeout:.0f} s (a long job, or a service that did "
                "not let go); retry when it is done, or stop it"
            )
        self._fd = fd

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._withdraw()

    def _withdraw(self) -> None:
        try:
            if self.gate.notice.read_text() == str(os.getpid()):
                self.gate.notice.unlink()
        except FileNotFoundError:
            pass


def _flock(fd: int, mode: int, timeout: float) -> bool:
    """Take a flock within ``timeout`` seconds (polled: a blocking flock cannot time out)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(WarehouseGate.POLL_SECONDS)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
