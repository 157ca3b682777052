"""The indicator engine on a real DuckDB warehouse: values, point-in-time, runs, storage."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskwatch.indicators import compute, load_catalogue, load_snapshot, month_ends, run
from riskwatch.services.ingest import IngestService
from riskwatch.settings import Settings
from riskwatch.store import snapshots
from riskwatch.store.warehouse import open_warehouse
from riskwatch.synth.city import SynthConfig, generate
from tests.integration.test_indicators_cases import build_warehouse, write_published

# ibis 12 still calls DuckDB 2.0's deprecated Arrow fetchers; nothing to fix on our side.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:fetch_\w+\(\) is deprecated:DeprecationWarning",
    # ibis 12 reads pandas' future.infer_string option, deprecated in pandas 3
    r"ignore:The 'future.infer_string' option is deprecated",
)

AS_OF = dt.date(2025, 3, 31)
CAT = load_catalogue()


def _rows(table: pa.Table) -> dict[tuple[str, str], dict[str, object]]:
    return {(r["uscc"], r["month"]): r for r in table.to_pylist()}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def march(warehouse: Path) -> dict[str, dict[str, object]]:
    with open_warehouse(warehouse, read_only=True) as con:
        table = compute(con, as_of=AS_OF, catalogue=CAT)
    return {r["uscc"]: r for r in table.to_pylist()}


def test_only_enterprises_alive_at_as_of(march: dict[str, dict[str, object]]) -> None:
    # D deregistered 2025-02-15, E established 2025-05-20
    assert sorted(march) == ["A", "B", "C", "F"]


def test_values_at_march(march: dict[str, dict[str, object]]) -> None:
    a, b, c, f = march["A"], march["B"], march["C"], march["F"]
    assert a["enterprise_age_years"] == 6
    assert a["penalties_1y"] == 1 and a["penalties_3y"] == 2
    # d2 repaired 2025-03-15: out of force; d1 publicised until 2025-04-30
    assert a["penalties_in_force"] == 1
    assert a["penalty_severity_in_force"] == 2
    assert a["penalty_fines_3y"] == pytest.approx(1.75)
    assert a["penalty_license_revoked_3y"] == 1
    assert a["penalty_domains_3y"] == 2
    assert a["legal_rep_changes_1y"] == 1 and a["address_changes_1y"] == 1
    assert a["capital_changes_3y"] == 0 and a["changes_90d"] == 1  # 2022-01-01 is > 3 y ago
    # A filed 2022 on time, 2023 late; 2024 not due until 2025-06-30
    assert a["annual_report_missing_last"] == 0
    assert a["annual_report_late_3y"] == 1 and a["annual_report_corrected_3y"] == 1
    assert a["licenses_expired_1y"] == 1 and a["licenses_valid_now"] == 1
    assert a["licenses_expiring_90d"] == 1
    assert a["inspection_last_problem"] == 0 and a["inspection_problems_3y"] == 1
    assert a["inspection_problem_rate_3y"] == 0.5
    assert a["complaints_30d"] == 1 and a["complaints_90d"] == 2 and a["complaints_1y"] == 3
    assert a["complaints_substantiated_share_1y"] == pytest.approx(0.3333)
    assert a["judicial_defendant_1y"] == 1 and a["judicial_defendant_amount_3y"] == 12.5
    assert a["negative_opinion_share_1y"] == 0.5
    # address addr-1: A, B, C; legal rep p1: A, B; holder h1: A, C
    assert a["address_enterprise_count"] == 2 and a["legal_rep_enterprise_count"] == 1
    assert a["address_abnormal_share"] == 0.5  # C listed, B removed 2025-03-31
    assert a["shareholder_enterprise_count"] == 1 and a["shareholder_serious_share"] == 1.0
    assert b["abnormal_now"] == 0 and b["abnormal_listings_3y"] == 1  # removed on as-of
    assert b["annual_report_missing_last"] == 0  # first report (2025) not yet due
    assert c["abnormal_now"] == 1 and c["abnormal_now_unreachable"] == 1
    assert c["serious_violation_now"] == 1 and c["dishonest_debtor_now"] == 1
    # C filed 2023; 2022 and 2021 never filed; 2024 not due yet
    assert c["annual_report_missing_last"] == 0 and c["annual_report_missing_prev"] == 1
    assert c["annual_report_missing_3y"] == 2 and c["annual_report_consecutive_missing"] == 0
    assert c["inspection_refusal_3y"] == 1 and c["penalties_in_force"] == 0
    assert c["days_since_last_penalty"] == (AS_OF - dt.date(2023, 6, 1)).days
    assert f["dishonest_debtor_now"] == 0 and f["enforced_debtor_now"] == 0
    assert f["dishonest_debtor_3y"] == 1 and f["inspection_unreachable_3y"] == 1
    assert f["penalties_in_force"] == 0  # decided 2025-05-05, after as-of
    assert f["abnormal_listings_3y"] == 0 and f["days_since_abnormal_listing"] > 1000
    assert f["shareholder_enterprise_count"] == 0  # holder A is an enterprise only in F
    assert f["licenses_valid_now"] == 1 and f["licenses_expired_1y"] == 0  # no end date
    assert march["B"]["days_since_last_change"] is None
    # no published classes or graph (no home given): missing, not zero
    assert all(march[u][c] is None for u in march for c in PUBLISHED)


PUBLISHED = ["related_risk_score", "address_cd_share", "legal_rep_cd_share", "shareholder_cd_share"]


def test_classes_and_graph_are_read_from_the_month_before(warehouse: Path, tmp_path: Path) -> None:
    home = write_published(tmp_path / "published")
    with open_warehouse(warehouse, read_only=True) as con:
        t = compute(con, as_of=month_ends("2025-02", "2025-04"), catalogue=CAT, published_home=home)
    rows = _rows(t)
    # March reads February: A=B, C=D, F=C; B was not classed. March's own classes
    # (everyone else) are never read by March.
    a, b, c, f = (rows[(u, "2025-03")] for u in "ABCF")
    assert a["legal_rep_cd_share"] is None  # its only peer, B, was not classed
    assert a["address_cd_share"] == 1.0  # B not classed, C class D
    assert a["shareholder_cd_share"] == 1.0  # holder h1 also holds C
    assert b["legal_rep_cd_share"] == 0.0 and b["address_cd_share"] == 0.5
    assert c["address_cd_share"] == 0.0 and c["shareholder_cd_share"] == 0.0
    assert f["address_cd_share"] is None and f["legal_rep_cd_share"] is None  # no peers
    assert a["related_risk_score"] == 0.25 and c["related_risk_score"] == 0.9
    assert b["related_risk_score"] is None and f["related_risk_score"] is None
    # February reads January, which was not published
    assert all(rows[(u, "2025-02")][col] is None for u in "ABCF" for col in PUBLISHED)
    # April reads March: A=D, B=D, C=A, F=A
    a4, c4 = rows[("A", "2025-04")], rows[("C", "2025-04")]
    assert a4["legal_rep_cd_share"] == 1.0 and a4["address_cd_share"] == 0.5
    assert a4["shareholder_cd_share"] == 0.0 and a4["related_risk_score"] == 0.99
    assert c4["address_cd_share"] == 1.0 and c4["related_risk_score"] is None
    # the other indicators do not depend on what was published
    with open_warehouse(warehouse, read_only=True) as con:
        plain = _rows(compute(con, as_of=month_ends("2025-02", "2025-04"), catalogue=CAT))
    for key, row in rows.items():
        assert {k: v for k, v in row.items() if k not in PUBLISHED} == {
            k: v for k, v in plain[key].items() if k not in PUBLISHED
        }


def test_point_in_time_rules_over_months(warehouse: Path) -> None:
    with open_warehouse(warehouse, read_only=True) as con:
        t = compute(con, as_of=month_ends("2025-01", "2025-06"), catalogue=CAT)
    rows = _rows(t)
    # abnormal listing removed 2025-03-31 counts through February only
    assert [rows[("B", m)]["abnormal_now"] for m in ("2025-02", "2025-03")] == [1, 0]
    # d1's publicity ends 2025-04-30: counts in April, not in May
    assert [rows[("A", m)]["penalties_in_force"] for m in ("2025-04", "2025-05")] == [1, 0]
    # A's 2024 report falls due 2025-06-30: missing from July only
    assert rows[("A", "2025-06")]["annual_report_missing_last"] == 0
    assert ("E", "2025-05") in rows and ("D", "2025-02") not in rows


def test_range_equals_single_months(warehouse: Path) -> None:
    dates = month_ends("2025-02", "2025-04")
    with open_warehouse(warehouse, read_only=True) as con:
        together = compute(con, as_of=dates, catalogue=CAT)
        alone = pa.concat_tables([compute(con, as_of=d, catalogue=CAT) for d in dates])
    assert together.to_pylist() == alone.to_pylist()


FUTURE = st.tuples(
    st.sampled_from(["A", "B", "C", "F"]),
    st.integers(min_value=1, max_value=900),
    st.sampled_from(["penalties", "abnormal_listings", "complaints", "judicial", "changes"]),
)


def _insert(kind: str, uscc: str, day: dt.date, i: int) -> str:
    d = day.isoformat()
    return {
        "penalties": f"INSERT INTO penalties (decision_no, uscc, decided_on, authority, violation,"
        f" penalty_kinds, fine) VALUES ('fx{i}', '{uscc}', '{d}', 'a', 'v', ['罚款'], 9)",
        "abnormal_listings": f"INSERT INTO abnormal_listings (uscc, listed_on, reason) VALUES"
        f" ('{uscc}', '{d}', '未按规定报送年度报告')",
        "complaints": f"INSERT INTO complaints (complaint_id, uscc, received_on, channel, kind,"
        f" category) VALUES ('cx{i}', '{uscc}', '{d}', '网络', '投诉', '其他')",
        "judicial": f"INSERT INTO judicial (case_no, uscc, filed_on, role, case_type) VALUES"
        f" ('jx{i}', '{uscc}', '{d}', '失信被执行人', 'x')",
        "changes": f"INSERT INTO changes (uscc, changed_on, item) VALUES ('{uscc}', '{d}', '住所')",
    }[kind]


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(FUTURE, min_size=1, max_size=4, unique_by=lambda r: (r[0], r[1], r[2])))
def test_future_records_change_nothing(
    tmp_path: Path, march: dict[str, dict[str, object]], records: list[tuple[str, int, str]]
) -> None:
    extra = [_insert(k, u, AS_OF + dt.timedelta(days=n), i) for i, (u, n, k) in enumerate(records)]
    path = build_warehouse(tmp_path / f"wh-{abs(hash(tuple(records)))}.duckdb", extra)
    with open_warehouse(path, read_only=True) as con:
        table = compute(con, as_of=AS_OF, catalogue=CAT)
    assert {r["uscc"]: r for r in table.to_pylist()} == march


def test_run_writes_snapshots_manifest_and_quality(warehouse: Path, tmp_path: Path) -> None:
    home = _home(warehouse, tmp_path / "home")
    result = run(home, month_ends("2025-02", "2025-04"), catalogue=CAT, months_per_batch=2)
    assert result.months == ["2025-02", "2025-03", "2025-04"]
    assert result.rows["2025-03"] == 4
    snap = load_snapshot(home, "2025-03")
    assert snap.num_rows == 4 and "penalties_in_force" in snap.column_names
    manifest = json.loads(Path(result.manifest).read_text(encoding="utf-8"))
    assert manifest["run_id"] == result.run_id
    assert manifest["catalogue_version"] == CAT.config_version
    quality = json.loads((home / "indicators/month=2025-03/_quality.json").read_text("utf-8"))
    assert quality["previous_month"] == "2025-02"
    assert quality["indicators"]["abnormal_now"]["coverage"] == 1.0
    assert "psi" in quality["indicators"]["abnormal_now"]
    again = run(home, [dt.date(2025, 3, 31)], catalogue=CAT)
    assert len(list((home / "indicators/month=2025-03").glob("part-*.parquet"))) == 1
    assert again.run_id != result.run_id


def _home(warehouse: Path, home: Path) -> Path:
    """A fresh ``$RISKWATCH_HOME`` holding a copy of the warehouse."""
    home.mkdir()
    (home / "warehouse.duckdb").write_bytes(warehouse.read_bytes())
    return home


def _snapshot_rows(home: Path, month: str) -> list[dict[str, object]]:
    return sorted(load_snapshot(home, month).to_pylist(), key=lambda r: str(r["uscc"]))


def test_passes_over_buckets_of_enterprises_equal_one_pass(warehouse: Path, tmp_path: Path) -> None:
    dates = month_ends("2025-02", "2025-04")
    homes = {}
    for label, per_pass in (("one", 10**9), ("many", 4)):  # 4 rows a pass: 4 buckets
        home = _home(warehouse, tmp_path / label)
        write_published(home)
        result = run(home, dates, catalogue=CAT, grid_rows_per_pass=per_pass)
        homes[label] = (home, result)
    one, many = homes["one"], homes["many"]
    assert one[1].rows == many[1].rows
    for month in ("2025-02", "2025-03", "2025-04"):
        assert _snapshot_rows(many[0], month) == _snapshot_rows(one[0], month)
    parts = list((many[0] / "indicators/month=2025-03").glob("part-*.parquet"))
    assert len(parts) > 1  # written in several passes, read as one month
    march = {r["uscc"]: r for r in _snapshot_rows(many[0], "2025-03")}
    assert march["A"]["address_cd_share"] == 1.0 and march["C"]["related_risk_score"] == 0.9


def test_a_run_records_what_was_published_when_it_ran(warehouse: Path, tmp_path: Path) -> None:
    home = _home(warehouse, tmp_path / "home")
    dates = month_ends("2025-03", "2025-04")
    before = run(home, dates, catalogue=CAT)
    assert all(r["legal_rep_cd_share"] is None for r in _snapshot_rows(home, "2025-04"))
    write_published(home)
    after = run(home, dates, catalogue=CAT)
    assert after.run_id != before.run_id  # same data and catalogue, more published inputs
    manifest = snapshots.read_month_json(home, "2025-04", "manifest")
    assert manifest["published_read"] == {
        "classes": ["classes:2025-03:run2025-03"],
        "related_risk": [manifest["published_read"]["related_risk"][0]],
    }
    assert manifest["published_read"]["related_risk"][0].startswith("graph:2025-03:")
    assert {r["uscc"]: r["legal_rep_cd_share"] for r in _snapshot_rows(home, "2025-04")}["A"] == 1.0


def test_the_monthly_run_recomputes_a_snapshot_made_before_its_inputs(
    warehouse: Path, tmp_path: Path
) -> None:
    from riskwatch.services.scoring import ScoringService

    home = _home(warehouse, tmp_path / "home")
    service = ScoringService(Settings(home=home), catalogue=CAT)
    april = dt.date(2025, 4, 30)
    assert service._published_since(april)  # no snapshot yet
    run(home, [april], catalogue=CAT)
    assert not service._published_since(april)  # nothing published for March
    write_published(home)  # March's classes and graph appear afterwards
    assert service._published_since(april)
    run(home, [april], catalogue=CAT)
    assert not service._published_since(april)


@pytest.mark.slow
def test_buckets_on_a_synthetic_city(tmp_path: Path) -> None:
    generate(
        SynthConfig(enterprises=1500, as_of=dt.date(2025, 6, 30), seed=11, out=tmp_path / "city",
                    format="parquet")
    )  # fmt: skip
    cfg = Settings(home=tmp_path / "h1", batch_rows=5000)
    IngestService(cfg).run(tmp_path / "city")
    other = tmp_path / "h2"
    other.mkdir()
    (other / "warehouse.duckdb").write_bytes(cfg.warehouse_path.read_bytes())
    dates = month_ends("2025-01", "2025-06")
    run(cfg.home, dates, grid_rows_per_pass=10**9)
    run(other, dates, grid_rows_per_pass=2500, months_per_batch=4)
    for month in ("2025-01", "2025-04", "2025-06"):
        a, b = _snapshot_rows(cfg.home, month), _snapshot_rows(other, month)
        assert len(a) > 1000 and a == b


def test_a_rerun_ignores_what_an_interrupted_run_left(warehouse: Path, tmp_path: Path) -> None:
    home = _home(warehouse, tmp_path / "home")
    dates = month_ends("2025-02", "2025-03")
    first = run(home, dates, catalogue=CAT)
    # an interrupted run of the same months left a staged file behind
    leftover = snapshots.staging_dir(home, first.run_id) / "batch=0-0" / "month=2025-03"
    leftover.mkdir(parents=True)
    part = next((home / "indicators/month=2025-03").glob("part-*.parquet"))
    (leftover / "data_0.parquet").write_bytes(part.read_bytes())
    again = run(home, dates, catalogue=CAT)
    assert again.run_id == first.run_id and again.rows == first.rows
    assert load_snapshot(home, "2025-03").num_rows == first.rows["2025-03"]
