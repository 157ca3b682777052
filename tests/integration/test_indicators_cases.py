"""Hand-made warehouse rows shared by the indicator tests (DuckDB and Spark).

Imported by the other ``test_indicators_*`` modules; it holds no tests itself.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from riskwatch.store.warehouse import ensure_schema

ENTERPRISES = [
    # uscc, entity_type, established_on, capital, address, legal_rep_id, deregistered_on
    ("A", "有限责任公司", "2018-05-01", 5.0, "addr-1", "p1", None),
    ("B", "分公司", "2024-03-01", 50.0, "addr-1", "p1", None),
    ("C", "个体工商户", "2015-01-10", 1.0, "addr-1", "p2", None),
    ("D", "有限责任公司", "2019-07-01", 100.0, "addr-2", "p3", "2025-02-15"),
    ("E", "合伙企业", "2025-05-20", 20.0, "addr-2", "p3", None),
    ("F", "股份有限公司", "2010-01-01", 1000.0, "addr-3", "p4", None),
]

ROWS: dict[str, list[str]] = {
    "investments (uscc, holder_type, holder_id, holder_name, subscribed_capital, since)": [
        "('A', '自然人', 'h1', 'x', 1, '2018-05-01')",
        "('C', '自然人', 'h1', 'x', 1, NULL)",
        "('F', '企业', 'A', 'a', 10, '2024-11-01')",
        "('F', '自然人', 'h2', 'y', 10, '2010-01-01')",
    ],
    "changes (uscc, changed_on, item)": [
        "('A', '2024-12-01', '法定代表人')",
        "('A', '2025-02-01', '住所')",
        "('A', '2022-01-01', '注册资本')",
        "('C', '2025-03-01', '经营范围')",
    ],
    "annual_reports (uscc, year, submitted_on, corrected)": [
        "('A', 2022, '2023-05-01', false)",
        "('A', 2023, '2024-09-01', true)",
        "('C', 2023, '2024-06-01', false)",
        "('C', 2024, NULL, NULL)",
        "('F', 2024, '2025-03-01', false)",
        "('F', 2023, '2024-03-01', false)",
        "('F', 2022, '2023-03-01', false)",
    ],
    "abnormal_listings (uscc, listed_on, reason, removed_on)": [
        "('B', '2024-09-01', '未按规定报送年度报告', '2025-03-31')",
        "('C', '2023-07-10', '通过登记的住所或者经营场所无法联系', NULL)",
        "('F', '2021-01-01', '未按规定报送年度报告', '2021-06-01')",
    ],
    "serious_violations (uscc, listed_on, reason, removed_on)": [
        "('C', '2024-11-05', 'x', NULL)",
        "('D', '2022-01-01', 'y', '2024-12-31')",
    ],
    "penalties (decision_no, uscc, decided_on, authority, violation, penalty_kinds, fine, domain,"
    " publicity_until, repaired_on)": [
        "('d1', 'A', '2025-01-10', 'x', 'v', ['罚款', '警告'], 1.25, '食品', '2025-04-30', NULL)",
        "('d2', 'A', '2024-02-01', 'x', 'v', ['吊销许可证'], 0.5, '药品', '2027-02-01',"
        " '2025-03-15')",
        "('d3', 'C', '2023-06-01', 'x', 'v', ['警告'], NULL, NULL, NULL, NULL)",
        "('d4', 'F', '2025-05-05', 'x', 'v', ['责令停产停业', '罚款'], 3.333, '特种设备',"
        " '2026-05-05', NULL)",
    ],
    "licenses (license_no, uscc, kind, issued_on, valid_until, status)": [
        "('l1', 'A', 'k', '2020-01-01', '2025-06-15', '有效')",
        "('l2', 'A', 'k', '2021-01-01', '2025-02-10', '有效')",
        "('l3', 'F', 'k', '2022-01-01', NULL, '有效')",
    ],
    "inspections (uscc, task_id, inspected_on, kind, result)": [
        "('A', 't1', '2023-05-01', '双随机', '发现问题已责令改正')",
        "('A', 't2', '2025-03-20', '双随机', '未发现问题')",
        "('C', 't3', '2024-08-01', '专项', '不配合检查情节严重')",
        "('F', 't4', '2025-01-15', '日常', '通过登记的住所（经营场所）无法联系')",
    ],
    "complaints (complaint_id, uscc, received_on, channel, kind, category, substantiated)": [
        "('c1', 'A', '2025-03-20', '12315', '投诉', '食品安全', true)",
        "('c2', 'A', '2025-01-05', '12345', '举报', '价格', false)",
        "('c3', 'A', '2024-08-01', '网络', '投诉', '产品质量', NULL)",
        "('c4', 'A', '2025-03-25', '网络', '咨询', '其他', NULL)",
        "('c5', NULL, '2025-03-01', '网络', '投诉', '其他', NULL)",
        "('c6', 'F', '2025-02-28', '来信', '投诉', '虚假宣传', true)",
    ],
    "judicial (case_no, uscc, filed_on, role, case_type, amount, closed_on)": [
        "('j1', 'A', '2024-10-01', '被告', 'x', 12.5, NULL)",
        "('j2', 'C', '2024-06-01', '失信被执行人', 'x', NULL, NULL)",
        "('j3', 'F', '2023-01-01', '被执行人', 'x', NULL, '2025-02-01')",
        "('j4', 'F', '2025-01-01', '失信被执行人', 'x', NULL, '2025-03-01')",
    ],
    "opinions (opinion_id, uscc, published_on, source, title, sentiment)": [
        "('o1', 'A', '2025-03-01', 's', 't', '负面')",
        "('o2', 'A', '2024-12-01', 's', 't', '中性')",
        "('o3', 'F', '2025-01-01', 's', 't', '负面')",
    ],
}


def build_warehouse(path: Path, extra: list[str] | None = None) -> Path:
    """Create a warehouse file with the cases (plus extra INSERT statements)."""
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
        for e in ENTERPRISES:
            con.execute(
                "INSERT INTO enterprises (uscc, name, entity_type, status, established_on,"
                " registered_capital, industry_code, region_code, address, legal_rep_id,"
                " legal_rep_name, deregistered_on) VALUES (?, 'n', ?, '存续', ?, ?, 'F52',"
                " '110101', ?, ?, 'r', ?)",
                list(e),
            )
        for head, values in ROWS.items():
            con.execute(f"INSERT INTO {head} VALUES {', '.join(values)}")
        for stmt in extra or []:
            con.execute(stmt)
    finally:
        con.close()
    return path


PUBLISHED_CLASSES = {
    # the month before March 2025: what a March as-of reads (B was not classed)
    "2025-02": {"A": "B", "C": "D", "F": "C"},
    # March's own classes: never read by a March as-of (they are computed from it)
    "2025-03": {"A": "D", "B": "D", "C": "A", "F": "A"},
}
PUBLISHED_RELATED_RISK = {"2025-02": {"A": 0.25, "C": 0.9}, "2025-03": {"A": 0.99, "B": 0.99}}


def write_published(home: Path) -> Path:
    """Publish classes and graph related-party risk for February and March 2025 in ``home``,
    laid out as ``riskwatch run`` and ``riskwatch graph build`` write them."""
    for month, classes in PUBLISHED_CLASSES.items():
        folder = home / "classes" / f"month={month}"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.table(
            {
                "uscc": list(classes),
                "month": [month] * len(classes),
                "class": list(classes.values()),
                "score": [500] * len(classes),
            }
        )
        pq.write_table(table, folder / f"part-run{month}-00000.parquet")
        (folder / "_run.json").write_text(json.dumps({"run_id": f"run{month}"}), "utf-8")
    for month, scores in PUBLISHED_RELATED_RISK.items():
        folder = home / "graph" / "related_risk"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.table(
            {
                "uscc": list(scores),
                "as_of": pa.array([dt.date(2025, 2, 28)] * len(scores), pa.date32()),
                "related_risk_score": list(scores.values()),
                "related_risky_count": [1] * len(scores),
                "related_count": [2] * len(scores),
            }
        )
        pq.write_table(table, folder / f"month={month}.parquet")
    return home
