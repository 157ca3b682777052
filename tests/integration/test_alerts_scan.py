"""Alert scans on a synthetic city: graded on its planted patterns (truth/patterns.json)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from riskwatch.alerts.engine import detect
from riskwatch.alerts.rules import REQUIRED_RULES, load_rules
from riskwatch.services import cases
from riskwatch.services.alerts import EXPORT_COLUMNS, ScanService, build_graph, export_alerts
from riskwatch.services.ingest import IngestService
from riskwatch.settings import Settings
from riskwatch.store import opdb
from riskwatch.synth.city import SynthConfig, generate

AS_OF = dt.date(2025, 6, 30)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("alerts")
    generate(SynthConfig(enterprises=2500, as_of=AS_OF, seed=5, out=root / "city", format="csv"))
    settings = Settings(home=root / "home", batch_rows=5000)
    IngestService(settings).run(root / "city")
    build_graph(settings, AS_OF)
    first = ScanService(settings).run(AS_OF)
    second = ScanService(settings).run(AS_OF)
    truth = json.loads((root / "city" / "truth" / "patterns.json").read_text(encoding="utf-8"))
    yield {"settings": settings, "first": first, "second": second, "truth": truth, "root": root}
    opdb.dispose_engines()


def flagged(settings: Settings, rule: str) -> set[str]:
    return {r["uscc"] for r in _export(settings, rule)}


def _export(settings: Settings, rule: str | None = None) -> list[dict[str, str]]:
    out = settings.home / f"export-{rule}.csv"
    export_alerts(settings, out, rule)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_planted_patterns_are_found(city: dict[str, Any]) -> None:
    s, truth = city["settings"], city["truth"]
    clusters = {u for c in truth["address_clusters"] for u in c["members"]}
    next_door = {
        d["uscc"] for c in truth["address_clusters"] for d in c["other_rooms_same_building"]
    }
    nominees = {u for n in truth["nominee_persons"] for u in n["members"]}
    surges = {x["uscc"] for x in truth["complaint_surges"]}
    by_address, by_person = flagged(s, "address_cluster"), flagged(s, "person_cluster")
    surged = flagged(s, "complaint_surge")
    assert len(by_address & clusters) / len(clusters) >= 0.95
    assert len(by_address & clusters) / len(by_address) >= 0.80
    assert not by_address & next_door  # other rooms of the same building stay apart
    assert len(by_person & nominees) / len(nominees) >= 0.95
    # Shell-cluster members share their few representatives: planted too.
    assert len(by_person & (nominees | clusters)) / len(by_person) >= 0.80
    assert len(surged & surges) / len(surges) >= 0.95


def test_rerun_raises_nothing_and_one_open_alert_per_rule_and_enterprise(
    city: dict[str, Any],
) -> None:
    first, second = city["first"].report, city["second"].report
    assert first.total_raised > 0 and second.total_raised == 0
    assert set(first.hits) == set(REQUIRED_RULES)
    assert any("class_deterioration skipped" in n for n in first.notes)
    assert any("related_party_risk skipped" in n for n in first.notes)
    rows = _export(city["settings"])
    keys = [(r["rule"], r["uscc"]) for r in rows]
    assert len(keys) == len(set(keys)) == first.total_raised
    assert first.cases_opened == len({r["uscc"] for r in rows})


def test_export_columns_and_evidence(city: dict[str, Any]) -> None:
    s = city["settings"]
    rows = _export(s, "address_cluster")
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    ev = json.loads(rows[0]["evidence"])
    assert ev["enterprises_at_address"] >= 5 and len(ev["address_forms"]) >= 1
    assert rows[0]["state"] == "待分派" and rows[0]["department"].endswith("登记注册科")
    out = Path(s.home) / "alerts.xlsx"
    n = export_alerts(s, out)
    sheet = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert len(sheet) == n + 1 and sheet[0] == list(EXPORT_COLUMNS)


def test_closed_alerts_are_suppressed(city: dict[str, Any]) -> None:
    s = city["settings"]
    later = AS_OF + dt.timedelta(days=1)
    hits, _, _ = detect(s, later, load_rules()[0], ["complaint_surge"], lambda _: None)
    still = {h["uscc"] for h in hits["complaint_surge"]}
    surge = next(r for r in _export(s, "complaint_surge") if r["uscc"] in still)
    # The next day the surge is still there: the open alert absorbs it.
    report = ScanService(s).run(later, only=["complaint_surge"]).report
    assert report.raised["complaint_surge"] == 0 and report.deduplicated["complaint_surge"] > 0
    case = cases.list_cases(s, uscc=surge["uscc"])[0]
    cases.assign(s, case.case_id, "消保科", actor="test")
    cases.transition(s, case.case_id, "false_positive", actor="test", note="促销活动", on=later)
    again = ScanService(s).run(later, only=["complaint_surge"]).report
    assert again.suppressed["complaint_surge"] >= 1
    assert surge["uscc"] not in {
        r["uscc"] for r in _export(s, "complaint_surge") if r["state"] == "待分派"
    }
