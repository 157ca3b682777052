"""Per-caller rate limits: a token bucket per user or token.

In process memory for one service process; in a :class:`BucketStore` shared by the
processes when the service runs several workers (each would otherwise allow the whole rate,
and a user's requests are spread over the workers).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from riskwatch.errors import RiskwatchError


class RateLimitedError(RiskwatchError):
    """Too many requests from one user or token."""

    status_code = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many requests; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


class BucketStore(Protocol):
    """Buckets kept outside the process (see :class:`riskwatch.store.buckets.SharedBuckets`)."""

    def take(self, key: str, capacity: float, rate: float, now: float) -> float:
        """Take a token from ``key``'s bucket: 0.0, or the seconds until one is there."""
        ...


class RateLimiter:
    """``per_minute`` requests per key, refilled continuously, bursts up to the same."""

    def __init__(self, per_minute: int, shared: BucketStore | None = None) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.shared = shared
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Take one request from ``key``'s bucket or raise :class:`RateLimitedError`."""
        now = time.monotonic()
        if self.shared is not None:
            wait = self.shared.take(key, self.capacity, self.rate, now)
            if wait > 0:
                raise RateLimitedError(wait)
            return
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimitedError((1.0 - tokens) / self.rate)
            self._buckets[key] = (tokens - 1.0, now)
