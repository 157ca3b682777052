"""The two rules that need classes, on classes stored through ``riskwatch.store.classes``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from riskwatch.graph.build import build
from riskwatch.services import cases
from riskwatch.services.alerts import ScanService, export_alerts
from riskwatch.services.ingest import IngestService
from riskwatch.settings import Settings
from riskwatch.store import opdb
from riskwatch.store.classes import write_classes
from tests.conftest import make_uscc
from tests.integration.test_graph import AS_OF, write_city

pytestmark = pytest.mark.slow

MAY = {1: "A", 2: "B", 3: "C", 4: "A", 10: "C"}
JUNE = {1: "C", 2: "C", 3: "D", 4: "B", 10: "D"}


def classes(month: str, grades: dict[int, str]) -> pa.Table:
    return pa.table(
        {
            "uscc": [make_uscc(i) for i in grades],
            "month": [month] * len(grades),
            "class": list(grades.values()),
            "score": [100 * (ord(g) - 64) for g in grades.values()],
        }
    )


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "home", batch_rows=1000)
    write_city(tmp_path / "city")
    IngestService(settings).run(tmp_path / "city")
    return settings


def test_class_rules_skip_clearly_without_classes(home: Settings) -> None:
    report = ScanService(home).run(AS_OF, only=["class_deterioration", "related_party_risk"])
    assert report.report.total_raised == 0
    assert any("class_deterioration skipped" in n for n in report.report.notes)
    opdb.dispose_engines()


def test_class_deterioration_and_related_party_risk(home: Settings) -> None:
    write_classes(home.home, "2025-05", classes("2025-05", MAY), "r-may")
    write_classes(home.home, "2025-06", classes("2025-06", JUNE), "r-june")
    build(home, AS_OF)  # related-party risk now uses the D class of 3 and 10
    result = ScanService(home).run(AS_OF, only=["class_deterioration", "related_party_risk"])
    assert result.report.notes == []
    out = home.home / "alerts.csv"
    export_alerts(home, out)
    rows = out.read_text(encoding="utf-8-sig").splitlines()[1:]
    raised = {(r.split(",")[1], r.split(",")[2]) for r in rows}
    worse = {u for rule, u in raised if rule == "class_deterioration"}
    assert worse == {make_uscc(1), make_uscc(3), make_uscc(10)}  # A→C, C→D, C→D; not B→C
    related = {u for rule, u in raised if rule == "related_party_risk"}
    # 1 and 2 share a representative with 3 (D); 9's representative supervises 10 (D, listed).
    assert related == {make_uscc(1), make_uscc(2), make_uscc(9)}
    detail = cases.get_case(home, cases.list_cases(home, uscc=make_uscc(1))[0].case_id)
    rules = {a.rule: a.evidence for a in detail.alerts}
    assert rules["class_deterioration"] == {
        "month": "2025-06", "previous_class": "A", "class": "C", "levels": 2,
    }  # fmt: skip
    assert rules["related_party_risk"]["related_risky_count"] == 1
    assert json.dumps(rules["related_party_risk"])  # evidence is plain JSON
    again = ScanService(home).run(AS_OF, only=["class_deterioration", "related_party_risk"])
    assert again.report.total_raised == 0
    opdb.dispose_engines()
