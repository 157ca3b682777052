"""Who may see what: roles, region scopes, principals, passwords, tokens and rate limits.

Pure code (no I/O): the service layer asks these questions on every query, so the API and
the CLI cannot forget them.
"""

from __future__ import annotations

from riskwatch.auth.scope import (
    ROLES,
    Principal,
    Role,
    covers,
    normalize_region,
    region_prefix,
)

__all__ = ["ROLES", "Principal", "Role", "covers", "normalize_region", "region_prefix"]
