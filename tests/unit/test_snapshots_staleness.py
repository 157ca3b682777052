"""A snapshot computed with another catalogue is stale: the monthly run recomputes it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from riskwatch.store import snapshots


def _month(home: Path, month: str, fingerprint: str | None) -> None:
    folder = snapshots.month_dir(home, month)
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"uscc": ["X"]}), folder / "part-0.parquet")
    if fingerprint is not None:
        snapshots.write_month_json(home, month, "manifest", {"catalogue_fingerprint": fingerprint})


def test_only_months_of_the_current_catalogue_count(tmp_path: Path) -> None:
    _month(tmp_path, "2025-04", "old")
    _month(tmp_path, "2025-05", "new")
    _month(tmp_path, "2025-06", None)  # no manifest: provenance unknown
    assert snapshots.list_months(tmp_path) == ["2025-04", "2025-05", "2025-06"]
    assert snapshots.list_months(tmp_path, "new") == ["2025-05"]
    assert snapshots.list_months(tmp_path, "other") == []


def test_recent_months_follow_a_new_month(tmp_path: Path) -> None:
    assert snapshots.recent_months(tmp_path) == []  # no snapshot folder yet
    _month(tmp_path, "2025-05", "x")
    assert snapshots.recent_months(tmp_path) == ["2025-05"]
    _month(tmp_path, "2025-06", "x")  # a new month folder changes the root's mtime
    assert snapshots.recent_months(tmp_path) == ["2025-05", "2025-06"]
