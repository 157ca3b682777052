"""The HTTP service: FastAPI app factory, dependencies, routes and schemas."""

from __future__ import annotations

from riskwatch.api.app import create_app

__all__ = ["create_app"]
