"""Indicator snapshots on disk: Parquet partitioned by month, with manifests and quality.

Layout under ``$RISKWATCH_HOME/indicators/``::

    month=2025-06/part-<run_id>-NNNNN.parquet   one row per enterprise alive at as-of
    month=2025-06/_manifest.json          the run that wrote the month (run id, versions)
    month=2025-06/_quality.json           coverage, distribution, PSI vs previous month
    _runs/<run_id>.json                   the run manifest (all months of the run)

A month is replaced as a whole: a new run writes its part then removes older parts.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from riskwatch.errors import NotFoundError

SNAPSHOT_DIR = "indicators"


def snapshot_root(home: Path) -> Path:
    """The folder holding every indicator snapshot."""
    return home / SNAPSHOT_DIR


def month_dir(home: Path, month: str) -> Path:
    """The hive partition folder of one month (``month=YYYY-MM``)."""
    return snapshot_root(home) / f"month={month}"


def staging_dir(home: Path, run_id: str) -> Path:
    """Where a run writes its partitions before they replace the published months."""
    return snapshot_root(home) / "_staging" / run_id


def publish(home: Path, run_id: str) -> dict[str, int]:
    """Move a run's staged partitions into place; rows per month.

    Each staged ``month=YYYY-MM/`` folder's files become ``part-<run_id>-NNNNN.parquet``
    (a run may write a month in several passes) and the month's parts of other runs are
    removed.
    """
    stage = staging_dir(home, run_id)
    rows: dict[str, int] = {}
    for d in sorted(stage.glob("month=*")):
        month = d.name.split("=", 1)[1]
        files = sorted(d.glob("*.parquet"))
        target_dir = month_dir(home, month)
        target_dir.mkdir(parents=True, exist_ok=True)
        finals = []
        for i, f in enumerate(files):
            final = target_dir / f"part-{run_id}-{i:05d}.parquet"
            f.replace(final)
            finals.append(final)
        rows[month] = sum(pq.ParquetFile(f).metadata.num_rows for f in finals)
        for old in target_dir.glob("part-*.parquet"):
            if old not in finals:
                old.unlink()
    shutil.rmtree(stage, ignore_errors=True)
    return rows


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (UTF-8, Chinese kept readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)


def read_json(path: Path) -> Any:
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(path.read_text(encoding="utf-8"))


def list_months(home: Path, catalogue_fingerprint: str | None = None) -> list[str]:
    """Months with a snapshot, sorted.

    With ``catalogue_fingerprint``, only months computed with that catalogue: a snapshot of
    an older catalogue is stale (it lacks or defines differently some indicators).
    """
    root = snapshot_root(home)
    if not root.exists():
        return []
    months = sorted(
        p.name.split("=", 1)[1] for p in root.glob("month=*") if any(p.glob("part-*.parquet"))
    )
    if catalogue_fingerprint is None:
        return months
    return [m for m in months if _fingerprint_of(home, m) == catalogue_fingerprint]


_RECENT: dict[Path, tuple[int, float, list[str]]] = {}
RECENT_SECONDS = 10.0


def recent_months(home: Path) -> list[str]:
    """:func:`list_months` for request paths: remembered until the snapshot folder changes
    or for at most :data:`RECENT_SECONDS` (listing globs every month's folder)."""
    root = snapshot_root(home)
    try:
        stamp = root.stat().st_mtime_ns
    except FileNotFoundError:
        return []
    hit = _RECENT.get(root)
    clock = time.monotonic()
    if hit is not None and hit[0] == stamp and clock - hit[1] < RECENT_SECONDS:
        return list(hit[2])
    months = list_months(home)
    _RECENT[root] = (stamp, clock, months)
    return list(months)


def _fingerprint_of(home: Path, month: str) -> str | None:
    try:
        value = read_month_json(home, month, "manifest").get("catalogue_fingerprint")
    except (NotFoundError, ValueError, AttributeError):
        return None
    return str(value) if value is not None else None


def load_snapshot(home: Path, month: str, columns: Iterable[str] | None = None) -> pa.Table:
    """The snapshot of one month as an Arrow table (with its ``month`` column).

    Raises
    ------
    NotFoundError
        If no snapshot was written for that month.
    """
    parts = sorted(month_dir(home, month).glob("part-*.parquet"))
    if not parts:
        raise NotFoundError(f"no indicator snapshot for {month} under {snapshot_root(home)}")
    cols = None if columns is None else [c for c in columns if c != "month"]
    table = pa.concat_tables(pq.read_table(p, columns=cols) for p in parts)
    return table.append_column("month", pa.array([month] * table.num_rows, pa.string()))


def write_month_json(home: Path, month: str, name: str, obj: Any) -> Path:
    """Write ``_<name>.json`` next to a month's Parquet part."""
    path = month_dir(home, month) / f"_{name}.json"
    write_json(path, obj)
    return path


def read_month_json(home: Path, month: str, name: str) -> Any:
    """Read ``_<name>.json`` of a month (``NotFoundError`` if absent)."""
    path = month_dir(home, month) / f"_{name}.json"
    if not path.exists():
        raise NotFoundError(f"no {name} for {month}")
    return read_json(path)


def run_manifest_path(home: Path, run_id: str) -> Path:
    """Where the manifest of a run is written."""
    return snapshot_root(home) / "_runs" / f"{run_id}.json"
