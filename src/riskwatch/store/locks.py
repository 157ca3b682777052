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
from pathlib import Path
from types import TracebackType


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
