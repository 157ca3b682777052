"""Region scopes, passwords, the rate limiter, token expiry parsing and secret settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from riskwatch.auth import passwords
from riskwatch.auth.config import DEFAULT_SECRET, ServiceSettings
from riskwatch.auth.ratelimit import RateLimitedError, RateLimiter
from riskwatch.auth.scope import Principal, Role, covers, region_prefix
from riskwatch.errors import InputError, PermissionDeniedError
from riskwatch.services.users import parse_expires

codes = st.from_regex(r"\d{6}", fullmatch=True)


def test_scopes_nest_province_city_district() -> None:
    assert covers("410000", "410105") and covers("410100", "410105") and covers("410105", "410105")
    assert not covers("410105", "410102") and not covers("410100", "410200")
    assert not covers("410000", "420100") and covers("000000", "650102")
    assert not covers("410105", None) and covers("000000", None)
    assert [region_prefix(c) for c in ("410000", "410100", "410105")] == ["41", "4101", "410105"]


@given(scope=codes, code=codes)
def test_a_scope_covers_exactly_the_codes_under_it(scope: str, code: str) -> None:
    assert covers(scope, code) == code.startswith(region_prefix(scope))
    # Whatever a district sees, its city and province see too.
    if covers(scope, code):
        assert covers(scope[:4] + "00", code) and covers(scope[:2] + "0000", code)


@pytest.mark.parametrize("bad", ["41010", "4101050", "41010a", "", "41 105"])
def test_bad_region_codes_are_refused(bad: str) -> None:
    with pytest.raises(InputError):
        region_prefix(bad)


def test_roles_and_fields() -> None:
    p = Principal(1, "a", Role.PARTNER, "410100", fields=frozenset({"uscc", "class"}))
    assert p.is_partner and p.allowed("class") and not p.allowed("name")
    with pytest.raises(PermissionDeniedError):
        p.require(Role.ADMIN, Role.ANALYST)
    with pytest.raises(PermissionDeniedError):
        Principal(2, "b", Role.ADMIN, "410105").require_scope_within("410100")


def test_passwords_are_argon2_and_verify() -> None:
    stored = passwords.hash_password("Correct-horse-9")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "Correct-horse-9")
    assert not passwords.verify_password(stored, "correct-horse-9")
    assert not passwords.verify_password(None, "anything-at-all")
    assert not passwords.verify_password("not-a-hash", "x")
    for weak in ("short1", "onlyletterslong", "12345678901"):
        with pytest.raises(InputError):
            passwords.check_policy(weak)


def test_the_rate_limiter_refuses_a_burst_and_keys_are_separate() -> None:
    limiter = RateLimiter(per_minute=3)
    for _ in range(3):
        limiter.hit("user:1")
    with pytest.raises(RateLimitedError) as exc:
        limiter.hit("user:1")
    assert exc.value.status_code == 429 and exc.value.retry_after > 0
    limiter.hit("user:2")


def test_expiry_parsing() -> None:
    assert parse_expires("90d") == timedelta(days=90)
    assert parse_expires("12h") == timedelta(hours=12)
    for bad in ("0d", "90", "1w", "-3d"):
        with pytest.raises(InputError):
            parse_expires(bad)


def test_default_secrets_are_refused_outside_development() -> None:
    assert ServiceSettings(environment="development").secret_key == DEFAULT_SECRET
    for env in ("test", "production"):
        with pytest.raises(ValidationError, match="RISKWATCH_SECRET_KEY"):
            ServiceSettings(environment=env)
        with pytest.raises(ValidationError):
            ServiceSettings(environment=env, secret_key="too-short")
    assert ServiceSettings(environment="production", secret_key="k" * 40).secret_key == "k" * 40
