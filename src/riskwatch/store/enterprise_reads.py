"""Warehouse reads behind the API: lists, profiles, records, graph walks, stats, screening.

Every function takes the caller's region prefix and filters by it in SQL, so a row outside
the scope never leaves DuckDB. Every value from a user is a bound parameter; field names
and operators come from the closed tables below (:data:`FIELDS`, :data:`OPERATORS`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from riskwatch.store import snapshots
from riskwatch.store.classes import class_parts
from riskwatch.store.serving import ServingFiles, kind, sql_str
from riskwatch.store.warehouse import connect

log = logging.getLogger(__name__)

# (table, date column for ordering, columns shown) of the records timeline.
RECORD_TABLES: dict[str, tuple[str, str]] = {
    "changes": ("changed_on", "changed_on, item, before, after"),
    "annual_reports": ("year", "year, submitted_on, employees, revenue, total_assets, corrected"),
    "abnormal_listings": ("listed_on", "listed_on, reason, authority, removed_on, removal_reason"),
    "serious_violations": ("listed_on", "listed_on, reason, removed_on"),
    "penalties": (
        "decided_on",
        "decision_no, decided_on, authority, violation, penalty_kinds, fine, domain, "
        "publicity_until, repaired_on",
    ),
    "licenses": ("issued_on", "license_no, kind, issued_on, valid_until, status"),
    "inspections": ("inspected_on", "task_id, inspected_on, kind, result"),
    "complaints": (
        "received_on",
        "complaint_id, received_on, channel, kind, category, substantiated, closed_on",
    ),
    "judicial": ("filed_on", "case_no, filed_on, role, case_type, amount, closed_on"),
    "opinions": ("published_on", "opinion_id, published_on, source, title, sentiment"),
}

LIST_COLUMNS = (
    "uscc, name, entity_type, status, established_on, registered_capital, industry_code, "
    "region_code, address"
)
BASICS = (
    "uscc, name, entity_type, status, established_on, registered_capital, industry_code, "
    "region_code, address, legal_rep_name, authority, business_scope, deregistered_on, lon, lat"
)
"""The columns of a profile's basics."""
USCC_LIKE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
"""The shape of an 18-character unified social credit code (GB 32100-2015 charset)."""
SORTS = {
    "uscc": "uscc",
    "name": "name",
    "established_on": "established_on DESC",
    "capital": "registered_capital DESC",
}


class WarehouseReader:
    """One shared read-only DuckDB connection with a cursor per thread, and the serving
    copies (:mod:`riskwatch.store.serving`) it has attached.

    Read-only like the other readers in the process (sampling, alerts), so they share one
    database instance. A load in this process must :meth:`close` the reader first (every
    cursor) and let it reopen afterwards.
    """

    RETIRE_SECONDS = 120.0
    """How long a superseded copy stays attached (a request may still be reading it)."""

    def __init__(self, path: Path, threads: int = 0, memory_limit: str = "") -> None:
        self.path = path
        self._con = connect(path, read_only=True, threads=threads, memory_limit=memory_limit)
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self.lock = threading.Lock()  # guards the sets below
        self.slow_lock = threading.Lock()  # held while this process makes a copy
        self.serving = ServingFiles(path.parent)
        self.attached: dict[str, float] = {}  # copy -> when it was attached
        self.retired: dict[str, float] = {}  # superseded copies -> since when
        self.base: str | None = None  # the attached base copy (sorted tables, timelines)
        self.closed = False
        self.builder: duckdb.DuckDBPyConnection | None = None  # making a copy now
        self.building: set[str] = set()  # copies being made in the background
        self.failed: set[str] = set()  # … and those whose making failed
        self.bigrams: dict[str, dict[str, int]] = {}  # name index -> enterprises per pair
        self.load_mark: str | None = None  # see _load_mark
        self.month_copies: dict[tuple[Path, int], tuple[str, list[str]]] = {}
        """(month folder, mtime) -> (its indicator copy, the files it is made from)"""
        self.counts: OrderedDict[tuple[str, tuple[Any, ...]], int] = OrderedDict()
        """Totals of recent list filters: paging through one filter counts it once. The
        warehouse changes only by loads in this process, which clear it."""
        self.counts_lock = threading.Lock()
        self.summaries: dict[tuple[str, str], pa.Table] = {}
        """Small aggregates (enterprises and classes by region and industry), by kind and
        the identity of what they were computed from."""

    COUNTS_KEPT = 4096

    @property
    def serving_ready(self) -> bool:
        """Whether the base copy (uscc-sorted tables and timelines) is attached."""
        return self.base is not None

    def attach(self, name: str) -> bool:
        """Attach the published copy ``name`` read-only (once); False when there is none.

        Attaching a copy retires the older copies of its kind: they are detached
        :data:`RETIRE_SECONDS` later, when no request can still be reading them.
        """
        if name in self.attached:
            if name in self.retired or (self.base != name and kind(name) == "base"):
                with self.lock:  # current again
                    self.retired.pop(name, None)
                    if kind(name) == "base":
                        self.base = name
            return True
        path = self.serving.path(name)
        with self.lock:
            if name in self.attached:
                return True
            if not path.is_file():
                return False
            own = self._con.cursor()
            try:
                own.execute(f"ATTACH IF NOT EXISTS {sql_str(str(path))} AS {name} (READ_ONLY)")
            except duckdb.IOException:
                return False  # removed since: a newer copy superseded it
            finally:
                own.close()
            now = time.monotonic()
            for other in self.attached:
                if kind(other) == kind(name):
                    self.retired.setdefault(other, now)
            self.attached[name] = now
            if kind(name) == "base":
                self.base = name
            self._detach_retired(now)
        return True

    def _detach_retired(self, now: float) -> None:
        """Detach copies superseded long enough ago (called holding :attr:`lock`)."""
        due = [n for n, since in self.retired.items() if now - since >= self.RETIRE_SECONDS]
        if not due:
            return
        own = self._con.cursor()
        try:
            for name in due:
                try:
                    own.execute(f"DETACH DATABASE IF EXISTS {name}")
                except duckdb.Error:
                    continue  # still in use: next time
                del self.retired[name]
                self.attached.pop(name, None)
        finally:
            own.close()

    def forget(self, name: str) -> None:
        """Detach copy ``name`` now and delete its file (tests; a forced rebuild)."""
        with self.lock:
            if name in self.attached:
                own = self._con.cursor()
                try:
                    own.execute(f"DETACH DATABASE IF EXISTS {name}")
                finally:
                    own.close()
            self.attached.pop(name, None)
            self.retired.pop(name, None)
            if self.base == name:
                self.base = None
        self.serving.remove([name])

    def cached_count(self, key: tuple[str, tuple[Any, ...]]) -> int | None:
        """The remembered total of a list filter, if any."""
        with self.counts_lock:
            total = self.counts.get(key)
            if total is not None:
                self.counts.move_to_end(key)
            return total

    def remember_count(self, key: tuple[str, tuple[Any, ...]], total: int) -> None:
        """Remember a list filter's total (the oldest are forgotten past ``COUNTS_KEPT``)."""
        with self.counts_lock:
            self.counts[key] = total
            while len(self.counts) > self.COUNTS_KEPT:
                self.counts.popitem(last=False)

    def forget_counts(self) -> None:
        """After a load: every remembered total and summary may be wrong."""
        with self.counts_lock:
            self.counts.clear()
            self.summaries.clear()
            self.load_mark = None

    def summary(self, kind: str, identity: str, sql: str, params: list[Any]) -> pa.Table:
        """An aggregate computed once per ``identity`` (the newest one of a kind is kept)."""
        key = (kind, identity)
        with self.counts_lock:
            hit = self.summaries.get(key)
        if hit is not None:
            return hit
        own = self.cursor().cursor()  # the thread's cursor may hold a pending result
        try:
            table = own.sql(sql, params=params).to_arrow_table()
        finally:
            own.close()
        with self.counts_lock:
            for old in [k for k in self.summaries if k[0] == kind]:
                del self.summaries[old]
            self.summaries[key] = table
        return table

    def t(self, table: str) -> str:
        """Where to read ``table`` for point lookups: its uscc-sorted copy when current."""
        base = self.base
        return f"{base}.s_{table}" if base else f'"{table.split("_by_")[0]}"'

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (the warehouse's settings: results of a query without ORDER
        BY may come in any order, which keeps joins and scans parallel)."""
        return self._thread_cursor("cur", ordered=False)

    def ordered_cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor that keeps stored order, for pages of the uscc-sorted copies
        read without ORDER BY (a page then stops at its last row instead of sorting every
        match: at a million, 2 ms instead of 100) and for making those copies (so they are
        stored in the order asked for)."""
        return self._thread_cursor("ordered", ordered=True)

    def _thread_cursor(self, slot: str, ordered: bool) -> duckdb.DuckDBPyConnection:
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, slot, None)
        if cur is None:
            cur = self.fresh_cursor(ordered)
            setattr(self._local, slot, cur)
            with self._cursors_lock:
                self._cursors.append(cur)
        return cur

    def fresh_cursor(self, ordered: bool = True) -> duckdb.DuckDBPyConnection:
        """A cursor of the caller's own (to close when done), for work off the request path;
        ``ordered`` as :meth:`ordered_cursor`."""
        cur = self._con.cursor()
        if ordered:
            cur.execute("SET SESSION preserve_insertion_order = true")
        return cur

    def close(self) -> None:
        """Close every cursor and the connection, releasing the database instance (after
        a serving copy being built in the background is done)."""
        self.closed = True
        builder = self.builder
        if builder is not None:  # a copy being made: stop it rather than wait for it
            with contextlib.suppress(duckdb.Error):
                builder.interrupt()
        with self.slow_lock, self.lock, self._cursors_lock:
            for cur in self._cursors:
                cur.close()
            self._cursors.clear()
            self._con.close()


def ensure_read_indexes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """ART indexes on ``uscc`` so a profile is point lookups, not scans (idempotent)."""
    made = []
    for table in ("enterprises", "investments", "officers", *RECORD_TABLES):
        con.execute(f'CREATE INDEX IF NOT EXISTS "ix_{table}_uscc" ON "{table}" (uscc)')
        made.append(table)
    con.execute('CREATE INDEX IF NOT EXISTS "ix_investments_holder" ON investments (holder_id)')
    con.execute('CREATE INDEX IF NOT EXISTS "ix_officers_person" ON officers (person_id)')
    con.execute(
        'CREATE INDEX IF NOT EXISTS "ix_enterprises_legal_rep" ON enterprises (legal_rep_id)'
    )
    return made


def _rows(
    cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | dict[str, Any]
) -> list[dict[str, Any]]:
    res = cur.execute(sql, params if isinstance(params, dict) else list(params))
    names = [d[0] for d in res.description or ()]
    return [dict(zip(names, row, strict=True)) for row in res.fetchall()]


@dataclass(frozen=True)
class ListQuery:
    """Filters of the enterprise list (all optional; values are bound, never spliced)."""

    q: str | None = None
    region: str | None = None
    industry: str | None = None
    status: str | None = None
    uscc_in: tuple[str, ...] | None = None
    where_sql: str | None = None  # from compile_rule only
    where_params: tuple[Any, ...] = ()
    sort: str = "uscc"


def _where(prefix: str, query: ListQuery) -> tuple[str, list[Any]]:
    parts = ["starts_with(e.region_code, ?)"]
    params: list[Any] = [prefix]
    if query.q:
        text = query.q.strip()
        if USCC_LIKE.fullmatch(text.upper()):
            # a whole credit code is looked up, not searched in names (a point lookup
            # instead of a scan of every name)
            parts.append("e.uscc = ?")
            params.append(text.upper())
        else:
            parts.append("(e.uscc = upper(?) OR strpos(e.name, ?) > 0)")
            params += [text, text]
    if query.region:
        parts.append("starts_with(e.region_code, ?)")
        params.append(query.region)
    if query.industry:
        parts.append(
            "(starts_with(e.industry_code, ?) OR starts_with(substr(e.industry_code, 2), ?))"
        )
        params += [query.industry, query.industry]
    if query.status:
        parts.append("e.status = ?")
        params.append(query.status)
    if query.uscc_in is not None:
        parts.append("list_contains(?, e.uscc)")
        params.append(list(query.uscc_in))
    if query.where_sql:
        parts.append(f"({query.where_sql})")
        params += list(query.where_params)
    return " AND ".join(parts), params


def list_enterprises(
    cur: duckdb.DuckDBPyConnection,
    prefix: str,
    query: ListQuery,
    limit: int,
    offset: int,
    reader: WarehouseReader | None = None,
    home: Path | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """A page of enterprises within the scope, and the total matching (remembered by
    ``reader`` when given, so the next page of the same filter does not count again).

    With ``reader`` and ``home`` and classes published, rows also hold each enterprise's
    latest ``class``, ``score`` and ``month`` (read from :func:`list_table`).
    """
    where, params = _where(prefix, query)
    # the uscc-sorted serving copy when current: a page in uscc order is read from the
    # first matching rows on, and a code is found by the zone maps
    src = reader.t("enterprises") if reader is not None else "enterprises"
    columns = LIST_COLUMNS
    listed = list_table(reader, home) if reader is not None and home is not None else None
    if listed is not None:
        src, columns = f"{listed}.{listed}", f"{LIST_COLUMNS}, class, score, class_month AS month"
    key = (where, tuple(tuple(p) if isinstance(p, list) else p for p in params))
    total = None if reader is None else reader.cached_count(key)
    if reader is not None and home is not None and _by_name_index(query):
        found = _name_search(reader, home, cur, prefix, query, src, columns, limit, offset, total)
        if found is not None:
            if total is None:
                reader.remember_count(key, found[0])
            return found
    order = SORTS.get(query.sort, "uscc")
    page = f"FROM {src} e WHERE {where} ORDER BY {order}, uscc LIMIT ? OFFSET ?"
    if total is None and _searches_names(query):
        # a name search scans every name: count its (few) matches in the same scan
        rows = _rows(cur, f"SELECT {columns}, count(*) OVER () AS _total {page}",
                     [*params, limit, offset])  # fmt: skip
        if rows:
            total = int(rows[0]["_total"])
            for row in rows:
                del row["_total"]
        elif offset == 0:
            total = 0
        if total is not None and reader is not None:
            reader.remember_count(key, total)
        if total is not None:
            return total, rows
    page_cur = cur
    if reader is not None and query.sort == "uscc" and _is_copy(src):
        # a uscc-sorted copy read in stored order (WarehouseReader.ordered_cursor): the
        # page is the first matching rows, without sorting every match
        page, page_cur = f"FROM {src} e WHERE {where} LIMIT ? OFFSET ?", reader.ordered_cursor()
    rows = _rows(page_cur, f"SELECT {columns} {page}", [*params, limit, offset])
    if total is None:
        if offset == 0 and len(rows) < limit:  # the whole list fits the page: no count
            total = len(rows)
        else:
            found = cur.execute(f"SELECT count(*) FROM {src} e WHERE {where}", params).fetchone()
            total = int(found[0]) if found else 0
        if reader is not None:
            reader.remember_count(key, total)
    return total, rows


def _by_name_index(query: ListQuery) -> bool:
    """Whether the name index answers the list filter: a name fragment of two characters or
    more, at least one of them not ASCII (so it cannot be a credit code), with no other
    filter than a region, in uscc order."""
    text = (query.q or "").strip()
    return (
        len(text) >= 2
        and not text.isascii()
        and query.sort == "uscc"
        and query.industry is None
        and query.status is None
        and query.uscc_in is None
        and query.where_sql is None
    )


def _name_search(
    reader: WarehouseReader,
    home: Path,
    cur: duckdb.DuckDBPyConnection,
    prefix: str,
    query: ListQuery,
    src: str,
    columns: str,
    limit: int,
    offset: int,
    total: int | None,
) -> tuple[int, list[dict[str, Any]]] | None:
    """A name search through :func:`name_index`: the rows of the fragment's rarest
    character pair, checked for the whole fragment; None while the index is being made."""
    index = name_index(reader, home, src)
    if index is None:
        return None
    table, counts = index
    text = (query.q or "").strip()
    pair = min((text[i : i + 2] for i in range(len(text) - 1)), key=lambda g: counts.get(g, 0))
    if not counts.get(pair):
        return 0, []  # some pair of it is in no name
    cond = "g = ? AND strpos(name, ?) > 0 AND starts_with(region_code, ?)"
    params: list[Any] = [pair, text, prefix]
    if query.region:
        cond += " AND starts_with(region_code, ?)"
        params.append(query.region)
    if total is not None and offset >= total:
        return total, []
    # the index holds the page's columns, in uscc order within the pair
    rows = _rows(
        reader.ordered_cursor(),
        f"SELECT {columns} FROM {table}.{table} WHERE {cond} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )  # fmt: skip
    if total is None:
        if offset == 0 and len(rows) < limit:  # the whole list fits the page: no count
            total = len(rows)
        else:
            found = cur.execute(f"SELECT count(*) FROM {table}.{table} WHERE {cond}", params)
            total = int((found.fetchone() or (0,))[0])
    return total, rows


NAME_INDEX_LAYOUT = "2"


def _page_columns(src: str) -> str:
    """The columns of a list page read from ``src`` (with classes from a list copy)."""
    if src.startswith("lst_"):
        return f"{LIST_COLUMNS}, class, score, class_month"
    return LIST_COLUMNS


def _is_copy(src: str) -> bool:
    """Whether ``src`` is a (uscc-sorted) serving copy, not the warehouse's own table."""
    return "." in src


def _name_index_name(reader: WarehouseReader, src: str) -> str:
    key = f"{src}|{_load_mark(reader)}|{NAME_INDEX_LAYOUT}"
    return f"ngr_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def list_source(reader: WarehouseReader, home: Path) -> str:
    """Where lists read: the list copy with classes, else the enterprises' copy, else the
    warehouse (while the copies are being made)."""
    listed = list_table(reader, home)
    return f"{listed}.{listed}" if listed is not None else reader.t("enterprises")


def name_index(
    reader: WarehouseReader, home: Path, src: str, wait: bool = False
) -> tuple[str, dict[str, int]] | None:
    """The name index of the list copy ``src``: one row per enterprise and pair of
    adjacent characters in its name (``g``), sorted by pair and uscc, with the number of
    enterprises per pair. A search for a fragment reads only the rows of its rarest pair
    (at a million enterprises, a few thousand rows instead of every name).

    Made in the background like the profile copy (None until it is ready).
    """
    if not _is_copy(src):
        return None  # the warehouse itself, while the serving copies are being made
    name = _name_index_name(reader, src)
    counts = reader.bigrams.get(name)
    if counts is not None:
        return name, counts
    cols = ", ".join(f"e.{c.strip()}" for c in _page_columns(src).split(","))
    sql = (
        f"SELECT p.g, {cols} FROM (SELECT DISTINCT uscc, substr(name, i, 2) AS g FROM ("
        f"SELECT uscc, name, unnest(range(1, length(name))) AS i FROM {src} "
        f"WHERE length(name) >= 2)) p JOIN {src} e USING (uscc) ORDER BY p.g, e.uscc"
    )
    if _copy(reader, name, _create_as(name, sql), wait) is None:
        return None
    own = reader.fresh_cursor(ordered=False)
    try:
        counts = {
            str(g): int(n)
            for g, n in own.execute(f"SELECT g, count(*) FROM {name}.{name} GROUP BY g").fetchall()
        }
    finally:
        own.close()
    with reader.counts_lock:
        reader.bigrams.clear()  # the newest one only
        reader.bigrams[name] = counts
    return name, counts


def _searches_names(query: ListQuery) -> bool:
    """Whether the list filter searches text in every name (not a whole credit code)."""
    return bool(query.q) and not USCC_LIKE.fullmatch((query.q or "").strip().upper())


def export_enterprises(
    cur: duckdb.DuckDBPyConnection, prefix: str, query: ListQuery, max_rows: int
) -> pa.Table:
    """Every matching enterprise (up to ``max_rows``) as Arrow, for an export."""
    where, params = _where(prefix, query)
    order = SORTS.get(query.sort, "uscc")
    sql = f"SELECT {LIST_COLUMNS} FROM enterprises e WHERE {where} ORDER BY {order}, uscc LIMIT ?"
    # A cursor of its own: the thread's cursor may hold an unfinished result of an earlier
    # query, and DuckDB refuses a relation on a cursor that is still in use.
    own = cur.cursor()
    try:
        return own.sql(sql, params=[*params, max_rows]).to_arrow_table()
    finally:
        own.close()


def enterprise(reader: WarehouseReader, prefix: str, uscc: str) -> dict[str, Any] | None:
    """The basics of one enterprise, or None when absent or outside the scope."""
    rows = _rows(
        reader.cursor(),
        f"SELECT {BASICS} FROM {reader.t('enterprises')} "
        "WHERE uscc = ? AND starts_with(region_code, ?)",
        [uscc, prefix],
    )
    return rows[0] if rows else None


def records(reader: WarehouseReader, uscc: str, per_table: int) -> dict[str, list[dict[str, Any]]]:
    """The records timeline of one enterprise (newest first; the caller checked the scope).

    Values are JSON types (dates as ISO strings), as the service sends them.
    """
    cur = reader.cursor()
    base = reader.base
    if base is not None and per_table <= RECORDS_PER_TABLE:
        found = cur.execute(
            f"SELECT records FROM {base}.s_timeline WHERE uscc = ?", [uscc]
        ).fetchone()
        timeline = _loads(found[0]) if found and found[0] else {}
        return {
            t: [dict(zip(_COLUMNS[t], row, strict=True)) for row in timeline.get(t, ())[:per_table]]
            for t in RECORD_TABLES
        }
    return {
        table: [
            {k: _plain(v) for k, v in row.items()}
            for row in _rows(
                cur,
                f'SELECT {cols} FROM "{table}" WHERE uscc = ? '
                f"ORDER BY {date_col} DESC NULLS LAST LIMIT ?",
                [uscc, per_table],
            )
        ]
        for table, (date_col, cols) in RECORD_TABLES.items()
    }


_COLUMNS = {t: [c.strip() for c in cols.split(",")] for t, (_d, cols) in RECORD_TABLES.items()}


def _plain(value: Any) -> Any:
    """A value as ``to_json`` writes it: dates as ISO strings, decimals as numbers."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def links(
    cur: duckdb.DuckDBPyConnection, prefix: str, usccs: Sequence[str], limit: int
) -> list[dict[str, Any]]:
    """Links of the given enterprises to persons and enterprises, in scope only.

    Each row: ``uscc`` (a given enterprise), ``other`` (a person pseudonym or a uscc),
    ``other_kind`` (P/E), ``role``, ``other_name``. An enterprise on the far side of a
    person or an investment appears only when the scope covers it.

    A few lookups by key (``uscc``, person, holder: each column has an index), not one
    query joining every enterprise and officer: at a million enterprises a walk took
    0.7–1.3 s that way.
    """
    seeds = list(dict.fromkeys(usccs))
    if not seeds:
        return []
    marks = _marks(seeds)
    persons = _rows(
        cur,
        f"SELECT uscc, legal_rep_id AS pid, '法定代表人' AS role, legal_rep_name AS pname "
        f"FROM enterprises WHERE uscc IN ({marks}) "
        f"UNION ALL SELECT uscc, person_id, role, name FROM officers WHERE uscc IN ({marks}) "
        f"UNION ALL SELECT uscc, holder_id, '股东', holder_name FROM investments "
        f"WHERE uscc IN ({marks}) AND holder_type = '自然人'",
        seeds * 3,
    )
    persons = [p for p in persons if p["pid"] is not None]
    out = [
        {"uscc": p["uscc"], "other": p["pid"], "other_kind": "P", "role": p["role"],
         "other_name": p["pname"]}
        for p in persons
    ]  # fmt: skip
    pids = list(dict.fromkeys(str(p["pid"]) for p in persons))
    same: dict[str, list[str]] = {}  # person -> enterprises where legal rep or officer
    if pids:
        for u, pid in cur.execute(
            f"SELECT uscc, legal_rep_id FROM enterprises WHERE legal_rep_id IN ({_marks(pids)}) "
            f"UNION SELECT uscc, person_id FROM officers WHERE person_id IN ({_marks(pids)})",
            pids * 2,
        ).fetchall():
            same.setdefault(str(pid), []).append(str(u))
    held = cur.execute(  # enterprises holding shares in a seed
        f"SELECT uscc, holder_id, holder_name FROM investments "
        f"WHERE uscc IN ({marks}) AND holder_type = '企业'",
        seeds,
    ).fetchall()
    holding = cur.execute(  # enterprises a seed holds shares in
        f"SELECT holder_id, uscc FROM investments WHERE holder_id IN ({marks})", seeds
    ).fetchall()
    far = list({*(u for us in same.values() for u in us), *(h for _u, h, _n in held),
                *(u for _h, u in holding)} - {None})  # fmt: skip
    known: dict[str, tuple[str, str]] = {}
    if far:
        known = {
            str(u): (n, r)
            for u, n, r in cur.execute(
                f"SELECT uscc, name, region_code FROM enterprises WHERE uscc IN ({_marks(far)})",
                far,
            ).fetchall()
            if r is not None and str(r).startswith(prefix)
        }
    for p in persons:
        for u in same.get(str(p["pid"]), ()):
            if u != p["uscc"] and u in known:
                out.append({"uscc": p["uscc"], "other": u, "other_kind": "E",
                            "role": "同一人员", "other_name": known[u][0]})  # fmt: skip
    out += [
        {"uscc": u, "other": h, "other_kind": "E", "role": "被投资", "other_name": n}
        for u, h, n in held
        if h in known
    ]
    out += [
        {"uscc": h, "other": u, "other_kind": "E", "role": "对外投资", "other_name": known[u][0]}
        for h, u in holding
        if u in known
    ]
    return out[:limit]


def _marks(values: Sequence[Any]) -> str:
    """``?, ?, …`` for a list of bound values."""
    return ", ".join("?" * len(values))


def direct_links(reader: WarehouseReader, prefix: str, uscc: str) -> list[dict[str, Any]]:
    """Persons and enterprises one step from ``uscc``, in one query (point lookups on the
    uscc-sorted copies). Enterprises on the other side appear only when the scope covers
    them, with their names."""
    t = reader.t
    rows = _rows(
        reader.cursor(),
        f"""
        WITH l AS (
          SELECT 0 AS o, 'P' AS other_kind, legal_rep_id AS other, '法定代表人' AS role,
                 legal_rep_name AS other_name
            FROM {t("enterprises")} WHERE uscc = $u AND legal_rep_id IS NOT NULL
          UNION ALL SELECT 1, 'P', person_id, role, name FROM {t("officers")} WHERE uscc = $u
          UNION ALL SELECT 2, CASE WHEN holder_type = '企业' THEN 'E' ELSE 'P' END, holder_id,
                 '股东', holder_name FROM {t("investments")} WHERE uscc = $u
          UNION ALL SELECT 3, 'E', uscc, '对外投资', NULL
            FROM {t("investments_by_holder")} WHERE holder_id = $u),
        named AS (
          SELECT uscc, name, region_code FROM {t("enterprises")}
          WHERE uscc IN (SELECT other FROM l WHERE other_kind = 'E'))
        SELECT $u AS uscc, l.other_kind, l.other, l.role,
               CASE WHEN l.other_kind = 'E' THEN n.name ELSE l.other_name END AS other_name
        FROM l LEFT JOIN named n ON l.other_kind = 'E' AND n.uscc = l.other
        WHERE l.other_kind = 'P'
           OR (n.uscc IS NOT NULL AND starts_with(coalesce(n.region_code, ''), $p))
        ORDER BY l.o, l.role, l.other""",
        {"u": uscc, "p": prefix},
    )
    return rows


def stats_enterprises(cur: duckdb.DuckDBPyConnection, prefix: str, by: str) -> list[dict[str, Any]]:
    """Counts of live enterprises by region or industry section within the scope."""
    key = {"region": "region_code", "industry": "left(industry_code, 1)"}[by]
    return _rows(
        cur,
        f"SELECT {key} AS key, count(*) AS enterprises FROM enterprises "
        "WHERE starts_with(region_code, ?) GROUP BY 1 ORDER BY 1",
        [prefix],
    )


def regions_of(cur: duckdb.DuckDBPyConnection, usccs: Sequence[str]) -> dict[str, str]:
    """The region code of each given enterprise that exists."""
    res = cur.execute(
        "SELECT uscc, region_code FROM enterprises WHERE list_contains(?, uscc)", [list(usccs)]
    ).fetchall()
    return {str(u): str(r) for u, r in res}


# -- screening: a closed table of fields and operators, compiled to bound parameters -----


def _cnt(table: str, cond: str) -> str:
    return f"(SELECT count(*) FROM {table} x WHERE x.uscc = e.uscc AND {cond})"


def _last(col: str) -> str:
    return (
        f"(SELECT {col} FROM annual_reports x WHERE x.uscc = e.uscc AND x.submitted_on IS NOT "
        "NULL AND x.submitted_on <= {asof} ORDER BY x.year DESC LIMIT 1)"
    )


_PROBLEM = (
    "(starts_with(x.result, '发现问题') OR starts_with(x.result, '未按规定公示') OR "
    "starts_with(x.result, '公示信息隐瞒') OR starts_with(x.result, '通过登记的住所') OR "
    "starts_with(x.result, '不配合检查'))"
)
_Y1 = "> {asof} - INTERVAL 1 YEAR"
_Y3 = "> {asof} - INTERVAL 3 YEAR"

# name -> (layer, type, SQL over alias e; {asof} is a DATE literal made from a date object)
FIELDS: dict[str, tuple[str, str, str]] = {
    "entity_type": ("registration", "text", "e.entity_type"),
    "status": ("registration", "text", "e.status"),
    "established_on": ("registration", "date", "e.established_on"),
    "age_years": ("registration", "number", "date_diff('year', e.established_on, {asof})"),
    "registered_capital": ("registration", "number", "e.registered_capital"),
    "industry_code": ("registration", "text", "e.industry_code"),
    "industry_section": ("registration", "text", "left(e.industry_code, 1)"),
    "region_code": ("registration", "text", "e.region_code"),
    "name": ("registration", "text", "e.name"),
    "address": ("registration", "text", "e.address"),
    "authority": ("registration", "text", "e.authority"),
    "business_scope": ("registration", "text", "e.business_scope"),
    "deregistered_on": ("registration", "date", "e.deregistered_on"),
    "legal_rep_name": ("registration", "text", "e.legal_rep_name"),
    "changes_1y": ("registration", "number", _cnt("changes", "x.changed_on " + _Y1)),
    "legal_rep_changes_1y": (
        "registration", "number",
        _cnt("changes", "x.item = '法定代表人' AND x.changed_on " + _Y1),
    ),
    "address_changes_1y": (
        "registration", "number", _cnt("changes", "x.item = '住所' AND x.changed_on " + _Y1)
    ),
    "shareholders": ("registration", "number", _cnt("investments", "true")),
    "corporate_shareholders": (
        "registration", "number", _cnt("investments", "x.holder_type = '企业'")
    ),
    "officers": ("registration", "number", _cnt("officers", "true")),
    "licenses_valid": ("approvals", "number", _cnt("licenses", "x.status = '有效'")),
    "license_kinds": (
        "approvals", "list", "(SELECT list(x.kind) FROM licenses x WHERE x.uscc = e.uscc)"
    ),
    "licenses_expiring_90d": (
        "approvals", "number",
        _cnt("licenses", "x.status = '有效' AND x.valid_until BETWEEN {asof} AND {asof} + 90"),
    ),
    "licenses_revoked": ("approvals", "number", _cnt("licenses", "x.status IN ('吊销', '撤销')")),
    "last_report_year": (
        "publicity", "number",
        "(SELECT max(x.year) FROM annual_reports x WHERE x.uscc = e.uscc AND "
        "x.submitted_on <= {asof})",
    ),
    "reports_missing_3y": (
        "publicity", "number",
        _cnt("annual_reports", "x.submitted_on IS NULL AND x.year >= year({asof}) - 3"),
    ),
    "reports_corrected": ("publicity", "number", _cnt("annual_reports", "x.corrected")),
    "employees": ("publicity", "number", _last("x.employees")),
    "revenue": ("publicity", "number", _last("x.revenue")),
    "total_assets": ("publicity", "number", _last("x.total_assets")),
    "tax_paid": ("publicity", "number", _last("x.tax_paid")),
    "abnormal_now": (
        "publicity", "bool",
        "EXISTS (SELECT 1 FROM abnormal_listings x WHERE x.uscc = e.uscc AND x.listed_on <= "
        "{asof} AND (x.removed_on IS NULL OR x.removed_on > {asof}))",
    ),
    "abnormal_listings": ("publicity", "number", _cnt("abnormal_listings", "true")),
    "abnormal_reasons": (
        "publicity", "list",
        "(SELECT list(x.reason) FROM abnormal_listings x WHERE x.uscc = e.uscc)",
    ),
    "penalty_domains": (
        "supervision", "list", "(SELECT list(x.domain) FROM penalties x WHERE x.uscc = e.uscc)"
    ),
    "inspection_kinds": (
        "supervision", "list", "(SELECT list(x.kind) FROM inspections x WHERE x.uscc = e.uscc)"
    ),
    "penalties_3y": ("enforcement", "number", _cnt("penalties", "x.decided_on " + _Y3)),
    "fines_3y": (
        "enforcement", "number",
        "(SELECT coalesce(sum(x.fine), 0) FROM penalties x WHERE x.uscc = e.uscc AND "
        "x.decided_on " + _Y3 + ")",
    ),
    "penalty_kinds": (
        "enforcement", "list",
        "(SELECT flatten(list(x.penalty_kinds)) FROM penalties x WHERE x.uscc = e.uscc)",
    ),
    "inspections_3y": ("enforcement", "number", _cnt("inspections", "x.inspected_on " + _Y3)),
    "inspection_problems_3y": (
        "enforcement", "number", _cnt("inspections", f"x.inspected_on {_Y3} AND {_PROBLEM}")
    ),
    "last_inspected_on": (
        "enforcement", "date",
        "(SELECT max(x.inspected_on) FROM inspections x WHERE x.uscc = e.uscc)",
    ),
    "complaints_1y": ("enforcement", "number", _cnt("complaints", "x.received_on " + _Y1)),
    "complaints_substantiated_1y": (
        "enforcement", "number", _cnt("complaints", "x.substantiated AND x.received_on " + _Y1)
    ),
    "serious_violation_now": (
        "credit", "bool",
        "EXISTS (SELECT 1 FROM serious_violations x WHERE x.uscc = e.uscc AND x.listed_on <= "
        "{asof} AND (x.removed_on IS NULL OR x.removed_on > {asof}))",
    ),
    "dishonest_debtor_now": (
        "credit", "bool",
        "EXISTS (SELECT 1 FROM judicial x WHERE x.uscc = e.uscc AND x.role = '失信被执行人' "
        "AND x.filed_on <= {asof} AND (x.closed_on IS NULL OR x.closed_on > {asof}))",
    ),
    "lawsuits_defendant_3y": (
        "credit", "number", _cnt("judicial", "x.role = '被告' AND x.filed_on " + _Y3)
    ),
    "negative_opinions_1y": (
        "credit", "number", _cnt("opinions", "x.sentiment = '负面' AND x.published_on " + _Y1)
    ),
}  # fmt: skip

# op -> (types it applies to, SQL template over {f} and ? placeholders, arity)
OPERATORS: dict[str, tuple[frozenset[str], str]] = {
    "eq": (frozenset({"text", "number", "date"}), "{f} = ?"),
    "ne": (frozenset({"text", "number", "date"}), "{f} <> ?"),
    "lt": (frozenset({"number", "date"}), "{f} < ?"),
    "le": (frozenset({"number", "date"}), "{f} <= ?"),
    "gt": (frozenset({"number", "date"}), "{f} > ?"),
    "ge": (frozenset({"number", "date"}), "{f} >= ?"),
    "between": (frozenset({"number", "date"}), "{f} BETWEEN ? AND ?"),
    "in": (frozenset({"text", "number"}), "list_contains(?, {f})"),
    "not_in": (frozenset({"text", "number"}), "NOT list_contains(?, {f})"),
    "contains": (frozenset({"text"}), "strpos({f}, ?) > 0"),
    "starts_with": (frozenset({"text"}), "starts_with({f}, ?)"),
    "has": (frozenset({"list"}), "list_contains({f}, ?)"),
    "has_any": (frozenset({"list"}), "len(list_intersect({f}, ?)) > 0"),
    "is_true": (frozenset({"bool"}), "{f}"),
    "is_false": (frozenset({"bool"}), "NOT {f}"),
    "is_null": (frozenset({"text", "number", "date", "list"}), "{f} IS NULL"),
    "not_null": (frozenset({"text", "number", "date", "list"}), "{f} IS NOT NULL"),
}


def field_sql(name: str, as_of: dt.date) -> str:
    """The SQL of a whitelisted field at ``as_of`` (KeyError for any other name)."""
    _layer, _type, sql = FIELDS[name]
    return sql.replace("{asof}", f"DATE '{as_of.isoformat()}'")


def leaf_sql(name: str, op: str, as_of: dt.date) -> str:
    """The SQL of one condition with ``?`` where its values bind (KeyError if unknown)."""
    types, template = OPERATORS[op]
    if FIELDS[name][1] not in types:
        raise KeyError(f"{op} does not apply to {name}")
    return "(" + template.replace("{f}", field_sql(name, as_of)) + ")"


RECORDS_PER_TABLE = 100
"""Newest records of each kind kept per enterprise in the timeline copy."""

SERVING_LAYOUT = "5"
"""Bumped when the copies change shape: copies of another layout are rebuilt."""


Fill = Callable[[duckdb.DuckDBPyConnection, str], None]
"""Creates a copy's tables: ``fill(cursor, alias)`` with ``alias`` the new file's database."""


def _create_as(name: str, sql: str, params: Sequence[Any] = ()) -> Fill:
    """A :data:`Fill` making the one table ``name`` of a copy from ``sql``."""

    def fill(con: duckdb.DuckDBPyConnection, alias: str) -> None:
        con.execute(f"CREATE TABLE {alias}.{name} AS {sql}", list(params))

    return fill


def _copy(reader: WarehouseReader, name: str, fill: Fill, wait: bool) -> str | None:
    """The serving copy ``name``, attached: published already, made now (``wait``), or
    made in the background while the caller reads around it (None).

    ``fill(cursor, alias)`` creates the copy's tables in the database ``alias``. A copy
    whose making failed is not tried again by every request.
    """
    if reader.attach(name):
        return name
    if wait:
        _make_copy(reader, name, fill, raise_errors=True)
        return name if reader.attach(name) else None
    with reader.lock:
        if name in reader.building or name in reader.failed:
            return None
        reader.building.add(name)
    threading.Thread(
        target=_make_copy, args=(reader, name, fill, False), name=f"copy-{name}", daemon=True
    ).start()
    return None


def _make_copy(reader: WarehouseReader, name: str, fill: Fill, raise_errors: bool) -> bool:
    """Make a copy unless it is published (another process may be making it: the build
    lock makes this one wait, then find it); returns whether this call made it."""
    made = False
    try:
        with reader.slow_lock:  # one copy at a time in this process; closing waits for it
            if reader.closed:
                return False
            con = reader.fresh_cursor()  # ordered: copies are stored in the order asked for
            reader.builder = con
            try:
                made = reader.serving.make(con, name, lambda alias: fill(con, alias))
            finally:
                reader.builder = None
                con.close()
            reader.attach(name)
    except (duckdb.Error, OSError):
        if reader.closed:  # interrupted by close(): the next reader makes it
            return False
        with reader.lock:
            reader.failed.add(name)
        log.exception("making the serving copy %s failed; requests read around it", name)
        if raise_errors:
            raise
    finally:
        with reader.lock:
            reader.building.discard(name)
    return made


def _ind_name(reader: WarehouseReader, home: Path, month: str) -> tuple[str, list[str]] | None:
    """(name of the copy of a month's indicator snapshot, its part files), remembered until
    the month's folder changes (a request does not list it)."""
    folder = snapshots.month_dir(home, month)
    try:
        stamp = (folder, folder.stat().st_mtime_ns)  # a new run of the month changes it
    except FileNotFoundError:
        return None
    known = reader.month_copies.get(stamp)
    if known is not None:
        return known
    parts = sorted(str(p) for p in folder.glob("part-*.parquet"))
    if not parts:
        return None
    digest = hashlib.sha256("|".join(Path(p).name for p in parts).encode()).hexdigest()
    found = reader.month_copies[stamp] = (f"ind_{month.replace('-', '_')}_{digest[:12]}", parts)
    return found


def _serving_table(
    reader: WarehouseReader, home: Path, month: str, wait: bool = False
) -> str | None:
    """A uscc-indexed copy of a month's indicator snapshot (None while it is being made).

    A profile needs one row of a month's Parquet; scanning the files per request costs tens
    of milliseconds at a million enterprises, an indexed copy well under one. The copy is
    named after the snapshot's part files, so a new run of the month gets a new copy.
    """
    found = _ind_name(reader, home, month)
    if found is None:
        return None
    name, parts = found
    if name in reader.attached:
        return name

    def fill(con: duckdb.DuckDBPyConnection, alias: str) -> None:
        con.execute(f"CREATE TABLE {alias}.{name} AS SELECT * FROM read_parquet(?)", [parts])
        con.execute(f"CREATE INDEX ix_{name} ON {alias}.{name} (uscc)")

    return _copy(reader, name, fill, wait)


def indicator_row(
    reader: WarehouseReader, home: Path, month: str, uscc: str
) -> dict[str, Any] | None:
    """One enterprise's row of a month's indicator snapshot (None if absent): from its
    copy, or from the files while the copy is being made."""
    table = _serving_table(reader, home, month)
    if table is not None:
        rows = _rows(reader.cursor(), f"SELECT * FROM {table}.{table} WHERE uscc = ?", [uscc])
    else:
        found = _ind_name(reader, home, month)
        if found is None:
            return None
        rows = _rows(
            reader.cursor(), "SELECT * FROM read_parquet(?) WHERE uscc = ?", [found[1], uscc]
        )
    return rows[0] if rows else None


def warm(reader: WarehouseReader, home: Path, wait: bool = False) -> str | None:
    """Compute the dashboard's aggregates, and start (``wait``: make) the copies of the
    newest month's indicators and of the classes, before a first request needs them."""
    enterprise_summary(reader)
    class_summary(reader, home)
    _class_table(reader, home, wait)
    months = snapshots.list_months(home)
    return _serving_table(reader, home, months[-1], wait) if months else None


# (copy name, source table, sort key, columns) of the uscc-sorted tables of the base copy
_COPIES: list[tuple[str, str, str, str]] = [
    ("enterprises", "enterprises", "uscc", "*"),
    ("officers", "officers", "uscc", "uscc, person_id, role, name"),
    ("investments", "investments", "uscc", "uscc, holder_type, holder_id, holder_name"),
    ("investments_by_holder", "investments", "holder_id", "uscc, holder_id"),
]


def _timeline_sql(where: str) -> str:
    """The newest records of each kind of the enterprises whose uscc meets ``where``, as
    one JSON object per enterprise (kind -> arrays of the columns, newest first), sorted by
    uscc: a profile reads its whole timeline with one lookup instead of one per table."""
    parts = []
    for table, (date_col, cols) in RECORD_TABLES.items():
        parts.append(
            f"SELECT uscc, '{table}' AS t, row_number() OVER (PARTITION BY uscc "
            f"ORDER BY {date_col} DESC NULLS LAST) AS n, "
            f'json_array({cols}) AS j FROM "{table}" '
            f"WHERE uscc IS NOT NULL AND {where} QUALIFY n <= {RECORDS_PER_TABLE}"
        )
    return (
        "SELECT uscc, CAST(to_json(map(list(t), list(js))) AS VARCHAR) AS records FROM ("
        "SELECT uscc, t, to_json(list(j ORDER BY n)) AS js "
        f"FROM ({' UNION ALL '.join(parts)}) GROUP BY uscc, t) GROUP BY uscc ORDER BY uscc"
    )


TIMELINE_ROWS_PER_PASS = 4_000_000
"""Records grouped into timelines per pass: the grouping keeps every record of a pass in
memory (list aggregates do not spill), so a million enterprises' 55 M records at once ran
out of 19 GB; passes over ranges of uscc keep it to about a gigabyte each."""


def _uscc_ranges(con: duckdb.DuckDBPyConnection) -> list[tuple[str, list[str]]]:
    """(condition on ``uscc``, its parameters) for consecutive uscc ranges that together
    cover every code, each holding about :data:`TIMELINE_ROWS_PER_PASS` records."""
    counts = [
        (con.execute(f'SELECT count(*) FROM "{t}"').fetchone() or (0,))[0] for t in RECORD_TABLES
    ]
    passes = max(1, -(-sum(counts) // TIMELINE_ROWS_PER_PASS))
    if passes == 1:
        return [("true", [])]
    cuts = con.execute(
        "SELECT DISTINCT unnest(quantile_disc(uscc, ?)) AS c FROM enterprises ORDER BY c",
        [[i / passes for i in range(1, passes)]],
    ).fetchall()
    bounds = [str(c) for (c,) in cuts if c is not None]
    if not bounds:
        return [("true", [])]
    ranges = [("uscc < ?", [bounds[0]])]
    ranges += [("uscc >= ? AND uscc < ?", [lo, hi]) for lo, hi in itertools.pairwise(bounds)]
    ranges.append(("uscc >= ?", [bounds[-1]]))
    return ranges


def _base_name(reader: WarehouseReader) -> str:
    """The base copy of the warehouse as loaded now."""
    key = f"{SERVING_LAYOUT}|{_load_mark(reader)}"
    return f"base_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _fill_base(con: duckdb.DuckDBPyConnection, alias: str) -> None:
    for name, source, key, cols in _COPIES:
        con.execute(
            f'CREATE TABLE {alias}.s_{name} AS SELECT {cols} FROM "{source}" ORDER BY {key}'
        )
    # Timelines are a few kilobytes each: stored uncompressed, a lookup reads one (about
    # 1 ms at a million); compressed with ZSTD it decompresses a whole block (5).
    con.execute(
        f"CREATE TABLE {alias}.s_timeline "
        "(uscc VARCHAR, records VARCHAR USING COMPRESSION uncompressed)"
    )
    for where, params in _uscc_ranges(con):  # in uscc order, range after range
        con.execute(f"INSERT INTO {alias}.s_timeline {_timeline_sql(where)}",
                    params * len(RECORD_TABLES))  # fmt: skip
    con.execute(f"CREATE INDEX ix_s_timeline ON {alias}.s_timeline (uscc)")


def build_serving(
    reader: WarehouseReader, home: Path, force: bool = False, wait: bool = True
) -> bool:
    """The base copy: the tables a profile reads, sorted by uscc, and every enterprise's
    records timeline; attached as :attr:`WarehouseReader.base`.

    The warehouse keeps rows in load order, so one enterprise's records are spread over
    every row group and a point lookup decompresses many of them; sorted copies keep them
    together (zone maps skip the rest). Made once per load of the warehouse; until it is
    attached (``serving_ready`` False) reads go to the warehouse itself. ``wait=False``
    makes it in the background. Returns whether this call made it.
    """
    name = _base_name(reader)
    if force:
        reader.forget(name)
    made = False
    if not reader.attach(name):
        if wait:
            made = _make_copy(reader, name, _fill_base, raise_errors=True)
        else:
            _copy(reader, name, _fill_base, wait=False)
    reader.attach(name)
    return made


def invalidate_serving(reader: WarehouseReader) -> None:
    """Read the warehouse itself until :func:`build_serving` runs again (after a load)."""
    reader.base = None
    reader.forget_counts()


# -- classes (issue 4's monthly output, Parquet under home/classes) ----------------------


def _class_table(reader: WarehouseReader, home: Path, wait: bool = False) -> str | None:
    """A uscc-sorted serving copy of every month's classes (None before the first run, and
    while it is being made)."""
    parts = class_parts(home)
    if not parts:
        return None
    files = [str(p) for p in parts]
    name = f"cls_{hashlib.sha256('|'.join(files).encode()).hexdigest()[:12]}"
    if name in reader.attached:
        return name

    sql = (
        "SELECT uscc, month, region_code, industry_code, class, score, probability, "
        "model_version, reasons, overrides FROM read_parquet(?) ORDER BY uscc, month"
    )
    return _copy(reader, name, _create_as(name, sql, [files]), wait)


def _class_source(reader: WarehouseReader, home: Path) -> str | None:
    """Where class rows are read: the class copy, or the class files themselves while the
    copy is being made (None before the first run)."""
    parts = class_parts(home)
    if not parts:
        return None
    table = _class_table(reader, home)
    if table is not None:
        return f"{table}.{table}"
    return "read_parquet([" + ", ".join(sql_str(str(p)) for p in parts) + "])"


def _ensure_copy(
    reader: WarehouseReader, home: Path, name: str, select: str, params: Sequence[Any] = ()
) -> str:
    """The copy ``name`` made from ``select`` now unless it exists (names carry what the
    copy was made from, so an existing one is current)."""

    made = _copy(reader, name, _create_as(name, select, params), wait=True)
    if made is None:
        raise duckdb.IOException(f"the serving copy {name} could not be attached")
    return made


LIST_LAYOUT = "2"
LIST_COPY_COLUMNS = (
    "uscc, name, entity_type, status, established_on, registered_capital, industry_code, "
    "region_code, address, legal_rep_id, legal_rep_name, authority, business_scope, "
    "deregistered_on"
)
"""The enterprise columns of the list copy: what lists show and screening rules read (not
the load's bookkeeping, which made every page read wider rows)."""


def list_table(reader: WarehouseReader, home: Path, wait: bool = False) -> str | None:
    """A uscc-sorted serving copy of the enterprises with each one's latest class, score
    and class month (``class_month``), for lists: a page carries its classes without a
    lookup per page. None before classes, and while it (or the copies it is made from) is
    being made."""
    base = reader.base
    if base is None:
        return None
    classes = _class_table(reader, home, wait)
    if classes is None:
        return None
    key = f"{classes}|{base}|{LIST_LAYOUT}"
    name = f"lst_{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    if name in reader.attached:
        return name
    sql = (
        f"SELECT {LIST_COPY_COLUMNS}, c.class, c.score, c.month AS class_month "
        f"FROM {base}.s_enterprises e "
        f"LEFT JOIN (SELECT uscc, class, score, month FROM {classes}.{classes} "
        "QUALIFY row_number() OVER (PARTITION BY uscc ORDER BY month DESC) = 1) c "
        "USING (uscc) ORDER BY e.uscc"
    )
    return _copy(reader, name, _create_as(name, sql), wait)


def prune_serving(reader: WarehouseReader, home: Path) -> list[str]:
    """Delete the copies this reader does not use (every classification run and load makes
    new ones), what interrupted builds left, and the one-file ``serving.duckdb`` of earlier
    versions; returns the names deleted.

    ``riskwatch serve`` calls it after making the current copies and before it serves. A
    process that still has a deleted copy attached reads it until it lets go.
    """
    with reader.lock:
        keep = set(reader.attached) - set(reader.retired)
    with reader.serving.building():
        reader.serving.clean()
        dropped = [n for n in reader.serving.names() if n not in keep]
        reader.serving.remove(dropped)
        for legacy in (home / "serving.duckdb", home / "serving.duckdb.wal"):
            legacy.unlink(missing_ok=True)
    with reader.lock:
        for name in dropped:  # detached when their grace period is over
            reader.retired.setdefault(name, time.monotonic())
    return dropped


PROFILE_LAYOUT = "2"
"""Bumped when the profile documents change shape."""


def _profile_sources(
    reader: WarehouseReader, home: Path, wait: bool = False
) -> tuple[str, str | None, str | None] | None:
    """(name of the current profile copy, class copy, indicator copy of the newest month);
    None while one of the copies it is made from is being made."""
    base = reader.base
    if base is None:
        return None
    classes = _class_table(reader, home, wait)
    if classes is None and class_parts(home):
        return None
    months = snapshots.recent_months(home)
    indicators = _serving_table(reader, home, months[-1], wait) if months else None
    if indicators is None and months:
        return None
    key = "|".join((SERVING_LAYOUT, PROFILE_LAYOUT, base, classes or "", indicators or ""))
    return f"prf_{hashlib.sha256(key.encode()).hexdigest()[:12]}", classes, indicators


def _profile_sql(base: str, classes: str | None, indicators: str | None) -> str:
    """One row per enterprise holding the parts of its profile that change with runs, as
    JSON: basics, direct links (with the other side's region, for the scope), classes of
    every month with the latest reasons, and the newest indicators. (The records timeline,
    which changes only with loads, is the base copy's ``s_timeline``.)"""
    links = f"""
        WITH l AS (
          SELECT uscc, 0 AS o, 'P' AS k, legal_rep_id AS other, '法定代表人' AS role,
                 legal_rep_name AS nm
            FROM {base}.s_enterprises WHERE legal_rep_id IS NOT NULL
          UNION ALL SELECT uscc, 1, 'P', person_id, role, name FROM {base}.s_officers
          UNION ALL SELECT uscc, 2, CASE WHEN holder_type = '企业' THEN 'E' ELSE 'P' END,
                 holder_id, '股东', holder_name FROM {base}.s_investments
          UNION ALL SELECT holder_id, 3, 'E', uscc, '对外投资', NULL
            FROM {base}.s_investments_by_holder)
        SELECT l.uscc, CAST(to_json(list(json_array(
                 l.k, l.other, l.role, CASE WHEN l.k = 'E' THEN n.name ELSE l.nm END,
                 n.region_code) ORDER BY l.o, l.role, l.other)) AS VARCHAR) AS links
        FROM l LEFT JOIN {base}.s_enterprises n ON l.k = 'E' AND n.uscc = l.other
        WHERE l.k = 'P' OR n.uscc IS NOT NULL
        GROUP BY l.uscc"""
    parts = [f"LEFT JOIN ({links}) k USING (uscc)"]
    cols = ["k.links"]
    if classes:
        parts.append(
            "LEFT JOIN (SELECT uscc, CAST(to_json(list(json_object('class', class, "
            "'score', score, 'month', month) ORDER BY month)) AS VARCHAR) AS classes, "
            "arg_max(reasons, month) AS reasons, arg_max(overrides, month) AS overrides "
            f"FROM {classes}.{classes} GROUP BY uscc) c USING (uscc)"
        )
        cols += ["c.classes", "c.reasons", "c.overrides"]
    else:
        cols += ["NULL AS classes", "NULL AS reasons", "NULL AS overrides"]
    if indicators:
        parts.append(
            f"LEFT JOIN (SELECT uscc, CAST(to_json(i) AS VARCHAR) AS indicators "
            f"FROM {indicators}.{indicators} i) i USING (uscc)"
        )
        cols.append("i.indicators")
    else:
        cols.append("NULL AS indicators")
    basics = ", ".join(f"{c} := e.{c}" for c in (c.strip() for c in BASICS.split(",")))
    return (
        f"SELECT e.uscc, e.region_code, CAST(to_json(struct_pack({basics})) AS VARCHAR) AS "
        f"basics, {', '.join(cols)} FROM {base}.s_enterprises e {' '.join(parts)} "
        "ORDER BY e.uscc"
    )


def profile_table(reader: WarehouseReader, home: Path, wait: bool = False) -> str | None:
    """The current profile copy (``prf_…``): one indexed row per enterprise with its
    profile but the timeline, so a profile is two lookups instead of five.

    Made from the base copy, the classes and the newest month's indicators, so it is made
    again after every load and classification run (in the background: until it is ready,
    None, and profiles read the parts one by one).
    """
    sources = _profile_sources(reader, home, wait)
    if sources is None:
        return None
    name, classes, indicators = sources
    if name in reader.attached:
        return name
    base = reader.base
    assert base is not None  # _profile_sources checked it

    def fill(con: duckdb.DuckDBPyConnection, alias: str) -> None:
        # one file, published whole: no request sees the table before its index
        con.execute(f"CREATE TABLE {alias}.{name} AS {_profile_sql(base, classes, indicators)}")
        con.execute(f"CREATE INDEX ix_{name} ON {alias}.{name} (uscc)")

    return _copy(reader, name, fill, wait)


def serving_copies(reader: WarehouseReader, home: Path, wait: bool = False) -> None:
    """Make (``wait``) or start in the background every copy the request path reads, in
    the order they are made from each other; cheap when they are published."""
    warm(reader, home, wait)
    build_serving(reader, home, wait=wait)
    list_table(reader, home, wait)
    profile_table(reader, home, wait)
    name_index(reader, home, list_source(reader, home), wait)


def preload(reader: WarehouseReader, home: Path) -> list[str]:
    """Read the copies a profile looks up (the profile copy and the timelines) once, so
    their blocks are in DuckDB's buffer pool before the first request: a profile read from
    disk costs about 5.6 ms at a million enterprises, from memory 1.5 (about 15 s and 7 GB
    at a million). Returns the tables read."""
    done = []
    table = profile_table(reader, home, wait=True)  # made now if missing
    own = reader.fresh_cursor(ordered=False)
    try:
        if table is not None:
            # every column a lookup reads, the keys and the region filter too
            own.execute(
                "SELECT count(uscc), count(region_code), sum(length(basics)) + "
                "sum(length(links)) + sum(length(classes)) + sum(length(reasons)) + "
                f"sum(length(overrides)) + sum(length(indicators)) FROM {table}.{table}"
            ).fetchall()
            done.append(table)
        if reader.serving_ready:
            own.execute(
                f"SELECT count(uscc), sum(length(records)) FROM {reader.t('timeline')}"
            ).fetchall()
            done.append("s_timeline")
    finally:
        own.close()
    return done


def _loads(doc: str) -> Any:
    """JSON written by DuckDB's ``to_json``, which writes NaN and Infinity as bare words
    (orjson refuses them; the slower parser reads them, and they go out as null)."""
    try:
        return orjson.loads(doc)
    except orjson.JSONDecodeError:
        return json.loads(doc)


def profile_parts(
    reader: WarehouseReader, table: str, prefix: str, uscc: str
) -> dict[str, Any] | None:
    """One enterprise's row of the profile copy, its parts parsed (None when absent or
    outside the scope). Linked enterprises outside the scope are dropped here."""
    found = (
        reader.cursor()
        .execute(
            f"SELECT basics, links, classes, reasons, overrides, indicators "
            f"FROM {table}.{table} WHERE uscc = ? AND starts_with(region_code, ?)",
            [uscc, prefix],
        )
        .fetchone()
    )
    if found is None:
        return None
    basics, links, classes, reasons, overrides, indicators = found
    out: dict[str, Any] = {
        "basics": orjson.loads(basics),
        "records": records(reader, uscc, RECORDS_PER_TABLE),
        "relations": [
            {"uscc": uscc, "other_kind": k, "other": other, "role": role, "other_name": nm}
            for k, other, role, nm, region in (orjson.loads(links) if links else ())
            if k == "P" or (region or "").startswith(prefix)
        ],
        "classes": orjson.loads(classes) if classes else [],
        "reasons": reasons,
        "overrides": overrides,
        "indicators": _loads(indicators) if indicators else None,
    }
    return out


def _load_mark(reader: WarehouseReader) -> str:
    """Changes with every load of the warehouse (remembered by the reader: nothing can load
    while it holds the file open, and a load in this process closes it or calls
    :func:`invalidate_serving`)."""
    mark = reader.load_mark
    if mark is None:
        found = reader.cursor().execute("SELECT count(*), max(load_id) FROM loads").fetchone()
        mark = reader.load_mark = str(found)
    return mark


def enterprise_summary(reader: WarehouseReader) -> pa.Table:
    """``region_code, section, n``: registered enterprises by region and industry section
    (computed once per load; a few thousand rows)."""
    return reader.summary(
        "enterprises",
        _load_mark(reader),
        "SELECT coalesce(region_code, '') AS region_code, "
        "coalesce(left(industry_code, 1), '') AS section, count(*) AS n "
        "FROM enterprises GROUP BY ALL",
        [],
    )


def class_summary(reader: WarehouseReader, home: Path) -> pa.Table | None:
    """``month, region_code, section, class, n``: enterprises per class by month and by the
    region and industry section they are registered in now (as scopes are), for every month
    with classes (None before the first run).

    Computed once per set of class files (a new run of a month has new file names) and per
    load, so the dashboard's class mixes, trends and C/D shares never scan a month's
    classes again.
    """
    parts = class_parts(home)
    if not parts:
        return None
    files = [str(p) for p in parts]
    digest = hashlib.sha256(("|".join(files) + _load_mark(reader)).encode()).hexdigest()[:16]
    return reader.summary(
        "classes",
        digest,
        "SELECT c.month, coalesce(e.region_code, '') AS region_code, "
        "coalesce(left(e.industry_code, 1), '') AS section, c.class, count(*) AS n "
        "FROM read_parquet(?) c JOIN enterprises e ON e.uscc = c.uscc "
        "GROUP BY ALL ORDER BY 1",
        [files],
    )


def class_rows(reader: WarehouseReader, home: Path, usccs: Sequence[str]) -> list[dict[str, Any]]:
    """Class rows (every month) of the given enterprises, oldest month first."""
    src = _class_source(reader, home)
    if src is None or not usccs:
        return []
    if len(usccs) == 1:
        sql = f"SELECT * FROM {src} WHERE uscc = ? ORDER BY month"
        return _rows(reader.cursor(), sql, [usccs[0]])
    # the copy is sorted by uscc: the range lets the zone maps skip all but the row groups
    # that can hold them (a page of a uscc-ordered list is one narrow range)
    sql = (
        f"SELECT * FROM {src} WHERE uscc BETWEEN ? AND ? "
        "AND list_contains(?, uscc) ORDER BY uscc, month"
    )
    return _rows(reader.cursor(), sql, [min(usccs), max(usccs), list(usccs)])


def class_stats(reader: WarehouseReader, home: Path, prefix: str, by: str) -> list[dict[str, Any]]:
    """Enterprises per class by region, industry section (latest month) or month."""
    src = _class_source(reader, home)
    if src is None:
        return []
    key = {"region": "region_code", "industry": "left(industry_code, 1)", "month": "month"}[by]
    latest = "" if by == "month" else f"AND month = (SELECT max(month) FROM {src})"
    return _rows(
        reader.cursor(),
        f"SELECT {key} AS key, class, count(*) AS enterprises FROM {src} "
        f"WHERE starts_with(region_code, ?) {latest} GROUP BY ALL ORDER BY 1, 2",
        [prefix],
    )


def class_filter(reader: WarehouseReader, home: Path, cls: str) -> tuple[str, list[Any]] | None:
    """A WHERE fragment over alias e: enterprises of ``cls`` in the latest month."""
    src = _class_source(reader, home)
    if src is None:
        return None
    return (
        f"EXISTS (SELECT 1 FROM {src} c WHERE c.uscc = e.uscc AND c.class = ? "
        f"AND c.month = (SELECT max(month) FROM {src}))",
        [cls],
    )
