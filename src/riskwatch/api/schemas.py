"""Response and request schemas (the OpenAPI contract the web and partners code against)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TokenOut(BaseModel):
    """OAuth2 token response."""

    access_token: str
    token_type: str = "bearer"
    expires_at: str


class SessionOut(BaseModel):
    """A web session: the CSRF token to send back in ``X-CSRF-Token``."""

    csrf_token: str
    expires_at: str


class MeOut(BaseModel):
    """The caller."""

    name: str
    role: str
    role_zh: str
    region: str
    token_kind: str
    fields: list[str] | None


class Page(BaseModel):
    """One page of a list."""

    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]


class RuleIn(BaseModel):
    """A screening request: a rule tree, the as-of date, paging."""

    model_config = ConfigDict(extra="forbid")

    rule: dict[str, Any] = Field(description="all/any/not/field rule tree")
    as_of: date | None = None
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=10_000_000)


class SavedIn(BaseModel):
    """A screening to keep."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    rule: dict[str, Any]


class TagIn(BaseModel):
    """A new tag definition."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    kind: str = Field(pattern="^(object|behaviour|class)$")
    rule: dict[str, Any] | None = None


class TaggingIn(BaseModel):
    """Enterprises to tag or untag."""

    model_config = ConfigDict(extra="forbid")

    usccs: list[str] = Field(min_length=1, max_length=10_000)
    remove: bool = False


class UserIn(BaseModel):
    """A new account."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=64)
    role: str = Field(pattern="^(admin|analyst|inspector|partner)$")
    region: str = Field(pattern=r"^\d{6}$")
    password: str | None = Field(default=None, min_length=10, max_length=256)


class PartnerTokenIn(BaseModel):
    """A partner token to issue."""

    model_config = ConfigDict(extra="forbid")

    partner: str = Field(min_length=2, max_length=64)
    fields: list[str] = Field(min_length=1, max_length=20)
    expires: str = Field(default="90d", pattern=r"^\d{1,4}[dhm]$")
