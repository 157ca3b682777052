from __future__ import annotations

from pathlib import Path

import pytest

from riskwatch.errors import FileFormatError, SchemaError
from riskwatch.ingest.contract import TABLES
from riskwatch.ingest.readers import (
    SourceFile,
    detect_encoding,
    discover,
    find_header,
    map_headers,
    table_for_path,
)


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("penalties.csv", "penalties"),
        ("penalties-2024.xlsx", "penalties"),
        ("abnormal_listings.parquet", "abnormal_listings"),
        ("annual_reports-part1.jsonl", "annual_reports"),
        ("readme.txt", None),
        ("penaltiesx.csv", None),
    ],
)
def test_file_names_point_to_tables(name: str, table: str | None) -> None:
    found = table_for_path(Path(name))
    assert (found.name if found else None) == table


def test_discover_orders_by_contract_then_base_file_first(tmp_path: Path) -> None:
    for name in [
        "penalties-2023.csv",
        "enterprises-update.csv",
        "enterprises.csv",
        "notes.md",
        "penalties.csv",
    ]:
        (tmp_path / name).write_text("x")
    files, ignored = discover(tmp_path)
    assert [f.path.name for f in files] == [
        "enterprises.csv",
        "enterprises-update.csv",
        "penalties.csv",
        "penalties-2023.csv",
    ]
    assert [p.name for p in ignored] == ["notes.md"]


def test_encodings_are_detected() -> None:
    text = "统一社会信用代码,企业名称\n91410105MA44AAAA0Y,郑州甲有限公司\n"
    assert detect_encoding(Path("x"), text.encode("utf-8")) == "utf-8"
    assert detect_encoding(Path("x"), b"\xef\xbb\xbf" + text.encode("utf-8")) == "utf-8-sig"
    assert detect_encoding(Path("x"), (text * 5).encode("gbk")) == "gb18030"
    with pytest.raises(FileFormatError, match="empty"):
        detect_encoding(Path("x"), b"  \n")


def _source(table: str) -> SourceFile:
    return SourceFile(Path(f"{table}.csv"), TABLES[table], "csv")


def test_header_found_below_title_rows() -> None:
    rows = [
        ["郑州市行政处罚信息"],
        [],
        ["决定书文号", "统一社会信用代码", "处罚决定日期", "处罚机关", "违法行为类型", "处罚种类"],
    ]
    assert find_header(_source("penalties"), rows) == 2


def test_a_file_of_another_table_is_named() -> None:
    rows = [
        ["决定书文号", "统一社会信用代码", "处罚决定日期", "处罚机关", "违法行为类型", "处罚种类"]
    ]
    with pytest.raises(SchemaError, match="look like table penalties"):
        find_header(_source("licenses"), rows)


def test_missing_required_column_is_named_with_its_label() -> None:
    with pytest.raises(SchemaError, match=r"missing .*penalty_kinds \(处罚种类\)"):
        map_headers(
            _source("penalties"),
            ["决定书文号", "uscc", "处罚决定日期", "处罚机关", "违法行为类型"],
            1,
        )


def test_two_headers_for_one_column_are_refused() -> None:
    with pytest.raises(SchemaError, match="both mean column 'uscc'"):
        map_headers(
            _source("officers"), ["uscc", "统一社会信用代码", "证件号码", "姓名", "职务"], 1
        )


def test_unknown_columns_are_kept_as_extra() -> None:
    mapping = map_headers(_source("officers"), ["uscc", "person_id", "name", "role", "备注"], 1)
    assert mapping["备注"] is None
    assert mapping["uscc"] == "uscc"
