"""Ingest end to end on a real DuckDB file: quirks, bad input, idempotence, atomicity."""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from riskwatch.services.ingest import IngestService, LoadReport
from riskwatch.settings import Settings
from tests.conftest import ENTERPRISE_HEADER, CityFolder, enterprise_row, make_person_id, make_uscc

PENALTY_HEADER = [
    "决定书文号",
    "统一社会信用代码",
    "处罚决定日期",
    "处罚机关",
    "违法行为类型",
    "处罚种类",
    "罚没金额(万元)",
]


def load(settings: Settings, folder: Path, **kw: object) -> LoadReport:
    return IngestService(settings).run(folder, **kw)  # type: ignore[arg-type]


def query(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_city_with_every_quirk_loads(settings: Settings, city: CityFolder) -> None:
    rows = [enterprise_row(i) for i in range(1, 6)]
    rows[0][0] = str(rows[0][0]).lower()  # lower case
    rows[1][0] = f" {str(rows[1][0])[:6]} {str(rows[1][0])[6:]} "  # spaces inside
    rows[2][1] = "郑州丙（河南）有限公司"  # full-width brackets
    rows[3][7] = "410105000000"  # 12-digit region
    rows[4][7] = "410105.0"  # Excel tail
    rows[4][4] = "2020年1月2日"
    city.csv("enterprises.csv", ENTERPRISE_HEADER, rows, encoding="utf-8-sig")
    city.csv(
        "penalties-2024.csv",
        PENALTY_HEADER,
        [
            [
                "郑金罚〔2024〕1号",
                make_uscc(1),
                "2024/3/5",
                "金水区市场监督管理局",
                "虚假宣传",
                "警告、罚款",
                "1.5",
            ]
        ],
        encoding="gbk",
    )
    city.jsonl(
        "complaints.jsonl",
        [
            {
                "complaint_id": "C1",
                "enterprise_name": "郑州丙(河南)有限公司",
                "received_on": "20250102",
                "channel": "12315",
                "kind": "投诉",
                "category": "价格",
            },
            {
                "complaint_id": "C2",
                "enterprise_name": "无此公司",
                "received_on": "2025-01-02",
                "channel": "12315",
                "kind": "投诉",
                "category": "价格",
            },
        ],
    )
    report = load(settings, city.root)
    assert not report.rejected_files
    t = report.tables
    assert (t["enterprises"].rows_read, t["enterprises"].rows_loaded) == (5, 5)
    assert t["penalties"].rows_loaded == 1
    assert t["complaints"].warnings == {"matched_by_name": 1, "unmatched_name": 1}
    assert query(
        settings, "SELECT count(DISTINCT region_code), min(region_code) FROM enterprises"
    ) == [(1, "410105")]
    assert query(settings, "SELECT uscc, uscc_source FROM complaints ORDER BY complaint_id") == [
        (make_uscc(3), "name"),
        (None, "unmatched"),
    ]
    assert query(settings, "SELECT penalty_kinds, decided_on::VARCHAR FROM penalties") == [
        (["警告", "罚款"], "2024-03-05")
    ]


def test_personal_ids_never_reach_the_disk(settings: Settings, city: CityFolder) -> None:
    rows = [enterprise_row(i) for i in range(1, 4)]
    bad_id = "110105194912310029"  # fails its check: quarantined, shown masked
    rows[2][9] = bad_id
    header = [*ENTERPRISE_HEADER, "备注"]
    rows = [[*r, f"联系人{make_person_id(90)}"] for r in rows]
    city.csv("enterprises.csv", header, rows)
    city.csv(
        "officers.csv",
        ["uscc", "person_id", "name", "role"],
        [[make_uscc(1), make_person_id(1), "张1", "法定代表人"]],
    )
    load(settings, city.root)
    blob = settings.warehouse_path.read_bytes()
    for raw in [make_person_id(1), make_person_id(2), make_person_id(90), bad_id]:
        assert raw.encode() not in blob, raw
    assert query(
        settings,
        "SELECT count(*) FROM officers o JOIN enterprises e ON o.person_id = e.legal_rep_id",
    ) == [(1,)]
    assert stat.S_IMODE(settings.secret_path.stat().st_mode) == 0o600


def test_a_second_load_adds_nothing_and_a_later_row_replaces_by_key(
    settings: Settings, city: CityFolder
) -> None:
    city.csv("enterprises.csv", ENTERPRISE_HEADER, [enterprise_row(i) for i in range(1, 4)])
    first = load(settings, city.root)
    again = load(settings, city.root)
    assert first.tables["enterprises"].rows_loaded == 3
    assert again.tables["enterprises"].rows_loaded == 0
    assert again.tables["enterprises"].rows_unchanged == 3
    forced = load(settings, city.root, force=True)
    assert (
        forced.tables["enterprises"].rows_loaded,
        forced.tables["enterprises"].rows_unchanged,
    ) == (0, 3)

    city.csv(
        "enterprises-update.csv",
        ENTERPRISE_HEADER,
        [enterprise_row(2, name="郑州更名有限公司"), enterprise_row(4)],
    )
    update = load(settings, city.root)
    assert update.tables["enterprises"].rows_loaded == 2  # one changed, one new
    assert query(settings, f"SELECT name FROM enterprises WHERE uscc = '{make_uscc(2)}'") == [
        ("郑州更名有限公司",)
    ]
    assert query(settings, "SELECT name FROM enterprises__history") == [("郑州测试2有限公司",)]
    assert query(settings, "SELECT count(*) FROM enterprises") == [(4,)]

    # Re-running the folder (even forced) neither reverts the update nor re-applies it.
    rerun = load(settings, city.root, force=True)
    assert rerun.tables["enterprises"].rows_loaded == 0
    assert rerun.tables["enterprises"].rows_unchanged == 5
    assert query(settings, "SELECT count(*) FROM enterprises__history") == [(1,)]
    assert query(settings, f"SELECT name FROM enterprises WHERE uscc = '{make_uscc(2)}'") == [
        ("郑州更名有限公司",)
    ]


def test_bad_check_characters_are_quarantined_or_flagged(
    settings: Settings, city: CityFolder
) -> None:
    rows = [enterprise_row(i) for i in range(1, 4)]
    good = str(rows[1][0])
    rows[1][0] = good[:-1] + ("0" if good[-1] != "0" else "1")
    city.csv("enterprises.csv", ENTERPRISE_HEADER, rows)
    report = load(settings, city.root)
    assert report.tables["enterprises"].by_reason == {"uscc_check": 1}
    assert query(settings, "SELECT line, column_name, reason FROM quarantine") == [
        (3, "uscc", "uscc_check")
    ]

    flag = settings.model_copy(
        update={"uscc_bad_check": "flag", "home": settings.home.parent / "flag"}
    )
    report = load(flag, city.root)
    assert report.tables["enterprises"].rows_loaded == 3
    assert report.tables["enterprises"].warnings == {"uscc_check_flagged": 1}


def test_fixing_a_file_takes_the_fixed_rows_in(settings: Settings, city: CityFolder) -> None:
    city.csv("enterprises.csv", ENTERPRISE_HEADER, [enterprise_row(1)])
    bad = [
        ["P1", make_uscc(1), "2024-13-01", "局", "无照", "罚款", "1"],
        ["P2", make_uscc(1), "2024-01-01", "局", "无照", "罚没", "1"],
    ]
    city.csv("penalties.csv", PENALTY_HEADER, bad)
    first = load(settings, city.root)
    assert first.tables["penalties"].by_reason == {"bad_date": 1, "bad_enum": 1}
    bad[0][2] = "2024-12-01"
    bad[1][5] = "罚款"
    city.csv("penalties.csv", PENALTY_HEADER, bad)
    second = load(settings, city.root)
    assert second.tables["penalties"].rows_loaded == 2
    assert query(settings, "SELECT count(*) FROM quarantine WHERE superseded_by IS NULL") == [(0,)]
    assert query(settings, "SELECT count(*) FROM quarantine") == [(2,)]


def test_duplicate_keys_keep_the_later_row_and_quarantine_the_earlier(
    settings: Settings, city: CityFolder
) -> None:
    city.csv(
        "enterprises.csv",
        ENTERPRISE_HEADER,
        [enterprise_row(1), enterprise_row(1, name="后来的名称")],
    )
    report = load(settings, city.root)
    assert report.tables["enterprises"].by_reason == {"duplicate_key": 1}
    assert query(settings, "SELECT name FROM enterprises") == [("后来的名称",)]
    assert query(settings, "SELECT line, reason FROM quarantine") == [(2, "duplicate_key")]


def test_a_mid_file_encoding_error_leaves_the_warehouse_as_it_was(
    settings: Settings, city: CityFolder
) -> None:
    rows = [enterprise_row(i) for i in range(1, 3001)]
    path = city.csv("enterprises.csv", ENTERPRISE_HEADER, rows)
    data = path.read_bytes().replace(
        "郑州测试2500有限公司".encode(), "郑州测试2500有限公司".encode("gbk")
    )
    path.write_bytes(data)
    report = load(settings.model_copy(update={"batch_rows": 1000}), city.root)
    (rejected,) = report.rejected_files
    assert "line 2501" in (rejected.error or "")
    assert query(settings, "SELECT count(*) FROM enterprises") == [(0,)]
    assert query(settings, "SELECT reason FROM quarantine") == [("file_rejected",)]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("enterprises.csv", b"", "empty"),
        ("licenses.xlsx", b"PK\x03\x04 this is not a workbook", "not a readable Excel workbook"),
        ("enterprises.csv", "统一社会信用代码,企业名称\n1,2\n".encode(), "required column"),
        (
            "licenses.csv",
            "决定书文号,统一社会信用代码,处罚决定日期,处罚机关,违法行为类型,处罚种类\n".encode(),
            "look like table penalties",
        ),
        ("enterprises.csv", b"\x81\x30\xff\xfe\x00\x00" * 200, "enterprises"),
    ],
)
def test_bad_files_are_rejected_whole_with_a_clear_reason(
    settings: Settings, city: CityFolder, name: str, content: bytes, message: str
) -> None:
    (city.root / name).write_bytes(content)
    report = load(settings, city.root)
    (rejected,) = report.rejected_files
    assert message in (rejected.error or "")
    assert str(city.root / name) in (rejected.error or "")


def test_irregular_rows_are_quarantined_with_their_exact_lines(
    settings: Settings, city: CityFolder
) -> None:
    header = ",".join(ENTERPRISE_HEADER)
    r = [",".join(str(v) for v in enterprise_row(i)) for i in range(1, 5)]
    quoted = r[2].replace("金水区测试路3号", '"金水区\n测试路3号"')
    text = "\n".join([header, r[0], "", "too,few,fields", quoted, r[3]]) + "\n"
    (city.root / "enterprises.csv").write_text(text, "utf-8")
    report = load(settings, city.root)
    assert report.tables["enterprises"].rows_loaded == 3
    assert query(settings, "SELECT line, reason FROM quarantine") == [(4, "bad_row_shape")]
    assert query(settings, "SELECT _source_line FROM enterprises ORDER BY 1") == [(2,), (5,), (7,)]


def test_excel_with_title_rows_parquet_and_jsonl(settings: Settings, city: CityFolder) -> None:
    city.csv("enterprises.csv", ENTERPRISE_HEADER, [enterprise_row(i) for i in range(1, 4)])
    book = xlsxwriter.Workbook(str(city.root / "licenses.xlsx"))
    sheet = book.add_worksheet()
    sheet.merge_range(0, 0, 0, 5, "郑州市行政许可信息")
    sheet.write_row(
        2, 0, ["许可证编号", "统一社会信用代码", "许可类别", "发证日期", "有效期至", "状态"]
    )
    sheet.write_row(
        3, 0, ["JY1", make_uscc(1), "食品经营许可证", "2022-01-01", "2027-01-01", "有效"]
    )
    sheet.write_row(
        4, 0, ["JY2", make_uscc(2), "食品经营许可证", "2022-01-01", "2021-01-01", "有效"]
    )
    sheet.write_row(5, 0, [410105.0, make_uscc(3), "食品经营许可证", 20220101, None, "有效"])
    book.close()
    pq.write_table(
        pa.table(
            {
                "uscc": [make_uscc(1), make_uscc(2)],
                "year": [2023, 2023],
                "submitted_on": pa.array([None, "2024-05-01"], pa.string()),
                "revenue": [1.5, None],
            }
        ),
        city.root / "annual_reports.parquet",
    )
    city.jsonl(
        "opinions.jsonl",
        [
            {
                "opinion_id": "O1",
                "uscc": make_uscc(1),
                "published_on": "2025-01-01",
                "source": "网媒",
                "title": "某公司被曝光销售不合格产品",
            },
            {
                "opinion_id": "O2",
                "uscc": make_uscc(2),
                "published_on": "2025-01-01",
                "source": "网媒",
                "title": "年度会议",
                "sentiment": "正面",
            },
        ],
    )
    report = load(settings, city.root)
    assert report.tables["licenses"].rows_loaded == 2
    assert query(settings, "SELECT file_name, line, reason FROM quarantine") == [
        ("licenses.xlsx", 5, "date_order")
    ]
    assert query(settings, "SELECT license_no, issued_on::VARCHAR FROM licenses ORDER BY 1") == [
        ("410105", "2022-01-01"),
        ("JY1", "2022-01-01"),
    ]
    assert query(
        settings, "SELECT year, submitted_on::VARCHAR FROM annual_reports ORDER BY uscc"
    ) == [(2023, None), (2023, "2024-05-01")]
    assert query(settings, "SELECT sentiment, sentiment_source FROM opinions ORDER BY 1") == [
        ("正面", "given"),
        ("负面", "computed"),
    ]


def test_records_that_arrive_before_their_enterprise_match_later(
    settings: Settings, city: CityFolder
) -> None:
    city.jsonl(
        "complaints.jsonl",
        [
            {
                "complaint_id": "C1",
                "enterprise_name": "郑州测试1有限公司",
                "received_on": "2025-01-02",
                "channel": "12315",
                "kind": "投诉",
                "category": "价格",
            }
        ],
    )
    first = load(settings, city.root)
    assert first.tables["complaints"].warnings == {"unmatched_name": 1}
    city.csv("enterprises.csv", ENTERPRISE_HEADER, [enterprise_row(1)])
    load(settings, city.root)
    assert query(settings, "SELECT uscc, uscc_source FROM complaints") == [(make_uscc(1), "name")]


def test_records_of_unknown_enterprises_are_kept_and_counted(
    settings: Settings, city: CityFolder
) -> None:
    city.csv("enterprises.csv", ENTERPRISE_HEADER, [enterprise_row(1)])
    city.csv(
        "penalties.csv",
        PENALTY_HEADER,
        [["P1", make_uscc(77), "2024-01-01", "局", "无照", "罚款", "1"]],
    )
    report = load(settings, city.root)
    assert report.tables["penalties"].rows_loaded == 1
    assert report.tables["penalties"].warnings == {"unknown_enterprise": 1}


def test_jsonl_whose_columns_change_type_falls_back_line_by_line(
    settings: Settings, city: CityFolder
) -> None:
    base = {"received_on": "2025-01-02", "channel": "12315", "kind": "投诉", "category": "价格",
            "enterprise_name": "某公司"}  # fmt: skip
    rows = [{"complaint_id": f"C{i}", **base} for i in range(3000)]
    rows.append({"complaint_id": 12345, **base, "substantiated": {"nested": True}})
    path = city.jsonl("complaints.jsonl", rows)
    path.write_text(path.read_text("utf-8") + "{not json\n", "utf-8")
    report = load(settings.model_copy(update={"batch_rows": 1000}), city.root)
    assert report.tables["complaints"].rows_loaded == 3000
    assert query(settings, "SELECT line, reason FROM quarantine ORDER BY line") == [
        (3001, "bad_bool"),
        (3002, "bad_json"),
    ]


@pytest.mark.slow
def test_a_hard_crash_mid_file_leaves_the_warehouse_as_it_was(
    settings: Settings, city: CityFolder
) -> None:
    import os
    import subprocess
    import sys

    city.csv("enterprises.csv", ENTERPRISE_HEADER, [enterprise_row(i) for i in range(1, 4)])
    load(settings, city.root)
    city.csv("enterprises-update.csv", ENTERPRISE_HEADER,
             [enterprise_row(i, name=f"新名称{i}") for i in range(1, 5001)])  # fmt: skip
    env = {**os.environ, "RISKWATCH_HOME": str(settings.home), "RISKWATCH_BATCH_ROWS": "1000",
           "RISKWATCH_FAULT_CRASH_AFTER_BATCHES": "2"}  # fmt: skip
    exe = str(Path(sys.executable).parent / "riskwatch")
    crashed = subprocess.run([exe, "ingest", str(city.root)], env=env, capture_output=True)
    assert crashed.returncode == 70
    assert query(settings, "SELECT count(*), min(name) FROM enterprises") == [
        (3, "郑州测试1有限公司")
    ]
    assert query(settings, "SELECT count(*) FROM enterprises__history") == [(0,)]
    del env["RISKWATCH_FAULT_CRASH_AFTER_BATCHES"]
    rerun = subprocess.run([exe, "ingest", str(city.root)], env=env, capture_output=True)
    assert rerun.returncode == 0, rerun.stderr
    assert query(settings, "SELECT count(*) FROM enterprises WHERE name LIKE '新名称%'") == [
        (5000,)
    ]
