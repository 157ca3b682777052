"""Use cases on accounts: add users, log in (with lockout), resolve and revoke tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from riskwatch.auth import passwords
from riskwatch.auth.config import ServiceSettings
from riskwatch.auth.scope import PARTNER_FIELDS, Principal, Role, normalize_region
from riskwatch.auth.tokens import AuthenticationError, new_token, now, same, token_hash, utc
from riskwatch.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from riskwatch.settings import Settings
from riskwatch.store.models import users as store

_NAME = re.compile(r"^[\w\-.\u4e00-\u9fff]{2,64}$")
_EXPIRES = re.compile(r"^(\d+)([dhm])$")


@dataclass(frozen=True)
class IssuedToken:
    """A token as handed out: the raw value is shown once and never stored."""

    token: str
    token_id: int
    kind: str
    expires_at: datetime
    csrf: str | None = None


def parse_expires(text: str) -> timedelta:
    """``90d``, ``12h`` or ``30m`` as a duration."""
    m = _EXPIRES.match(text.strip())
    if m is None or int(m.group(1)) <= 0:
        raise InputError(f"expiry {text!r} must look like 90d, 12h or 30m")
    n, unit = int(m.group(1)), m.group(2)
    return {"d": timedelta(days=n), "h": timedelta(hours=n), "m": timedelta(minutes=n)}[unit]


class UserService:
    """Accounts and tokens in the operational store."""

    def __init__(self, settings: Settings, service: ServiceSettings) -> None:
        self.settings = settings
        self.service = service

    # -- accounts --------------------------------------------------------------------

    def validate_user(self, name: str, role: str, region: str, password: str | None) -> Role:
        """Check a new account's fields (a partner has no password)."""
        if not _NAME.match(name):
            raise InputError(f"user name {name!r}: 2–64 letters, digits, Chinese, - . _")
        try:
            parsed = Role(role)
        except ValueError:
            raise InputError(f"role {role!r} must be one of {[r.value for r in Role]}") from None
        normalize_region(region)
        if parsed is not Role.PARTNER:
            if password is None:
                raise InputError("a password is required")
            passwords.check_policy(password)
        return parsed

    def add_user(self, name: str, role: str, region: str, password: str | None) -> int:
        """Create an account; returns its id."""
        parsed = self.validate_user(name, role, region, password)
        with store.service_session(self.settings) as s:
            if store.user_by_name(s, name) is not None:
                raise ConflictError(f"user {name!r} exists")
            user = store.User(
                name=name,
                role=parsed.value,
                region=normalize_region(region),
                password_hash=passwords.hash_password(password) if password else None,
                active=True,
                failed_logins=0,
                created_at=now(),
            )
            s.add(user)
            s.flush()
            return user.id

    def list_users(self) -> list[dict[str, object]]:
        """Every account (no hashes)."""
        with store.service_session(self.settings) as s:
            return [
                {"id": u.id, "name": u.name, "role": u.role, "region": u.region,
                 "active": u.active,
                 "locked": u.locked_until is not None and utc(u.locked_until) > now()}
                for u in store.list_users(s)
            ]  # fmt: skip

    # -- log in ------------------------------------------------------------------------

    def login(self, name: str, password: str, kind: str = "bearer") -> IssuedToken:
        """Check a password (locking the account after repeated failures); issue a token."""
        cfg = self.service
        with store.service_session(self.settings) as s:
            user = store.user_by_name(s, name)
            ok = passwords.verify_password(user.password_hash if user else None, password)
            if user is None or not user.active or user.role == Role.PARTNER.value:
                raise AuthenticationError("wrong user name or password")
            if user.locked_until is not None and utc(user.locked_until) > now():
                raise AuthenticationError(
                    f"account locked after {cfg.lockout_failures} failed logins; "
                    f"try again after {utc(user.locked_until):%H:%M} UTC or ask an admin"
                )
            if not ok:
                user.failed_logins += 1
                if user.failed_logins >= cfg.lockout_failures:
                    user.locked_until = now() + timedelta(minutes=cfg.lockout_minutes)
                    user.failed_logins = 0
                s.commit()
                raise AuthenticationError("wrong user name or password")
            user.failed_logins = 0
            user.locked_until = None
            if user.password_hash and passwords.needs_rehash(user.password_hash):
                user.password_hash = passwords.hash_password(password)
            return self._issue(s, user.id, kind, timedelta(minutes=cfg.token_minutes), None)

    def unlock(self, name: str) -> None:
        """Lift a lockout."""
        with store.service_session(self.settings) as s:
            user = store.user_by_name(s, name)
            if user is None:
                raise NotFoundError(f"no user {name!r}")
            user.locked_until = None
            user.failed_logins = 0

    # -- tokens ------------------------------------------------------------------------

    def _issue(
        self, s: store.DbSession, user_id: int, kind: str, ttl: timedelta, fields: list[str] | None
    ) -> IssuedToken:
        raw = new_token()
        csrf = new_token() if kind == "session" else None
        expires = now() + ttl
        token = store.ApiToken(
            token_hash=token_hash(self.service.secret_key, raw),
            kind=kind,
            user_id=user_id,
            fields=fields,
            csrf_hash=token_hash(self.service.secret_key, csrf) if csrf else None,
            created_at=now(),
            expires_at=expires,
        )
        s.add(token)
        s.flush()
        return IssuedToken(raw, token.id, kind, expires, csrf)

    def issue_partner_token(self, partner: str, fields: list[str], expires: str) -> IssuedToken:
        """A scoped, expiring, revocable token for a partner department's account."""
        wanted = sorted({f.strip() for f in fields if f.strip()})
        unknown = sorted(set(wanted) - PARTNER_FIELDS)
        if not wanted or unknown:
            raise InputError(
                f"fields {unknown or wanted} not shareable; choose from {sorted(PARTNER_FIELDS)}"
            )
        ttl = parse_expires(expires)
        if ttl > timedelta(days=366):
            raise InputError("a partner token expires within a year; issue a new one then")
        with store.service_session(self.settings) as s:
            user = store.user_by_name(s, partner)
            if user is None or user.role != Role.PARTNER.value:
                raise NotFoundError(
                    f"no partner account {partner!r}: "
                    f"riskwatch users add {partner} --role partner --region CODE"
                )
            return self._issue(s, user.id, "partner", ttl, ["uscc", *wanted])

    def revoke(self, token_id: int) -> None:
        """Revoke a token at once."""
        with store.service_session(self.settings) as s:
            token = s.get(store.ApiToken, token_id)
            if token is None:
                raise NotFoundError(f"no token {token_id}")
            token.revoked_at = token.revoked_at or now()

    def revoke_raw(self, raw: str) -> None:
        """Revoke the token presented (log out)."""
        with store.service_session(self.settings) as s:
            found = store.token_with_user(s, token_hash(self.service.secret_key, raw))
            if found is not None:
                found[0].revoked_at = found[0].revoked_at or now()

    def list_tokens(self) -> list[dict[str, object]]:
        """Every token (never its value)."""
        with store.service_session(self.settings) as s:
            names = {u.id: u.name for u in store.list_users(s)}
            return [
                {"id": t.id, "user": names.get(t.user_id), "kind": t.kind, "fields": t.fields,
                 "expires_at": utc(t.expires_at).isoformat(),
                 "revoked": t.revoked_at is not None}
                for t in store.tokens_of(s)
            ]  # fmt: skip

    def resolve(self, raw: str, csrf: str | None = None, need_csrf: bool = False) -> Principal:
        """The caller behind a token; refuses unknown, expired and revoked tokens.

        A web session changing anything must also present its CSRF token.
        """
        with store.service_session(self.settings) as s:
            row = store.token_principal(s, token_hash(self.service.secret_key, raw))
        if row is None:
            raise AuthenticationError("unknown token")
        if row.revoked_at is not None:
            raise AuthenticationError("this token was revoked")
        if utc(row.expires_at) <= now():
            raise AuthenticationError("this token expired; log in again")
        if not row.active:
            raise AuthenticationError("this account is disabled")
        if need_csrf and row.kind == "session":
            given = token_hash(self.service.secret_key, csrf) if csrf else ""
            if not row.csrf_hash or not same(given, row.csrf_hash):
                raise PermissionDeniedError("missing or wrong CSRF token (header X-CSRF-Token)")
        fields = frozenset(row.fields) if row.fields is not None else None
        if row.role == Role.PARTNER.value and fields is None:
            fields = frozenset({"uscc"})
        return Principal(
            user_id=row.user_id,
            name=row.name,
            role=Role(row.role),
            region=row.region,
            token_id=row.token_id,
            token_kind=row.kind,
            fields=fields,
        )
