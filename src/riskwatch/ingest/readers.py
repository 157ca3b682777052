"""Readers: find the contract table of a file, its format, encoding and header row, and
stream its rows as Arrow batches of text with their physical line numbers.

Every reader yields :class:`RawBatch` objects whose columns are the contract column names
(text, ``None`` for missing), ``_line`` (the line a clerk finds the row on: the header is
on its own line, so the first data row of a plain CSV is line 2; for XLSX the sheet row;
for JSONL the line; for Parquet the row index + 2) and ``_extra`` (unknown columns as a
JSON object, kept, not rejected).
"""

from __future__ import annotations

import csv
import io
import json
import mmap
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
from charset_normalizer import from_bytes

from riskwatch.errors import FileFormatError, SchemaError
from riskwatch.ingest.contract import TABLES, Table

Format = Literal["csv", "xlsx", "parquet", "jsonl"]
FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
MISSING = frozenset({"", "null", "NULL", "None", "nan", "NaN", "N/A", "n/a", "-", "--", "—", "/"})
HEADER_SCAN_ROWS = 30
SAMPLE_BYTES = 256 * 1024


@dataclass(frozen=True)
class SourceFile:
    """A file found in an input folder, with the contract table its name points to."""

    path: Path
    table: Table
    fmt: Format

    @property
    def order_key(self) -> tuple[int, int, str]:
        """Load order: tables in contract order; ``t.ext`` before ``t-suffix.ext``."""
        tables = list(TABLES)
        exact = 0 if self.path.stem == self.table.name else 1
        return (tables.index(self.table.name), exact, self.path.name)


@dataclass
class RawBatch:
    """Rows of one file as text, renamed to contract columns."""

    data: pa.Table
    """Contract columns present in the file (string), ``_line`` (int64), ``_extra``."""


@dataclass
class OpenedFile:
    """A file whose format, encoding and header are known."""

    source: SourceFile
    header_line: int
    """1-based line (or sheet row) of the header; 0 for formats without one."""
    mapping: dict[str, str | None]
    """raw header → contract column (None: an unknown column, kept in ``_extra``)."""
    encoding: str | None = None
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [c for c in self.mapping.values() if c is not None]


def table_for_path(path: Path) -> Table | None:
    """The contract table named by a file: ``penalties.csv`` or ``penalties-2024.csv``."""
    stem = path.stem.lower()
    # Longest name first so that a table named like the prefix of another never wins.
    for name in sorted(TABLES, key=len, reverse=True):
        if stem == name or stem.startswith((name + "-", name + "_")):
            return TABLES[name]
    return None


def discover(folder: Path) -> tuple[list[SourceFile], list[Path]]:
    """Contract files in a folder (in load order) and the files that match no table."""
    if not folder.is_dir():
        raise FileFormatError(str(folder), "not a folder")
    found: list[SourceFile] = []
    ignored: list[Path] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.name.startswith((".", "~$")):
            continue
        table = table_for_path(path)
        fmt = FORMATS.get(path.suffix.lower())
        if table is None or fmt is None:
            ignored.append(path)
        else:
            found.append(SourceFile(path, table, fmt))
    found.sort(key=lambda s: s.order_key)
    return found, ignored


# --- headers -----------------------------------------------------------------------------


def header_key(text: str) -> str:
    """Fold a header for matching: NFKC, no spaces, no BOM, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lstrip("\ufeff").lower()


def _header_index(table: Table) -> dict[str, str]:
    return {header_key(h): c.name for c in table.columns for h in c.headers}


def _score_row(cells: list[str], table: Table) -> int:
    index = _header_index(table)
    return len({index[k] for k in (header_key(c) for c in cells) if k in index})


def map_headers(source: SourceFile, cells: list[str], line: int) -> dict[str, str | None]:
    """Map a header row to contract columns; refuse duplicates and missing required ones."""
    index = _header_index(source.table)
    mapping: dict[str, str | None] = {}
    seen: dict[str, str] = {}
    for raw in cells:
        if raw in mapping:
            raise SchemaError(str(source.path), f"line {line}: the header {raw!r} appears twice")
        col = index.get(header_key(raw))
        if col is not None and col in seen:
            raise SchemaError(
                str(source.path),
                f"line {line}: headers {seen[col]!r} and {raw!r} both mean column {col!r}",
            )
        if col is not None:
            seen[col] = raw
        mapping[raw] = col
    missing = [c for c in source.table.required if c not in seen]
    if missing:
        shown = ", ".join(f"{c} ({source.table.column(c).label})" for c in missing)
        raise SchemaError(
            str(source.path),
            f"line {line}: required column(s) missing for table {source.table.name} "
            f"({source.table.label}): {shown}",
        )
    return mapping


def find_header(source: SourceFile, rows: list[list[str]], first_line: int = 1) -> int:
    """Index (0-based, in ``rows``) of the header row: the first row naming enough columns.

    A title row merged above the header, blank rows and notes are skipped. When no row
    fits, the error says which other table the file looks like, if any.
    """
    table = source.table
    need = max(2, (len(table.required) + 1) // 2)
    scores = [_score_row(cells, table) for cells in rows]
    for i, score in enumerate(scores):
        if score >= need:
            return i
    own = max(scores, default=0)
    best: tuple[int, str] | None = None
    for other in TABLES.values():
        if other.name == table.name:
            continue
        score = max((_score_row(cells, other) for cells in rows), default=0)
        if score >= 2 and score > own and (best is None or score > best[0]):
            best = (score, other.name)
    if best is None and own >= 2:
        # A header of this table missing columns: let map_headers name what is missing.
        return scores.index(own)
    hint = ""
    if best is not None:
        hint = (
            f"; its columns look like table {best[1]} ({TABLES[best[1]].label}), "
            f"so check the file name"
        )
    expected = ", ".join(f"{c.label}/{c.name}" for c in table.columns if c.required)
    raise SchemaError(
        str(source.path),
        f"no header row for table {table.name} ({table.label}) in the first "
        f"{len(rows)} rows from line {first_line}; expected columns {expected}{hint}",
    )


# --- CSV ---------------------------------------------------------------------------------


def detect_encoding(path: Path, sample: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or a Chinese legacy encoding."""
    if not sample.strip(b"\xef\xbb\xbf \r\n\t"):
        raise FileFormatError(str(path), "the file is empty")
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    cut = sample if len(sample) < SAMPLE_BYTES else sample[: sample.rfind(b"\n") + 1]
    try:
        cut.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(cut, cp_isolation=["gb18030", "big5", "utf_16"]).best()
    if best is None:
        raise FileFormatError(
            str(path), "cannot tell the text encoding: the file is neither UTF-8 nor GBK/GB18030"
        )
    # GB18030 is a superset of GBK and GB2312: decoding as it never loses a character.
    return "gb18030" if best.encoding in ("gb2312", "gbk", "gb18030") else str(best.encoding)


def _sniff_delimiter(text: str, path: Path) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(text[:20000], delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def open_csv_file(source: SourceFile) -> OpenedFile:
    """Detect encoding, delimiter and header row of a CSV file."""
    with source.path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    encoding = detect_encoding(source.path, sample)
    try:
        text = sample.decode(encoding, errors="strict" if len(sample) < SAMPLE_BYTES else "ignore")
    except UnicodeDecodeError as exc:
        raise FileFormatError(str(source.path), f"cannot decode as {encoding}: {exc}") from None
    lines = text.splitlines()[:HEADER_SCAN_ROWS]
    delimiter = _sniff_delimiter("\n".join(lines), source.path)
    rows = [next(csv.reader([line], delimiter=delimiter), []) for line in lines]
    idx = find_header(source, rows)
    header = [c.strip().lstrip("\ufeff") for c in rows[idx]]
    mapping = map_headers(source, header, idx + 1)
    return OpenedFile(source, idx + 1, mapping, encoding=encoding, delimiter=delimiter)


class NeedExactLines(Exception):
    """The fast CSV path cannot tell exact line numbers for this file."""


def _finish_batch(
    opened: OpenedFile, names: list[str], columns: list[pa.Array], lines: pa.Array
) -> RawBatch:
    """Rename raw columns to contract names, pack unknown ones into ``_extra``."""
    out: dict[str, pa.Array] = {}
    extra_names: list[str] = []
    extra_cols: list[pa.Array] = []
    for raw, arr in zip(names, columns, strict=True):
        col = opened.mapping.get(raw)
        if col is None:
            extra_names.append(raw)
            extra_cols.append(arr)
        else:
            out[col] = arr
    out["_line"] = lines
    if extra_names:
        rows = zip(*(a.to_pylist() for a in extra_cols), strict=True)
        out["_extra"] = pa.array(
            [
                json.dumps(
                    {k: v for k, v in zip(extra_names, r, strict=True) if v not in MISSING},
                    ensure_ascii=False,
                )
                for r in rows
            ],
            pa.string(),
        )
    else:
        out["_extra"] = pa.nulls(len(lines), pa.string())
    return RawBatch(pa.table(out))


def _drop_blank(table: pa.Table, lines: pa.Array) -> tuple[pa.Table, pa.Array]:
    """Drop rows whose every cell is empty (blank lines, trailing separators)."""
    if table.num_rows == 0 or table.num_columns == 0:
        return table, lines
    nonblank = None
    for col in table.columns:
        filled = pc.not_equal(pc.utf8_length(pc.fill_null(col, "")), 0)
        nonblank = filled if nonblank is None else pc.or_(nonblank, filled)
    if nonblank is None or pc.all(nonblank).as_py():
        return table, lines
    return table.filter(nonblank), pc.filter(lines, nonblank)


def iter_csv_fast(opened: OpenedFile, batch_rows: int) -> Iterator[RawBatch]:
    """Stream a CSV file with Arrow; raise :class:`NeedExactLines` on any irregular row."""
    names = list(opened.mapping)
    irregular: list[int] = []

    def on_invalid(_row: Any) -> str:
        irregular.append(1)
        return "skip"

    block = max(64 << 10, min(64 << 20, batch_rows * 200))
    reader = pacsv.open_csv(
        opened.source.path,
        read_options=pacsv.ReadOptions(
            skip_rows=opened.header_line,
            column_names=names,
            encoding="utf8" if opened.encoding in ("utf-8", "utf-8-sig") else opened.encoding,
            block_size=block,
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=opened.delimiter,
            invalid_row_handler=on_invalid,
            ignore_empty_lines=False,
            newlines_in_values=False,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    next_line = opened.header_line + 1
    for record_batch in reader:
        if irregular:
            raise NeedExactLines
        table = pa.Table.from_batches([record_batch])
        for col in table.columns:
            if pc.any(pc.match_substring(col, "\n")).as_py():
                raise NeedExactLines
        n = table.num_rows
        lines = pa.array(range(next_line, next_line + n), pa.int64())
        next_line += n
        table, lines = _drop_blank(table, lines)
        if table.num_rows:
            yield _finish_batch(opened, names, table.columns, lines)
    if irregular:
        raise NeedExactLines


@dataclass
class ShapeError:
    """A CSV record whose number of fields differs from the header's."""

    line: int
    fields: int
    expected: int
    text: str


def iter_csv_exact(
    opened: OpenedFile, batch_rows: int, shape_errors: list[ShapeError]
) -> Iterator[RawBatch]:
    """Stream a CSV file with the csv module, tracking the exact line of every record.

    Slower than :func:`iter_csv_fast`; used for files with irregular rows or quoted line
    breaks. Records with the wrong number of fields go to ``shape_errors``.
    """
    names = list(opened.mapping)
    width = len(names)
    with opened.source.path.open(encoding=opened.encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=opened.delimiter)
        for _ in range(opened.header_line):
            next(reader, None)
        cols: list[list[str]] = [[] for _ in names]
        lines: list[int] = []
        start = reader.line_num + 1
        for record in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != width:
                shape_errors.append(
                    ShapeError(line, len(record), width, opened.delimiter.join(record)[:500])
                )
                continue
            for acc, cell in zip(cols, record, strict=True):
                acc.append(cell)
            lines.append(line)
            if len(lines) >= batch_rows:
                yield _finish_batch(
                    opened, names, [pa.array(c, pa.string()) for c in cols], pa.array(lines)
                )
                cols = [[] for _ in names]
                lines = []
        if lines:
            yield _finish_batch(
                opened, names, [pa.array(c, pa.string()) for c in cols], pa.array(lines)
            )


# --- XLSX --------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def read_xlsx_rows(source: SourceFile) -> list[list[str]]:
    """All rows of the first sheet as text (absolute row positions kept)."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(source.path))
        sheet = workbook.get_sheet_by_index(0)
        values = sheet.to_python(skip_empty_area=False)
    except (CalamineError, OSError, ValueError) as exc:
        raise FileFormatError(
            str(source.path), f"not a readable Excel workbook (.xlsx): {exc}"
        ) from None
    except Exception as exc:  # calamine raises its own zip/XML error types
        raise FileFormatError(
            str(source.path), f"not a readable Excel workbook (.xlsx): {type(exc).__name__}: {exc}"
        ) from None
    return [[_cell_text(v) for v in row] for row in values]


def open_xlsx_file(source: SourceFile) -> tuple[OpenedFile, list[list[str]]]:
    """Read the first sheet and locate its header row (below merged title rows)."""
    rows = read_xlsx_rows(source)
    if not any(any(c.strip() for c in row) for row in rows):
        raise FileFormatError(str(source.path), "the workbook's first sheet is empty")
    idx = find_header(source, rows[:HEADER_SCAN_ROWS])
    header = [c.strip() for c in rows[idx]]
    # Trailing empty header cells (a wider used range) are not columns.
    while header and not header[-1]:
        header.pop()
    mapping = map_headers(source, [h for h in header if h], idx + 1)
    return OpenedFile(source, idx + 1, mapping), rows


def iter_xlsx(opened: OpenedFile, rows: list[list[str]], batch_rows: int) -> Iterator[RawBatch]:
    """Batches of an XLSX sheet's data rows; ``_line`` is the sheet row number."""
    header_idx = opened.header_line - 1
    positions = [i for i, h in enumerate(rows[header_idx]) if h.strip()]
    names = [rows[header_idx][i].strip() for i in positions]
    body = rows[header_idx + 1 :]
    for start in range(0, len(body), batch_rows):
        chunk = body[start : start + batch_rows]
        cols: list[list[str]] = [[] for _ in names]
        lines: list[int] = []
        for offset, row in enumerate(chunk):
            cells = [row[i] if i < len(row) else "" for i in positions]
            if not any(c.strip() for c in cells):
                continue
            for acc, cell in zip(cols, cells, strict=True):
                acc.append(cell)
            lines.append(opened.header_line + 1 + start + offset)
        if lines:
            yield _finish_batch(
                opened, names, [pa.array(c, pa.string()) for c in cols], pa.array(lines, pa.int64())
            )


# --- Parquet and JSON Lines ---------------------------------------------------------------


def _as_text(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Any Arrow column as text the parsers understand."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr.cast(pa.string())
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pc.binary_join(arr.cast(pa.list_(pa.string())), ";")
    if pa.types.is_boolean(t):
        return pc.if_else(arr, "是", "否")
    if pa.types.is_floating(t):
        # 410105.0 → "410105": a whole float is a code or count read as a number.
        as_int = pc.if_else(
            pc.and_(pc.is_finite(arr), pc.equal(pc.floor(arr), arr)), arr.cast(pa.string()), None
        )
        return pc.coalesce(pc.replace_substring_regex(as_int, r"\.0$", ""), arr.cast(pa.string()))
    if pa.types.is_dictionary(t):
        return _as_text(arr.dictionary_decode())
    return arr.cast(pa.string())


def open_parquet_file(source: SourceFile) -> OpenedFile:
    """Map a Parquet file's column names to the contract."""
    try:
        schema = pq.read_schema(source.path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileFormatError(str(source.path), f"not a readable Parquet file: {exc}") from None
    if not schema.names:
        raise FileFormatError(str(source.path), "the Parquet file has no columns")
    mapping = map_headers(source, list(schema.names), 0)
    return OpenedFile(source, 0, mapping)


def iter_parquet(opened: OpenedFile, batch_rows: int) -> Iterator[RawBatch]:
    """Stream a Parquet file; ``_line`` is the row index + 2 (as if a header were line 1)."""
    names = list(opened.mapping)
    try:
        pf = pq.ParquetFile(opened.source.path)
        next_line = 2
        for rb in pf.iter_batches(batch_size=batch_rows, columns=names):
            n = rb.num_rows
            cols = [_as_text(rb.column(i)) for i in range(rb.num_columns)]
            lines = pa.array(range(next_line, next_line + n), pa.int64())
            next_line += n
            yield _finish_batch(opened, names, cols, lines)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileFormatError(str(opened.source.path), f"broken Parquet file: {exc}") from None


def open_jsonl_file(source: SourceFile) -> OpenedFile:
    """Collect the keys of the first JSON objects and map them to the contract."""
    keys: dict[str, None] = {}
    with source.path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if not sample.strip(b"\xef\xbb\xbf \r\n\t"):
        raise FileFormatError(str(source.path), "the file is empty")
    text = sample.decode("utf-8-sig", errors="ignore")
    parsed = 0
    for n, line in enumerate(text.splitlines()[:HEADER_SCAN_ROWS], start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if n == len(text.splitlines()) and len(sample) == SAMPLE_BYTES:
                break  # the sample cut the last line
            continue
        if isinstance(obj, dict):
            keys.update(dict.fromkeys(str(k) for k in obj))
            parsed += 1
    if not parsed:
        raise FileFormatError(str(source.path), "no JSON object found in the first lines")
    mapping = map_headers(source, list(keys), 1)
    return OpenedFile(source, 0, mapping, encoding="utf-8")


@dataclass
class JsonLineError:
    """A JSON Lines record that is not a JSON object."""

    line: int
    text: str
    reason: str


def _has_blank_lines(path: Path) -> bool:
    with path.open("rb") as fh:
        if fh.seek(0, io.SEEK_END) == 0:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return mm.find(b"\n\n") >= 0 or mm.find(b"\n\r\n") >= 0


def iter_jsonl(
    opened: OpenedFile, batch_rows: int, line_errors: list[JsonLineError], exact: bool = False
) -> Iterator[RawBatch]:
    """Stream JSON Lines with Arrow's reader; raise :class:`NeedExactLines` when a line is
    not a flat JSON object or a column changes type (the caller then uses ``exact``)."""
    path = opened.source.path
    if exact or _has_blank_lines(path):
        yield from _iter_jsonl_slow(opened, batch_rows, line_errors)
        return
    block = max(1 << 20, min(64 << 20, batch_rows * 300))
    next_line = 1
    try:
        reader = pajson.open_json(path, read_options=pajson.ReadOptions(block_size=block))
        for rb in reader:
            if any(pa.types.is_struct(f.type) or pa.types.is_map(f.type) for f in rb.schema):
                raise NeedExactLines
            for name in rb.schema.names:
                if name not in opened.mapping:
                    _map_late_key(opened, name)
            names = list(rb.schema.names)
            cols = [_as_text(rb.column(i)) for i in range(rb.num_columns)]
            lines = pa.array(range(next_line, next_line + rb.num_rows), pa.int64())
            next_line += rb.num_rows
            yield _finish_batch(opened, names, cols, lines)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        raise NeedExactLines from None


def _map_late_key(opened: OpenedFile, key: str) -> None:
    """A key that the first lines did not show: a contract column unless already mapped."""
    col = _header_index(opened.source.table).get(header_key(key))
    opened.mapping[key] = None if col is None or col in opened.mapping.values() else col


def _iter_jsonl_slow(
    opened: OpenedFile, batch_rows: int, line_errors: list[JsonLineError]
) -> Iterator[RawBatch]:
    names = list(opened.mapping)
    rows: list[dict[str, Any]] = []
    lines: list[int] = []

    def flush() -> RawBatch:
        for row in rows:
            for k in row:
                if k not in opened.mapping:
                    _map_late_key(opened, k)
                    names.append(k)
        cols = [
            pa.array([None if r.get(n) is None else _json_text(r[n]) for r in rows], pa.string())
            for n in names
        ]
        return _finish_batch(opened, names, cols, pa.array(lines, pa.int64()))

    with opened.source.path.open(encoding="utf-8-sig", errors="strict") as fh:
        try:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    line_errors.append(JsonLineError(n, line[:500], f"not valid JSON: {exc.msg}"))
                    continue
                if not isinstance(obj, dict):
                    line_errors.append(JsonLineError(n, line[:500], "not a JSON object"))
                    continue
                rows.append(obj)
                lines.append(n)
                if len(rows) >= batch_rows:
                    yield flush()
                    rows, lines = [], []
        except UnicodeDecodeError as exc:
            raise FileFormatError(
                str(opened.source.path), f"JSON Lines must be UTF-8: {exc}"
            ) from None
    if rows:
        yield flush()


def _json_text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ";".join(_json_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
