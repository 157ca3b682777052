"""Imports through the API: an uploaded Excel/CSV file goes through the same ingest.

The upload is written into a fresh folder under ``$RISKWATCH_HOME/uploads`` with its
contract file name, then :class:`~riskwatch.services.ingest.IngestService` loads it with the
same validation, quarantine and report as ``riskwatch ingest``.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from riskwatch.errors import InputError
from riskwatch.ingest.contract import TABLES
from riskwatch.services.ingest import IngestService, LoadReport
from riskwatch.settings import Settings

SUFFIXES = (".csv", ".xlsx", ".parquet", ".jsonl")
MAX_BYTES = 200 * 1024 * 1024
_SAFE = re.compile(r"^[a-z_]+(-[A-Za-z0-9_]{1,40})?$")


def validate_upload(filename: str, size: int) -> tuple[str, str]:
    """The table and suffix an upload is for; refuses unknown tables, formats and sizes."""
    name = Path(filename).name
    suffix = Path(name).suffix.lower()
    stem = name[: -len(suffix)] if suffix else name
    table = stem.split("-", 1)[0]
    if suffix not in SUFFIXES:
        raise InputError(f"{name}: upload .csv, .xlsx, .parquet or .jsonl")
    if table not in TABLES or not _SAFE.match(stem):
        raise InputError(f"{name}: name the file after its table, e.g. penalties.xlsx; "
                         f"tables: {', '.join(TABLES)}")  # fmt: skip
    if size > MAX_BYTES:
        raise InputError(f"{name}: larger than {MAX_BYTES // 2**20} MB; use riskwatch ingest")
    return table, suffix


def import_upload(settings: Settings, filename: str, data: bytes) -> LoadReport:
    """Load one uploaded file; the load report (with its quarantine counts)."""
    table, suffix = validate_upload(filename, len(data))
    folder = settings.home / "uploads" / secrets.token_hex(8)
    folder.mkdir(parents=True)
    (folder / f"{table}{suffix}").write_bytes(data)
    service = IngestService(settings)
    return service.run(folder)
