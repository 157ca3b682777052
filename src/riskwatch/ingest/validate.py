"""Validate and type one batch of a contract table.

Every column is parsed by a scalar rule of :mod:`riskwatch.ingest.normalize`, applied once
per *distinct* value and mapped back to the rows (dictionary encoding), so a file of tens
of millions of rows with a few hundred thousand distinct codes costs a few hundred
thousand Python calls. Rows that break a rule become :class:`Reject` objects; personal
ID numbers are replaced by their keyed pseudonym here and never leave this module raw.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.ingest import fastpath
from riskwatch.ingest import normalize as nz
from riskwatch.ingest.contract import Column, Kind, Table
from riskwatch.ingest.pseudonym import Pseudonymizer
from riskwatch.ingest.readers import MISSING, RawBatch
from riskwatch.ingest.sentiment import classify_sentiment

ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.USCC: pa.string(),
    Kind.PERSON_ID: pa.string(),
    Kind.PARTY_ID: pa.string(),
    Kind.REGION: pa.string(),
    Kind.INDUSTRY: pa.string(),
    Kind.DATE: pa.date32(),
    Kind.YEAR: pa.int32(),
    Kind.AMOUNT: pa.float64(),
    Kind.INTEGER: pa.int64(),
    Kind.RATIO: pa.float64(),
    Kind.BOOL: pa.bool_(),
    Kind.ENUM: pa.string(),
    Kind.ENUM_LIST: pa.list_(pa.string()),
    Kind.CODE: pa.string(),
    Kind.CODE_LIST: pa.list_(pa.string()),
    Kind.TEXT: pa.string(),
    Kind.LON: pa.float64(),
    Kind.LAT: pa.float64(),
}

# (table, earlier column, later column): the later date may not precede the earlier one.
DATE_ORDER: tuple[tuple[str, str, str], ...] = (
    ("enterprises", "established_on", "deregistered_on"),
    ("abnormal_listings", "listed_on", "removed_on"),
    ("serious_violations", "listed_on", "removed_on"),
    ("penalties", "decided_on", "publicity_until"),
    ("penalties", "decided_on", "repaired_on"),
    ("licenses", "issued_on", "valid_until"),
    ("complaints", "received_on", "closed_on"),
    ("judicial", "filed_on", "closed_on"),
)


@dataclass(frozen=True)
class Policy:
    """Validation choices a deployment makes."""

    uscc_bad_check: str = "quarantine"  # or "flag"
    today: date = field(default_factory=nz.today)

    @property
    def fingerprint(self) -> str:
        return f"uscc_bad_check={self.uscc_bad_check}"


@dataclass
class Reject:
    """A row that breaks a rule: where it is and why."""

    line: int
    column: str | None
    value: str | None
    reason: str
    detail: str
    row_json: str


@dataclass
class ValidatedBatch:
    """Typed rows ready to stage, and the rows rejected."""

    data: pa.Table
    rejects: list[Reject]
    flags: dict[str, int]


Parser = Callable[[str], Any]


def _parser(col: Column) -> Parser | None:
    kind = col.kind
    if kind is Kind.TEXT:
        return None
    table: dict[Kind, Parser] = {
        Kind.USCC: nz.normalize_uscc,
        Kind.PERSON_ID: nz.normalize_person_id,
        Kind.REGION: nz.normalize_region,
        Kind.INDUSTRY: nz.normalize_industry,
        Kind.DATE: nz.parse_date,
        Kind.YEAR: nz.parse_year,
        Kind.AMOUNT: nz.parse_amount,
        Kind.INTEGER: nz.parse_integer,
        Kind.RATIO: nz.parse_ratio,
        Kind.BOOL: nz.parse_bool,
        Kind.CODE: nz.parse_code,
        Kind.CODE_LIST: lambda raw: [nz.parse_code(p) for p in nz.split_list(raw)] or None,
        Kind.LON: lambda raw: nz.parse_coordinate(raw, 73.0, 136.0, "longitude"),
        Kind.LAT: lambda raw: nz.parse_coordinate(raw, 3.0, 54.0, "latitude"),
    }
    if kind is Kind.ENUM:
        return lambda raw: nz.parse_enum(raw, col.values)
    if kind is Kind.ENUM_LIST:
        return lambda raw: nz.parse_enum_list(raw, col.values)
    return table[kind]


@dataclass
class _Parsed:
    values: pa.Array
    missing: np.ndarray  # bool per row
    error_code: np.ndarray  # int32 per row: -1 none, else index into errors
    errors: list[nz.BadValue]


FastPath = Callable[[pa.Array], tuple[pa.Array, np.ndarray]]


def _parse_column(
    arr: pa.Array,
    parse: Parser,
    out_type: pa.DataType,
    fast: FastPath | None = None,
    cache: dict[str, Any] | None = None,
) -> _Parsed:
    """Apply ``parse`` to each distinct value of ``arr`` and map the results to rows.

    ``fast`` first takes the rows already in normal form in one vectorised pass; ``cache``
    remembers results across the batches of a file (a code recurs in every batch).
    """
    fast_values: pa.Array | None = None
    handled: np.ndarray | None = None
    if fast is not None:
        fast_values, handled = fast(arr)
        if handled.all():
            n = len(arr)
            return _Parsed(fast_values, np.zeros(n, bool), np.full(n, -1, np.int32), [])
        arr = pc.if_else(pa.array(handled), None, arr)
    encoded = pc.dictionary_encode(arr)
    dictionary = encoded.dictionary.to_pylist()
    results: list[Any] = []
    is_missing: list[bool] = []
    err_index: list[int] = []
    errors: list[nz.BadValue] = []
    for raw in dictionary:
        text = raw.strip() if raw is not None else ""
        if text in MISSING:
            results.append(None)
            is_missing.append(True)
            err_index.append(-1)
            continue
        try:
            if cache is None:
                value = parse(text)
            else:
                value = cache.get(text, _UNSEEN)
                if value is _UNSEEN:
                    value = cache[text] = parse(text)
            results.append(value)
            is_missing.append(False)
            err_index.append(-1)
        except nz.BadValue as exc:
            results.append(None)
            is_missing.append(False)
            err_index.append(len(errors))
            errors.append(exc)
    indices = encoded.indices
    null_rows = indices.is_null().to_numpy(zero_copy_only=False)
    idx = indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    if dictionary:
        values = pa.array(results, out_type).take(indices)
        missing = np.asarray(is_missing, dtype=bool)[idx] | null_rows
        codes = np.asarray(err_index, dtype=np.int32)[idx]
        codes[null_rows] = -1
    else:
        values = pa.nulls(len(arr), out_type)
        missing = np.ones(len(arr), dtype=bool)
        codes = np.full(len(arr), -1, dtype=np.int32)
    if fast_values is not None and handled is not None:
        values = pc.coalesce(fast_values, values)
        missing &= ~handled
    return _Parsed(values, missing, codes, errors)


_UNSEEN = object()
_TIME_TAIL = r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$"
_FAST: dict[Kind, FastPath] = {Kind.USCC: fastpath.clean_uscc, Kind.CODE: fastpath.clean_code}
# Kinds whose distinct values are many (an ID per row or per enterprise): worth a cache.
_CACHED = frozenset({Kind.PERSON_ID})
_CACHE_LIMIT = 2_000_000


def _text_column(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    trimmed = pc.utf8_trim_whitespace(arr)
    missing = pc.fill_null(pc.is_in(trimmed, pa.array(sorted(MISSING))), True)
    return pc.if_else(missing, None, trimmed), missing.to_numpy(zero_copy_only=False)


@dataclass
class _RowIssues:
    """First issue per row, plus every issue for the detail text."""

    n: int
    first: dict[int, tuple[str | None, str | None, str, str]] = field(default_factory=dict)
    extra: dict[int, list[str]] = field(default_factory=dict)

    def add(
        self,
        rows: np.ndarray,
        column: str | None,
        values: Sequence[str | None],
        reason: str,
        messages: Sequence[str],
    ) -> None:
        for row, value, message in zip(rows.tolist(), values, messages, strict=True):
            if row in self.first:
                self.extra.setdefault(row, []).append(f"{column}: {message}")
            else:
                self.first[row] = (column, value, reason, message)


class BatchValidator:
    """Validates batches of one contract table under one policy.

    Parameters
    ----------
    table
        The contract table.
    policy
        Deployment choices (bad USCC check character: quarantine or flag).
    pseudonymizer
        Keyed hash that replaces personal ID numbers.
    """

    def __init__(self, table: Table, policy: Policy, pseudonymizer: Pseudonymizer) -> None:
        self.table = table
        self.policy = policy
        self.pseudo = pseudonymizer
        self._caches: dict[str, dict[str, Any]] = {}
        self._flagged = np.zeros(0, dtype=bool)
        self._person_cols = {
            c.name for c in table.columns if c.kind in (Kind.PERSON_ID, Kind.PARTY_ID)
        }

    def validate(self, batch: RawBatch) -> ValidatedBatch:
        """Type every column of ``batch`` and collect the rows that break a rule."""
        raw = batch.data
        n = raw.num_rows
        issues = _RowIssues(n)
        out: dict[str, pa.Array] = {}
        self._flagged = np.zeros(n, dtype=bool)
        flag_counts: dict[str, int] = {}
        for col in self.table.columns:
            out_type = ARROW_TYPES[col.kind]
            if col.name not in raw.column_names:
                out[col.name] = pa.nulls(n, out_type)
                continue
            arr = raw.column(col.name).combine_chunks()
            if col.kind is Kind.TEXT:
                values, missing = _text_column(arr)
            elif col.kind is Kind.PARTY_ID:
                values, missing = self._party_column(arr, raw, issues)
            else:
                parser = _parser(col)
                assert parser is not None
                if col.kind is Kind.DATE:
                    # A datetime keeps its date: drop the time first, so that distinct
                    # values are days (thousands), not seconds (one per row).
                    arr = pc.replace_substring_regex(arr, _TIME_TAIL, "")
                parsed = _parse_column(
                    arr, parser, out_type, _FAST.get(col.kind), self._cache_for(col)
                )
                values, missing = parsed.values, parsed.missing
                self._record_errors(col, arr, parsed, issues)
                if col.kind is Kind.USCC:
                    values, bad_check = self._uscc_check(col, arr, values, issues)
                    self._flagged |= bad_check
                elif col.kind is Kind.PERSON_ID:
                    values = self._pseudonymize(values)
            if col.required:
                rows = np.flatnonzero(missing)
                if rows.size:
                    label = f"{col.name} ({col.label})"
                    issues.add(
                        rows,
                        col.name,
                        [None] * rows.size,
                        "missing_value",
                        [f"required value {label} is empty"] * rows.size,
                    )
            out[col.name] = values
        self._cross_rules(out, issues)
        self._derive(out, n)
        if self._flagged.any():
            flag_counts["uscc_check"] = int(self._flagged.sum())
        flag_list = [["uscc_check"] if f else None for f in self._flagged.tolist()]
        out["_source_line"] = raw.column("_line").combine_chunks()
        out["_flags"] = pa.array(flag_list, pa.list_(pa.string()))
        out["_extra"] = self._scrub_extra(raw.column("_extra").combine_chunks())
        typed = pa.table(out)
        rejects: list[Reject] = []
        if issues.first:
            bad = np.zeros(n, dtype=bool)
            bad[list(issues.first)] = True
            rejects = self._rejects(raw, issues)
            typed = typed.filter(pa.array(~bad))
        return ValidatedBatch(typed, rejects, flag_counts)

    # -- columns ------------------------------------------------------------------------

    def _cache_for(self, col: Column) -> dict[str, Any] | None:
        if col.kind not in _CACHED:
            return None
        cache = self._caches.setdefault(col.name, {})
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        return cache

    def _record_errors(
        self, col: Column, arr: pa.Array, parsed: _Parsed, issues: _RowIssues
    ) -> None:
        rows = np.flatnonzero(parsed.error_code >= 0)
        if not rows.size:
            return
        sensitive = col.kind in (Kind.PERSON_ID, Kind.PARTY_ID)
        texts = arr.take(pa.array(rows)).to_pylist()
        for row, text in zip(rows.tolist(), texts, strict=True):
            exc = parsed.errors[int(parsed.error_code[row])]
            shown = nz.mask_id(str(text).strip()) if sensitive else text
            issues.add(np.array([row]), col.name, [shown], exc.reason, [exc.message])

    def _uscc_check(
        self, col: Column, arr: pa.Array, values: pa.Array, issues: _RowIssues
    ) -> tuple[pa.Array, np.ndarray]:
        present = pc.is_valid(values)
        bad = np.zeros(len(values), dtype=bool)
        filled = values.filter(present)
        if len(filled):
            bad[np.flatnonzero(present.to_numpy(zero_copy_only=False))] = ~fastpath.uscc_check_mask(
                filled
            )
        if not bad.any():
            return values, bad
        if self.policy.uscc_bad_check == "flag":
            return values, bad
        rows = np.flatnonzero(bad)
        shown = values.take(pa.array(rows)).to_pylist()
        issues.add(
            rows,
            col.name,
            shown,
            "uscc_check",
            [f"统一社会信用代码 {c} has a wrong check character (GB 32100-2015)" for c in shown],
        )
        return values, np.zeros(len(values), dtype=bool)

    def _pseudonymize(self, values: pa.Array) -> pa.Array:
        encoded = pc.dictionary_encode(values)
        hashed = [None if v is None else self.pseudo(v) for v in encoded.dictionary.to_pylist()]
        if not hashed:
            return values
        return pa.array(hashed, pa.string()).take(encoded.indices)

    def _party_column(
        self, arr: pa.Array, raw: pa.Table, issues: _RowIssues
    ) -> tuple[pa.Array, np.ndarray]:
        """``holder_id``: a personal ID when the holder is a natural person, else a USCC."""
        kinds = (
            raw.column("holder_type").combine_chunks()
            if "holder_type" in raw.column_names
            else pa.nulls(len(arr), pa.string())
        )
        person = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(kinds), "自然人"), False)
        col = self.table.column("holder_id")
        person_arr = pc.if_else(person, arr, None)
        org_arr = pc.if_else(person, None, arr)
        p = _parse_column(
            person_arr, nz.normalize_person_id, pa.string(), cache=self._cache_for(col)
        )
        o = _parse_column(org_arr, nz.normalize_uscc, pa.string(), fastpath.clean_uscc)
        self._record_errors(col, person_arr, p, issues)
        self._record_errors(Column("holder_id", col.label, Kind.USCC), org_arr, o, issues)
        org_values, bad = self._uscc_check(col, org_arr, o.values, issues)
        self._flagged |= bad
        values = pc.coalesce(self._pseudonymize(p.values), org_values)
        missing = p.missing & o.missing
        return values, missing

    def _scrub_extra(self, extra: pa.Array) -> pa.Array:
        """Pseudonymise resident ID numbers hiding in columns the contract does not know."""
        suspect = pc.fill_null(pc.match_substring_regex(extra, r"\d{17}[\dXx]"), False)
        if not pc.any(suspect).as_py():
            return extra
        values = extra.to_pylist()
        for i in np.flatnonzero(suspect.to_numpy(zero_copy_only=False)).tolist():
            values[i] = self.pseudo.scrub(values[i])
        return pa.array(values, pa.string())

    # -- rows ---------------------------------------------------------------------------

    def _cross_rules(self, out: dict[str, pa.Array], issues: _RowIssues) -> None:
        name = self.table.name
        for table, earlier, later in DATE_ORDER:
            if table != name:
                continue
            wrong = pc.fill_null(pc.less(out[later], out[earlier]), False)
            rows = np.flatnonzero(wrong.to_numpy(zero_copy_only=False))
            if rows.size:
                shown = [str(v) for v in out[later].take(pa.array(rows)).to_pylist()]
                issues.add(
                    rows,
                    later,
                    shown,
                    "date_order",
                    [f"{later} {v} is before {earlier}" for v in shown],
                )
        known = self.table.known_on
        if known is not None:
            future = pc.fill_null(pc.greater(out[known], pa.scalar(self.policy.today)), False)
            rows = np.flatnonzero(future.to_numpy(zero_copy_only=False))
            if rows.size:
                shown = [str(v) for v in out[known].take(pa.array(rows)).to_pylist()]
                issues.add(
                    rows,
                    known,
                    shown,
                    "future_date",
                    [f"{known} {v} is after today ({self.policy.today})" for v in shown],
                )
        if name in ("complaints", "opinions"):
            neither = pc.and_(pc.is_null(out["uscc"]), pc.is_null(out["enterprise_name"]))
            rows = np.flatnonzero(neither.to_numpy(zero_copy_only=False))
            if rows.size:
                issues.add(
                    rows,
                    "uscc",
                    [None] * rows.size,
                    "no_enterprise",
                    ["neither uscc nor enterprise_name is given"] * rows.size,
                )

    def _derive(self, out: dict[str, pa.Array], n: int) -> None:
        name = self.table.name
        if name == "enterprises":
            out["name_norm"] = _map_distinct(out["name"], nz.normalize_name)
        if name in ("complaints", "opinions"):
            out["uscc_source"] = pc.if_else(pc.is_null(out["uscc"]), None, "given")
            out["enterprise_name_norm"] = _map_distinct(out["enterprise_name"], nz.normalize_name)
        if name == "opinions":
            given = out["sentiment"]
            needs = pc.is_null(given)
            if pc.any(needs).as_py():
                # Classify each distinct (title, content) once: reposts repeat a story.
                key = pc.binary_join_element_wise(
                    pc.fill_null(out["title"], ""), pc.fill_null(out["content"], ""), "\x1f"
                )
                computed = _map_distinct(
                    pc.if_else(needs, key, None),
                    lambda text: classify_sentiment(*text.split("\x1f", 1)),
                )
                out["sentiment"] = pc.coalesce(given, computed)
            out["sentiment_source"] = pc.if_else(pc.is_null(given), "computed", "given")

    def _rejects(self, raw: pa.Table, issues: _RowIssues) -> list[Reject]:
        rows = sorted(issues.first)
        sub = raw.take(pa.array(rows))
        lines = sub.column("_line").to_pylist()
        records = sub.drop_columns(["_line"]).to_pylist()
        out: list[Reject] = []
        for row, line, record in zip(rows, lines, records, strict=True):
            column, value, reason, message = issues.first[row]
            for key in self._person_cols:
                if record.get(key):
                    record[key] = nz.mask_id(str(record[key]).strip())
            detail = "; ".join([message, *issues.extra.get(row, [])])
            clean = {k: v for k, v in record.items() if v not in (None, "")}
            # A rejected row may carry an ID number anywhere (a misplaced column, a note):
            # scrub every text that leaves this module.
            scrub = self.pseudo.scrub
            out.append(
                Reject(
                    line=int(line),
                    column=column,
                    value=None if value is None else scrub(str(value)),
                    reason=reason,
                    detail=scrub(detail),
                    row_json=scrub(json.dumps(clean, ensure_ascii=False)),
                )
            )
        return out


def _map_distinct(arr: pa.Array, fn: Callable[[str], str]) -> pa.Array:
    encoded = pc.dictionary_encode(arr)
    mapped = [None if v is None else fn(v) for v in encoded.dictionary.to_pylist()]
    if not mapped:
        return pa.nulls(len(arr), pa.string())
    return pa.array(mapped, pa.string()).take(encoded.indices)
