"""Service settings (``RISKWATCH_*``): secrets, token lifetimes, lockout and rate limits.

Like the template's ``core/config.py``: the default secret is refused outside development.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "changethis-riskwatch-development-secret"


class ServiceSettings(BaseSettings):
    """Settings of the HTTP service and its accounts."""

    model_config = SettingsConfigDict(env_prefix="RISKWATCH_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    secret_key: str = Field(
        default=DEFAULT_SECRET,
        description="keys token hashes and the audit chain; at least 32 characters",
    )
    token_minutes: int = Field(default=480, ge=1, description="bearer/session token lifetime")
    lockout_failures: int = Field(default=5, ge=1, description="failed logins before lockout")
    lockout_minutes: int = Field(default=15, ge=1)
    rate_per_minute: int = Field(default=600, ge=1, description="requests per user or token")
    workers: int = Field(
        default=1,
        ge=1,
        description="worker processes of the service (`riskwatch serve --workers` sets it): "
        "with more than one, rate limits are counted in a file the workers share",
    )
    cookie_secure: bool = Field(default=True, description="send cookies over HTTPS only")

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> ServiceSettings:
        if self.environment != "development" and (
            self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "RISKWATCH_SECRET_KEY must be set to a random value of at least 32 characters "
                f"outside development (environment={self.environment}); e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return self


@lru_cache(maxsize=1)
def get_service_settings() -> ServiceSettings:
    """The process-wide service settings (read once from the environment)."""
    return ServiceSettings()
