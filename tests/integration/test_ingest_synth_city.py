"""Issue acceptance: a synthetic city made with its own seed loads with exactly its
deliberately bad rows quarantined, and a second load adds nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from riskwatch.cli import app


@pytest.mark.slow
def test_a_20000_enterprise_city_loads_with_exactly_its_bad_rows_quarantined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    city, home = tmp_path / "city", tmp_path / "home"
    monkeypatch.setenv("RISKWATCH_HOME", str(home))
    from riskwatch.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    made = runner.invoke(app, ["synth", "--enterprises", "20000", "--as-of", "2025-06-30",
                               "--seed", "20251", "--out", str(city)])  # fmt: skip
    assert made.exit_code == 0, made.output

    first = runner.invoke(app, ["ingest", str(city), "--report-json", str(tmp_path / "r1.json")])
    assert first.exit_code == 0, first.output
    report = json.loads((tmp_path / "r1.json").read_text())
    assert set(report["tables"]) == {
        "enterprises", "investments", "officers", "changes", "annual_reports",
        "abnormal_listings", "serious_violations", "penalties", "licenses", "inspections",
        "complaints", "judicial", "opinions", "inspectors",
    }  # fmt: skip

    with (city / "truth" / "bad_rows.csv").open(encoding="utf-8") as fh:
        planted = {(r["file"], int(r["line"]), r["reason_kind"]) for r in csv.DictReader(fh)}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        quarantined = set(con.execute("SELECT file_name, line, reason FROM quarantine").fetchall())
        manifest = json.loads((city / "truth" / "manifest.json").read_text())
        for table, t in report["tables"].items():
            assert t["rows_read"] == manifest["tables"][table], table
    assert quarantined == planted
    assert any(reason == "uscc_check" for _, _, reason in planted)
    assert sum(t["rows_quarantined"] for t in report["tables"].values()) == len(planted)

    def content() -> dict[str, tuple[int, int]]:
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            return {
                t: tuple(con.execute(f"SELECT count(*), bit_xor(_row_hash) FROM {t}").fetchone())
                for t in report["tables"]
            }

    before = content()
    second = runner.invoke(app, ["ingest", str(city), "--report-json", str(tmp_path / "r2.json")])
    assert second.exit_code == 0, second.output
    again = json.loads((tmp_path / "r2.json").read_text())
    assert all(t["rows_loaded"] == 0 for t in again["tables"].values())
    # Forcing every file through validation and merge again still ends where it was.
    forced = runner.invoke(app, ["ingest", str(city), "--force"])
    assert forced.exit_code == 0, forced.output
    assert content() == before
    get_settings.cache_clear()
