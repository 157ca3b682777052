"""Settings from the environment (``RISKWATCH_*``); nothing here touches the disk at import."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Deployment settings.

    ``home`` holds the warehouse (``warehouse.duckdb``), the deployment secret
    (``secret.key``, mode 0600) and derived outputs.
    """

    model_config = SettingsConfigDict(env_prefix="RISKWATCH_", extra="ignore")

    home: Path = Field(default=Path("./riskwatch-data"))
    environment: Literal["development", "test", "production"] = "development"
    # Some codes issued in early pilot areas are legal yet fail the GB 32100 check:
    # "quarantine" rejects them (the default), "flag" loads them with a flag.
    uscc_bad_check: Literal["quarantine", "flag"] = "quarantine"
    threads: int = Field(default=0, ge=0, description="engine threads; 0 = all cores")
    memory_limit: str = Field(default="", description="DuckDB memory_limit, e.g. '8GB'")
    serve_preload: bool = Field(
        default=False,
        description="read the profile copies into memory when the service starts "
        "(`riskwatch serve` sets it unless --no-preload)",
    )
    ingest_memory_limit: str = Field(
        default="4GB",
        description="DuckDB memory_limit while loading (when memory_limit is unset): "
        "staging of a big table spills to HOME/tmp instead of growing the process",
    )
    indicators_memory_limit: str = Field(
        default="16GB",
        description="DuckDB memory_limit of indicator runs (when memory_limit is unset). "
        "A month at a million enterprises needs about 4 GB; a 12-month batch is split into "
        "passes over buckets of enterprises, each spilling to HOME/tmp past the limit "
        "(1 M × 12 months: 180 s uncapped at 20 GB, 215 s at 12 GB, 320 s at 8 GB)",
    )
    batch_rows: int = Field(default=500_000, ge=1000, description="rows per ingest batch")
    database_url: str = Field(
        default="",
        description="operational store (SQLAlchemy URL); empty = SQLite under home",
    )

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def secret_path(self) -> Path:
        return self.home / "secret.key"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
