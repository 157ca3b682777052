"""Opaque random tokens: handed out once, stored only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from riskwatch.errors import RiskwatchError


class AuthenticationError(RiskwatchError):
    """No valid credentials: wrong password, unknown, expired or revoked token."""

    status_code = 401


def new_token() -> str:
    """A fresh 256-bit token, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(secret_key: str, raw: str) -> str:
    """The keyed hash under which a token is stored (a stolen table yields no tokens)."""
    return hmac.new(secret_key.encode(), raw.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def utc(value: datetime) -> datetime:
    """A stored datetime as aware UTC (SQLite hands them back naive)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)
