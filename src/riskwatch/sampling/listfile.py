"""The drawn list as a file (.csv/.xlsx) and the results a clerk fills into it.

Written with :func:`riskwatch.exports.write_table`; read back through riskwatch's ingest
readers (encoding detection, Excel title rows, Chinese or English headers), so a list
that went through Excel and back still reads.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from riskwatch.errors import FileFormatError, InputError
from riskwatch.exports import write_table
from riskwatch.ingest.contract import Column, Kind, Table
from riskwatch.ingest.readers import (
    FORMATS,
    ShapeError,
    SourceFile,
    iter_csv_exact,
    iter_xlsx,
    open_csv_file,
    open_xlsx_file,
)

LIST_COLUMNS: tuple[str, ...] = (
    "plan_id",
    "uscc",
    "name",
    "class",
    "inclusion_probability",
    "inspectors",
    "region_code",
    "draw_rank",
)
"""Columns of a drawn-list file, in order (the issue's five plus plan, region, rank)."""

LIST_TABLE = Table(
    "sample_list",
    "抽查名单",
    (
        Column("plan_id", "抽查任务编号", Kind.TEXT, required=False, aliases=("task_id",)),
        Column("uscc", "统一社会信用代码", Kind.TEXT),
        Column("name", "企业名称", Kind.TEXT, required=False),
        Column("class", "风险分类", Kind.TEXT, required=False, aliases=("分类", "类别")),
        Column("inclusion_probability", "入样概率", Kind.TEXT, required=False),
        Column("inspectors", "检查人员", Kind.TEXT, required=False, aliases=("inspector_ids",)),
        Column("region_code", "住所行政区划代码", Kind.TEXT, required=False),
        Column("draw_rank", "抽取顺序", Kind.TEXT, required=False),
        Column("result", "检查结果", Kind.TEXT, required=False),
        Column("inspected_on", "检查日期", Kind.TEXT, required=False),
        Column("items", "检查事项", Kind.TEXT, required=False),
    ),
    key=("uscc",),
)
"""How list and results files are read: only ``uscc`` is required."""


def write_list(table: pa.Table, path: Path) -> int:
    """Write a drawn list (columns :data:`LIST_COLUMNS`) to .csv or .xlsx."""
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"{path}: write the list as .csv or .xlsx")
    cols = {name: table[name] for name in LIST_COLUMNS if name in table.column_names}
    if "inspectors" in cols:
        cols["inspectors"] = pa.array(
            [";".join(v or []) for v in table["inspectors"].to_pylist()], pa.string()
        )
    return write_table(pa.table(cols), path)


def read_list(path: Path) -> pa.Table:
    """Read a list or results file: text columns of :data:`LIST_TABLE` plus ``_line``."""
    if not path.is_file():
        raise FileFormatError(str(path), "no such file")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt not in ("csv", "xlsx"):
        raise FileFormatError(str(path), "read a list from .csv or .xlsx")
    source = SourceFile(path, LIST_TABLE, fmt)
    if fmt == "csv":
        shape: list[ShapeError] = []
        batches = [b.data for b in iter_csv_exact(open_csv_file(source), 100_000, shape)]
        if shape:
            raise FileFormatError(
                str(path),
                f"line {shape[0].line}: {shape[0].fields} fields, expected {shape[0].expected}",
            )
    else:
        opened, rows = open_xlsx_file(source)
        batches = [b.data for b in iter_xlsx(opened, rows, 100_000)]
    if not batches:
        return pa.table({"uscc": pa.array([], pa.string()), "_line": pa.array([], pa.int64())})
    return pa.concat_tables(batches, promote_options="default")
