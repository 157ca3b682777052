"""Streaming file writers (CSV, XLSX, JSON Lines, Parquet) that track physical line numbers.

Every sink appends chunk after chunk so memory stays bounded, and knows the line (CSV,
JSONL), sheet row (XLSX) or row index + 2 (Parquet) of each row it writes, which is how
``truth/bad_rows.csv`` points at the deliberately bad rows.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import xlsxwriter

from riskwatch.ingest.contract import TABLES
from riskwatch.synth.formats import BAD_COLUMN, BAD_REASON, PART, FileSpec

XLSX_MAX_ROWS = 1_000_000
EXCEL_EPOCH_OFFSET = 25_569  # days from 1899-12-30 to 1970-01-01
XLSX_FIRST_DATA_ROW = 4  # a merged title row, a blank row, the header, then data
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "jsonl": "jsonl", "parquet": "parquet"}


def headers(name: str, columns: list[str], spec: FileSpec) -> list[str]:
    """Column headers: the contract name or its Chinese label."""
    if spec.headers != "zh":
        return columns
    table = TABLES[name]
    labels = {c.name: c.label for c in table.columns}
    return [labels.get(c, c) for c in columns]


class _Sink:
    first_line = 2

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0

    def write(self, data: pa.Table) -> int:
        """Append rows; return the physical line of the first one."""
        line = self.first_line + self.rows
        self._write(data)
        self.rows += data.num_rows
        return line

    def _write(self, data: pa.Table) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the file."""


class CsvSink(_Sink):
    """CSV through pyarrow, re-encoded to GBK or prefixed with a BOM as the spec says."""

    def __init__(self, path: Path, spec: FileSpec, names: list[str]) -> None:
        super().__init__(path)
        self.encoding = spec.encoding
        self.names = names
        self.fh = path.open("wb")
        self.header_done = False
        if spec.encoding == "utf-8-sig":
            self.fh.write(b"\xef\xbb\xbf")

    def _write(self, data: pa.Table) -> None:
        buf = io.BytesIO()
        options = pacsv.WriteOptions(include_header=not self.header_done)
        self.header_done = True
        pacsv.write_csv(data.rename_columns(self.names), buf, options)
        raw = buf.getvalue()
        if self.encoding == "gbk":
            raw = raw.decode("utf-8").encode("gbk")
        self.fh.write(raw)

    def close(self) -> None:
        self.fh.close()


class JsonlSink(_Sink):
    """JSON Lines built column-wise (values are escaped; no per-row Python loop)."""

    first_line = 1

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.fh = path.open("wb")

    def _write(self, data: pa.Table) -> None:
        # Slices bound the memory the line strings take.
        for start in range(0, data.num_rows, 200_000):
            self._write_slice(data.slice(start, 200_000))

    def _write_slice(self, data: pa.Table) -> None:
        parts: list[Any] = []
        for i, name in enumerate(data.column_names):
            col = data.column(name).combine_chunks()
            if pa.types.is_string(col.type):
                if pc.any(pc.match_substring_regex(col, r'["\\\x00-\x1f]')).as_py():
                    col = pc.replace_substring(col, "\\", "\\\\")
                    col = pc.replace_substring(col, '"', '\\"')
                    col = pc.replace_substring_regex(col, r"[\x00-\x1f]", " ")
                value = pc.binary_join_element_wise('"', col, '"', "")
            elif pa.types.is_boolean(col.type):
                value = pc.if_else(col, "true", "false")
            else:
                value = pc.cast(col, pa.string())
            value = pc.fill_null(value, "null")
            parts.extend([("{" if i == 0 else ",") + f'"{name}":', value])
        parts.append("}\n")
        lines = pc.binary_join_element_wise(*parts, "")
        if len(lines) == 0:
            return
        # The data buffer of a null-free string array is the lines back to back.
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset :]
        data = lines.buffers()[2]
        self.fh.write(memoryview(data)[offsets[0] : offsets[len(lines)]])

    def close(self) -> None:
        self.fh.close()


class ParquetSink(_Sink):
    """One Parquet file, one row group per chunk."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        super().__init__(path)
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")

    def _write(self, data: pa.Table) -> None:
        self.writer.write_table(data.cast(self.writer.schema))

    def close(self) -> None:
        self.writer.close()


class XlsxSink(_Sink):
    """An Excel workbook with a merged title row and a blank row above the header."""

    first_line = XLSX_FIRST_DATA_ROW

    def __init__(self, path: Path, title: str, names: list[str]) -> None:
        super().__init__(path)
        self.book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        # A fixed creation time keeps the workbook byte-identical across runs.
        self.book.set_properties({"created": dt.datetime(2000, 1, 1)})
        self.sheet = self.book.add_worksheet("Sheet1")
        self.date_format = self.book.add_format({"num_format": "yyyy-mm-dd"})
        bold = self.book.add_format({"bold": True, "align": "center"})
        self.sheet.merge_range(0, 0, 0, len(names) - 1, title, bold)
        for j, n in enumerate(names):
            self.sheet.write_string(XLSX_FIRST_DATA_ROW - 2, j, n)

    def _write(self, data: pa.Table) -> None:
        # constant_memory flushes a row once the next one starts: write row by row.
        base = XLSX_FIRST_DATA_ROW - 1 + self.rows
        columns = []
        for name in data.column_names:
            col = data.column(name).combine_chunks()
            if pa.types.is_date32(col.type):
                # Excel's serial day: days since 1899-12-30, shown with a date format.
                serial = pc.add(col.cast(pa.int32()), EXCEL_EPOCH_OFFSET).to_pylist()
                columns.append(("date", serial))
            elif pa.types.is_string(col.type):
                columns.append(("string", col.to_pylist()))
            else:
                columns.append(("number", col.to_pylist()))
        sheet, fmt = self.sheet, self.date_format
        for i in range(data.num_rows):
            for j, (kind, values) in enumerate(columns):
                v = values[i]
                if v is None:
                    continue
                if kind == "string":
                    sheet.write_string(base + i, j, v)
                elif kind == "date":
                    sheet.write_number(base + i, j, v, fmt)
                else:
                    sheet.write_number(base + i, j, v)

    def close(self) -> None:
        self.book.close()


class Output:
    """All files of a city: opens sinks on demand and records bad-row lines."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.sinks: dict[str, _Sink] = {}
        self.counts: dict[str, int] = {}
        self.bad_rows: list[tuple[str, int, str, str, str]] = []
        self.xlsx_parts: dict[str, int] = {}

    def write(self, name: str, data: pa.Table, spec: FileSpec, suffix: str | None = None) -> None:
        """Write a presented chunk table (``name`` may be ``table-suffix``)."""
        table = name.split("-")[0]
        if spec.split and PART in data.column_names:
            parts = data.column(PART).combine_chunks()
            for value in pc.unique(parts).to_pylist():
                self.write(
                    name, data.filter(pc.equal(parts, value)).drop_columns([PART]), spec, str(value)
                )
            return
        if PART in data.column_names:
            data = data.drop_columns([PART])
        bad_col = (
            data.column(BAD_COLUMN).combine_chunks() if BAD_COLUMN in data.column_names else None
        )
        bad_reason = data.column(BAD_REASON).combine_chunks() if bad_col is not None else None
        if bad_col is not None:
            data = data.drop_columns([BAD_COLUMN, BAD_REASON])
        if spec.fmt == "xlsx":
            for start in range(0, max(data.num_rows, 1), XLSX_MAX_ROWS):
                self.xlsx_parts[table] = self.xlsx_parts.get(table, 0) + 1
                stem = f"{name}-{self.xlsx_parts[table]:05d}"
                piece = data.slice(start, XLSX_MAX_ROWS)
                names = headers(table, piece.column_names, spec)
                book = XlsxSink(self.out / f"{stem}.xlsx", f"{TABLES[table].label}导出数据", names)
                self._record(book, piece, table, bad_col, bad_reason, start)
                book.close()
                self.counts[book.path.name] = book.rows
            return
        stem = f"{name}-{suffix}" if suffix else name
        file = f"{stem}.{EXTENSIONS[spec.fmt]}"
        sink = self.sinks.get(file)
        if sink is None:
            path = self.out / file
            names = headers(table, data.column_names, spec)
            if spec.fmt == "csv":
                sink = CsvSink(path, spec, names)
            elif spec.fmt == "jsonl":
                sink = JsonlSink(path)
            else:
                sink = ParquetSink(path, data.schema)
            self.sinks[file] = sink
        self._record(sink, data, table, bad_col, bad_reason, 0)
        self.counts[file] = sink.rows

    def _record(
        self,
        sink: _Sink,
        data: pa.Table,
        table: str,
        bad_col: pa.Array | None,
        bad_reason: pa.Array | None,
        start: int,
    ) -> None:
        line = sink.write(data)
        if bad_col is None or bad_reason is None:
            return
        cols = bad_col.slice(start, data.num_rows)
        reasons = bad_reason.slice(start, data.num_rows)
        for i in np.flatnonzero(cols.is_valid().to_numpy(zero_copy_only=False)):
            self.bad_rows.append(
                (sink.path.name, line + int(i), table, cols[i].as_py(), reasons[i].as_py())
            )

    def close(self) -> None:
        """Close every open file."""
        for sink in self.sinks.values():
            sink.close()
