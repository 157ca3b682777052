"""Per-caller rate limits: a token bucket per user or token, in process memory."""

from __future__ import annotations

import threading
import time

from riskwatch.errors import RiskwatchError


class RateLimitedError(RiskwatchError):
    """Too many requests from one user or token."""

    status_code = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many requests; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


class RateLimiter:
    """``per_minute`` requests per key, refilled continuously, bursts up to the same."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Take one request from ``key``'s bucket or raise :class:`RateLimitedError`."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimitedError((1.0 - tokens) / self.rate)
            self._buckets[key] = (tokens - 1.0, now)
