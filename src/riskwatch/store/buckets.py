"""Rate-limit buckets shared by processes: the service's workers count one user's requests
together, whichever worker answers them.

One SQLite file (``$RISKWATCH_HOME/ratelimit.sqlite``), a row per key: its tokens and when
they were counted. Each take is one short write transaction; SQLite's lock serialises the
workers. Losing the file loses nothing but the current counts, so it is written without
fsync (``synchronous=OFF``): a take costs tens of microseconds, not a disk flush.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from riskwatch.store.locks import process_lock


class SharedBuckets:
    """Token buckets in a SQLite file, safe across threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=OFF")
            con.execute(
                "CREATE TABLE IF NOT EXISTS buckets "
                "(key TEXT PRIMARY KEY, tokens REAL NOT NULL, at REAL NOT NULL)"
            )
            self._local.con = con
        return con

    def take(self, key: str, capacity: float, rate: float, now: float) -> float:
        """Take one token from ``key``'s bucket (``capacity`` tokens, refilled at ``rate``
        a second); 0.0 when taken, else the seconds until one is there.

        ``now`` must come from a clock all processes share (``time.monotonic()`` on Linux
        is the machine's boot clock).
        """
        con = self._connection()
        with process_lock(self.lock_path):  # wait in the kernel, not in SQLite's retry sleeps
            return self._take(con, key, capacity, rate, now)

    def _take(
        self, con: sqlite3.Connection, key: str, capacity: float, rate: float, now: float
    ) -> float:
        con.execute("BEGIN IMMEDIATE")  # the write lock first: no lost update between workers
        try:
            row = con.execute("SELECT tokens, at FROM buckets WHERE key = ?", (key,)).fetchone()
            tokens = capacity if row is None else min(capacity, row[0] + (now - row[1]) * rate)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate
            left = tokens - 1.0 if wait == 0.0 else tokens
            con.execute(
                "INSERT INTO buckets VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
                (key, left, now),
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return wait
