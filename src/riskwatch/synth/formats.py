"""How each table is presented on disk: format, encoding, headers, date style, quirks, bad rows.

A chunk's tables leave the generators typed and clean.  Here they get the look of real
exports: lower-case or spaced codes, full-width characters, region codes with ``.0`` or
``000000``, dates in every contract form; and a few deliberately bad rows, each marked in
the helper columns ``_bad_column`` / ``_bad_reason`` so the writer can record its line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.ingest.contract import TABLES, Kind
from riskwatch.synth.codes import RIC_CHECK, USCC_ALPHABET, corrupt_check, to_fullwidth
from riskwatch.synth.rates import join, padded, text

Int = npt.NDArray[np.int64]
MODES = ("mixed", "csv", "parquet")
BAD_COLUMN, BAD_REASON, PART, SECONDS = "_bad_column", "_bad_reason", "_part", "_seconds"


@dataclass(frozen=True)
class FileSpec:
    """How one table is written."""

    fmt: str  # csv | xlsx | jsonl | parquet
    encoding: str = "utf-8"  # utf-8 | utf-8-sig | gbk
    headers: str = "en"  # en | zh (the contract's Chinese labels)
    dates: str = "iso"  # iso | slash | compact | cn | datetime | slash_datetime
    split: bool = False  # one file per value of the _part column


MIXED: dict[str, FileSpec] = {
    "enterprises": FileSpec("csv", "utf-8-sig", "zh", "iso"),
    "enterprises-update": FileSpec("csv", "utf-8-sig", "zh", "slash"),
    "investments": FileSpec("parquet"),
    "officers": FileSpec("csv", "utf-8", "en", "iso"),
    "changes": FileSpec("csv", "gbk", "zh", "cn"),
    "annual_reports": FileSpec("csv", "utf-8", "en", "iso"),
    "abnormal_listings": FileSpec("csv", "gbk", "zh", "compact"),
    "serious_violations": FileSpec("csv", "utf-8-sig", "zh", "iso"),
    "penalties": FileSpec("csv", "gbk", "zh", "slash", split=True),
    "licenses": FileSpec("xlsx", "utf-8", "zh", "iso"),
    "inspections": FileSpec("csv", "utf-8", "zh", "iso"),
    "complaints": FileSpec("jsonl", "utf-8", "en", "datetime"),
    "judicial": FileSpec("csv", "utf-8-sig", "en", "compact"),
    "opinions": FileSpec("csv", "utf-8", "zh", "slash_datetime"),
    "inspectors": FileSpec("csv", "utf-8", "zh", "iso"),
}


def spec_for(mode: str, name: str) -> FileSpec:
    """The file spec of a table (``enterprises-update`` for the re-sent enterprises)."""
    if mode == "parquet":
        return FileSpec("parquet")
    spec = MIXED[name]
    if mode == "csv" and spec.fmt != "csv":
        return replace(spec, fmt="csv")
    return spec


# Deliberately bad rows: (table, column, reason_kind, how many per chunk or share of rows).
BAD_USCC_TABLES = ("changes", "annual_reports", "penalties", "inspections", "judicial", "licenses")
BAD_USCC_SHARE = 0.001
BAD_FEW: tuple[tuple[str, str, str], ...] = (
    ("changes", "changed_on", "bad_date"),
    ("penalties", "decided_on", "bad_date"),
    ("judicial", "filed_on", "bad_date"),
    ("inspections", "result", "bad_enum"),
    ("complaints", "channel", "bad_enum"),
    ("changes", "item", "bad_enum"),
    ("officers", "person_id", "person_id_check"),
    ("investments", "holder_id", "person_id_check"),
)
UNKNOWN_ENUM = {"result": "检查合格", "channel": "微信小程序", "item": "经营期限"}


def format_dates(values: pa.Array, style: str, seconds: pa.Array | None = None) -> pa.Array:
    """Dates as text in one of the contract's forms (optionally with a time of day)."""
    y, m, d = (pc.cast(f(values), pa.string()) for f in (pc.year, pc.month, pc.day))
    m2, d2 = (pc.utf8_lpad(x, width=2, padding="0") for x in (m, d))
    if style == "slash" or style == "slash_datetime":
        out = join(y, "/", m, "/", d)
    elif style == "compact":
        out = join(y, m2, d2)
    elif style == "cn":
        out = join(y, "年", m, "月", d, "日")
    else:
        out = join(y, "-", m2, "-", d2)
    if seconds is not None and style in ("datetime", "slash_datetime"):
        s = np.asarray(seconds.to_numpy(zero_copy_only=False), dtype=np.int64)
        hms = join(padded(s // 3600, 2), ":", padded(s // 60 % 60, 2), ":", padded(s % 60, 2))
        out = join(out, " ", hms)
    return out


def _bad_date(values: pa.Array, style: str) -> pa.Array:
    """30 February of the row's year, written in the file's style."""
    y = pc.cast(pc.year(values), pa.string())
    forms = {"slash": ("/2/30", ""), "compact": ("0230", ""), "cn": ("年2月30日", "")}
    tail = forms.get(style, ("-02-30", ""))[0]
    return join(y, tail)


def _single(col: pa.ChunkedArray) -> pa.Array:
    """The column as one array, without copying when it already is one chunk."""
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _spaced(code: str) -> str:
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def _edit(col: pa.Array, rows: Int, fn: object) -> pa.Array:
    """Apply a Python function to a few rows of a string column."""
    if len(rows) == 0:
        return col
    mask = np.zeros(len(col), bool)
    mask[rows] = True
    values = col.take(pa.array(rows)).to_pylist()
    new = [fn(v) if v is not None else None for v in values]  # type: ignore[operator]
    return pc.replace_with_mask(col, pa.array(mask), pa.array(new, pa.string()))


def present(
    rng: np.random.Generator, name: str, table: pa.Table, mode: str, quirks: Counter[str]
) -> pa.Table:
    """Give a clean chunk table its on-disk look, with quirks and marked bad rows."""
    contract = TABLES[name.split("-")[0]]
    spec = spec_for(mode, name)
    n = table.num_rows
    cols = {c: _single(table.column(c)) for c in table.column_names}
    taken = np.zeros(n, bool)  # rows already made bad (one fault per row)
    bad_col: list[str | None] = [None] * n
    bad_reason: list[str | None] = [None] * n

    def choose(k: int) -> Int:
        free = np.flatnonzero(~taken)
        rows = rng.choice(free, size=min(k, len(free)), replace=False) if len(free) else free
        taken[rows] = True
        return np.sort(rows)

    def mark(rows: Int, column: str, reason: str) -> None:
        for r in rows:
            bad_col[r], bad_reason[r] = column, reason
        quirks[f"bad_row:{reason}"] += len(rows)

    if name in BAD_USCC_TABLES and n:
        rows = choose(rng.binomial(n, BAD_USCC_SHARE))
        cols["uscc"] = _edit(cols["uscc"], rows, lambda v: corrupt_check([v], USCC_ALPHABET)[0])
        mark(rows, "uscc", "uscc_check")
    typed = spec.fmt == "parquet"
    pending: dict[str, tuple[Int, pa.Array]] = {}
    for table_name, column, reason in BAD_FEW:
        if table_name != name or n == 0 or (reason == "bad_date" and typed):
            continue
        if reason == "person_id_check":
            # Only resident IDs of natural persons: not passports, not enterprise holders.
            ok = pc.equal(pc.utf8_length(cols[column]), 18)
            if "holder_type" in cols:
                ok = pc.and_(ok, pc.equal(cols["holder_type"], "自然人"))
            free = np.flatnonzero(ok.to_numpy(zero_copy_only=False) & ~taken)
            rows = np.sort(rng.choice(free, size=min(2, len(free)), replace=False))
            taken[rows] = True
        else:
            rows = choose(2)
        if reason == "person_id_check":
            cols[column] = _edit(cols[column], rows, lambda v: corrupt_check([v], RIC_CHECK)[0])
        elif reason == "bad_enum":
            cols[column] = _edit(cols[column], rows, lambda v, c=column: UNKNOWN_ENUM[c])
        mark(rows, column, reason)
        if reason == "bad_date":
            pending[column] = (rows, _bad_date(cols[column].take(pa.array(rows)), spec.dates))
    if mode != "parquet" and n:
        _quirks(rng, name, cols, taken, quirks)
    if not typed:
        for c in contract.columns:
            if c.name in cols:
                cols[c.name] = _as_text(cols, c.name, c.kind, spec, name)
    for column, (rows, values) in pending.items():
        mask = np.zeros(n, bool)
        mask[rows] = True
        cols[column] = pc.replace_with_mask(cols[column], pa.array(mask), values)
    cols.pop(SECONDS, None)
    cols[BAD_COLUMN] = pa.array(bad_col, pa.string())
    cols[BAD_REASON] = pa.array(bad_reason, pa.string())
    return pa.table(cols)


def _as_text(
    cols: dict[str, pa.Array], column: str, kind: Kind, spec: FileSpec, name: str
) -> pa.Array:
    values = cols[column]
    if kind is Kind.DATE and pa.types.is_date32(values.type):
        if spec.fmt == "xlsx" and column == "issued_on":
            return values  # a real Excel date cell
        known = TABLES[name.split("-")[0]].known_on
        seconds = cols.get(SECONDS) if column == known else None
        return format_dates(values, spec.dates, seconds)
    if kind is Kind.BOOL and spec.fmt == "jsonl":
        return values
    if kind is Kind.BOOL:
        yes, no = ("是", "否") if spec.headers == "zh" else ("true", "false")
        return pc.if_else(values, yes, no)
    if spec.fmt == "jsonl" or spec.fmt == "xlsx":
        return values  # JSON and Excel keep numbers as numbers
    if pa.types.is_string(values.type):
        return values
    return text(values)


def _quirks(
    rng: np.random.Generator,
    name: str,
    cols: dict[str, pa.Array],
    taken: npt.NDArray[np.bool_],
    quirks: Counter[str],
) -> None:
    """Realistic noise that must load: it never makes a row bad."""
    n = len(taken)
    quirked = taken.copy()  # one quirk per row, so quirks never stack into a bad value

    def rows(share: float) -> Int:
        picked = np.flatnonzero((rng.random(n) < share) & ~quirked)
        quirked[picked] = True
        return picked

    if "uscc" in cols and name in (
        "enterprises",
        "penalties",
        "complaints",
        "changes",
        "inspections",
    ):
        r = rows(0.01)
        cols["uscc"] = _edit(cols["uscc"], r, str.lower)
        quirks["uscc_lower_case"] += len(r)
        r = rows(0.005)
        cols["uscc"] = _edit(cols["uscc"], r, _spaced)
        quirks["uscc_with_spaces"] += len(r)
        if name == "penalties":
            r = rows(0.002)
            cols["uscc"] = _edit(cols["uscc"], r, to_fullwidth)
            quirks["uscc_full_width"] += len(r)
    if name in ("enterprises", "inspectors"):
        r = rows(0.02)
        cols["region_code"] = _edit(cols["region_code"], r, lambda v: v + ".0")
        quirks["region_code_trailing_.0"] += len(r)
        r = rows(0.01)
        cols["region_code"] = _edit(cols["region_code"], r, lambda v: v + "000000")
        quirks["region_code_12_digits"] += len(r)
    if name == "enterprises":
        r = rows(0.02)
        cols["address"] = _edit(cols["address"], r, to_fullwidth)
        quirks["address_full_width"] += len(r)
    if name == "complaints":
        r = rows(0.3)
        cols["enterprise_name"] = _edit(
            cols["enterprise_name"], r, lambda v: v.replace("（", "(").replace("）", ")")
        )
        quirks["name_half_width_brackets"] += int(
            pc.sum(pc.match_substring(cols["enterprise_name"].take(pa.array(r)), "(")).as_py() or 0
        )
