"""Roles and region scopes.

A region scope is a GB/T 2260 code: a province code (``410000``) covers every code that
starts with its first two digits, a city code (``410100``) the first four, a district code
(``410105``) only itself. ``000000`` is the national scope (covers everything).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from riskwatch.errors import InputError, PermissionDeniedError


class Role(StrEnum):
    """The four roles (系统管理员, 分析员, 执法人员, 共享部门)."""

    ADMIN = "admin"
    ANALYST = "analyst"
    INSPECTOR = "inspector"
    PARTNER = "partner"


ROLES: dict[Role, str] = {
    Role.ADMIN: "系统管理员",
    Role.ANALYST: "分析员",
    Role.INSPECTOR: "执法人员",
    Role.PARTNER: "共享部门",
}

_REGION = re.compile(r"^\d{6}$")


def normalize_region(code: str) -> str:
    """Check a 6-digit region code (a 12-digit one with trailing zeros is cut)."""
    code = code.strip()
    if len(code) == 12 and code.endswith("000000"):
        code = code[:6]
    if not _REGION.match(code):
        raise InputError(f"region {code!r} must be a 6-digit GB/T 2260 code such as 410105")
    return code


def region_prefix(scope: str) -> str:
    """The code prefix a scope covers: ``410000`` → ``41``, ``410100`` → ``4101``."""
    scope = normalize_region(scope)
    if scope == "000000":
        return ""
    if scope.endswith("0000"):
        return scope[:2]
    if scope.endswith("00"):
        return scope[:4]
    return scope


def covers(scope: str, code: str | None) -> bool:
    """Whether a scope covers a region code (an unknown region is covered by none)."""
    if not code:
        return region_prefix(scope) == ""
    return code.startswith(region_prefix(scope))


# Fields a partner token may be granted; the full profile is never shared.
PARTNER_FIELDS: frozenset[str] = frozenset(
    {"uscc", "name", "region_code", "industry_code", "status", "class", "score", "month"}
)


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a user, through a bearer, session or partner token."""

    user_id: int
    name: str
    role: Role
    region: str
    token_id: int | None = None
    token_kind: str = "bearer"
    fields: frozenset[str] | None = None

    @property
    def prefix(self) -> str:
        """The region-code prefix every query of this caller is filtered by."""
        return region_prefix(self.region)

    @property
    def is_partner(self) -> bool:
        return self.role is Role.PARTNER

    def sees(self, code: str | None) -> bool:
        """Whether this caller's scope covers a region code."""
        return covers(self.region, code)

    def require(self, *roles: Role) -> None:
        """Refuse the call unless the caller has one of ``roles``."""
        if self.role not in roles:
            wanted = ", ".join(r.value for r in roles)
            raise PermissionDeniedError(f"this needs the role {wanted}; you are {self.role}")

    def require_scope_within(self, region: str) -> None:
        """Refuse to act for a region outside the caller's own scope."""
        if not covers(self.region, normalize_region(region)):
            raise PermissionDeniedError(f"region {region} is outside your scope {self.region}")

    def allowed(self, field: str) -> bool:
        """Whether a field may appear in this caller's responses."""
        return self.fields is None or field in self.fields
