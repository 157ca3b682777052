"""Write a list to CSV (UTF-8 with BOM, so Excel opens Chinese correctly) or XLSX."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from riskwatch.errors import InputError


def write_table(table: pa.Table, path: Path, headers: Mapping[str, str] | None = None) -> int:
    """Write ``table`` to ``path`` (.csv or .xlsx) and return the number of rows written.

    Parameters
    ----------
    table
        The rows.
    path
        Target file; its suffix picks the format.
    headers
        Optional display names by column (e.g. Chinese labels).
    """
    suffix = path.suffix.lower()
    names = [headers.get(c, c) if headers else c for c in table.column_names]
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = table.to_pylist()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(names)
            for row in rows:
                writer.writerow(["" if v is None else _cell(v) for v in row.values()])
        return len(rows)
    if suffix == ".xlsx":
        import xlsxwriter

        if len(rows) >= 1_048_575:
            raise InputError(f"{path}: {len(rows)} rows do not fit one Excel sheet; use .csv")
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = book.add_worksheet()
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, names, bold)
        for i, row in enumerate(rows, start=1):
            sheet.write_row(i, 0, ["" if v is None else _cell(v) for v in row.values()])
        sheet.freeze_panes(1, 0)
        book.close()
        return len(rows)
    raise InputError(f"{path}: export to .csv or .xlsx")


def _cell(value: object) -> str | int | float:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)
