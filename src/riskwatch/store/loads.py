"""Apply one validated file to the warehouse atomically, and keep the load bookkeeping.

A file is staged inside a transaction, deduplicated by key (the later line wins; the
earlier is quarantined, not dropped), compared with the warehouse by row hash, and merged:
new keys are inserted, changed keys are replaced (their old version goes to
``<table>__history``), identical rows are left alone. Commit or nothing.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from riskwatch.errors import StoreError
from riskwatch.ingest.contract import TABLES, Table, warehouse_columns

QUARANTINE_SCHEMA = pa.schema(
    [
        ("line", pa.int64()),
        ("column_name", pa.string()),
        ("value", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("row_json", pa.string()),
    ]
)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class MergeCounts:
    """What a merge did."""

    loaded: int
    unchanged: int
    duplicates: int


class FileTransaction:
    """Stage, merge and quarantine one file inside one warehouse transaction.

    Parameters
    ----------
    con
        An open warehouse connection (no transaction in progress).
    table
        The contract table the file belongs to.
    load_id, file_path
        Lineage written on every row.
    later_files
        Files of the same table applied after this one in the same load (a folder with
        ``enterprises.csv`` and ``enterprises-update.csv``): rows one of them stored stay as
        they are, so re-running a folder never reverts an update and then re-applies it.
    """

    STAGE = "_stage"

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        table: Table,
        load_id: str,
        file_path: str,
        later_files: Sequence[str] = (),
    ) -> None:
        self.con = con
        self.table = table
        self.load_id = load_id
        self.file_path = file_path
        self.later_files = list(later_files)
        self.file_name = Path(file_path).name
        self._cols = [c for c, _ in warehouse_columns(table)]
        self._content = [c.name for c in table.columns] + ["_extra"]
        self._open = False

    def __enter__(self) -> FileTransaction:
        self.con.execute("BEGIN TRANSACTION")
        self._open = True
        cols = ", ".join(f"{_q(c)} {t}" for c, t in warehouse_columns(self.table))
        # In memory (spilling to the temp directory when large): staged rows are written
        # to the database file once, by the merge, not twice.
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {self.STAGE} ({cols})")
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self._open:
            self.rollback()

    def rollback(self) -> None:
        if self._open:
            self.con.execute("ROLLBACK")
            self._open = False

    def stage(self, batch: pa.Table) -> None:
        """Append typed rows (contract + derived columns, ``_source_line``, ``_flags``,
        ``_extra``) to the stage, adding lineage and the content hash."""
        if batch.num_rows == 0:
            return
        present = set(batch.column_names)
        exprs: list[str] = []
        for col in self._cols:
            if col == "_load_id":
                exprs.append("$load_id")
            elif col == "_source_file":
                exprs.append("$file")
            elif col == "_row_hash":
                exprs.append(row_hash_sql(self.table, "b"))
            elif col in present:
                exprs.append(f"b.{_q(col)}")
            else:
                exprs.append("NULL")
        # Read through DuckDB's replacement scan of the local variable, not register(): a
        # registered Arrow table stays referenced until the transaction ends, so a big file
        # would hold every batch it staged in memory at once (measured: 60 MB per batch).
        _batch = batch  # read by name in the SQL below
        self.con.execute(
            f"INSERT INTO {self.STAGE} SELECT {', '.join(exprs)} FROM _batch b",
            {"load_id": self.load_id, "file": self.file_path},
        )

    def quarantine(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store rejected rows (dicts with the keys of :data:`QUARANTINE_SCHEMA`)."""
        if not rows:
            return
        _rejects = pa.Table.from_pylist(list(rows), schema=QUARANTINE_SCHEMA)  # see stage()
        self.con.execute(
            "INSERT INTO quarantine SELECT $load_id, $table, $file, line, column_name, "
            "value, reason, detail, row_json, NULL FROM _rejects",
            {"load_id": self.load_id, "table": self.table.name, "file": self.file_name},
        )

    def supersede_quarantine(self) -> None:
        """Earlier rejects of a file of this name are superseded by this version of it."""
        self.con.execute(
            "UPDATE quarantine SET superseded_by = $load_id WHERE table_name = $table "
            "AND file_name = $file AND superseded_by IS NULL AND load_id <> $load_id",
            {"load_id": self.load_id, "table": self.table.name, "file": self.file_name},
        )

    def merge(self) -> MergeCounts:
        """Deduplicate the stage by key, then insert new rows and replace changed ones."""
        con, target = self.con, _q(self.table.name)
        key = ", ".join(_q(k) for k in self.table.key)
        on = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in self.table.key)
        duplicates = self._dedupe(key, on)
        kept = self._keep_later_files(target, on)
        if _is_empty(con, self.table.name):
            row = con.execute(f"SELECT count(*), 0, 0 FROM {self.STAGE}").fetchone()
        else:
            row = con.execute(
                f"SELECT count(*) FILTER (WHERE t._row_hash IS NULL), "
                f"count(*) FILTER (WHERE t._row_hash = s._row_hash), "
                f"count(*) FILTER (WHERE t._row_hash <> s._row_hash) "
                f"FROM {self.STAGE} s LEFT JOIN {target} t ON {on}"
            ).fetchone()
        assert row is not None
        new, unchanged, changed = (int(x) for x in row)
        if changed:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _changed AS SELECT s.{key.replace(', ', ', s.')} "
                f"FROM {self.STAGE} s JOIN {target} t ON {on} WHERE t._row_hash <> s._row_hash"
            )
            cols = ", ".join(f"t.{_q(c)}" for c in self._cols)
            con.execute(
                f'INSERT INTO "{self.table.name}__history" SELECT {cols}, $load_id '
                f"FROM {target} t SEMI JOIN _changed s ON {on}",
                {"load_id": self.load_id},
            )
            con.execute(f"DELETE FROM {target} t USING _changed s WHERE {on}")
            con.execute("DROP TABLE _changed")
        if new or changed:
            cols = ", ".join(_q(c) for c in self._cols)
            if unchanged:
                con.execute(
                    f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {self.STAGE} s "
                    f"ANTI JOIN {target} t ON {on}"
                )
            else:  # every staged key is new or was just deleted: no anti-join needed
                con.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {self.STAGE}")
        return MergeCounts(loaded=new + changed, unchanged=unchanged + kept, duplicates=duplicates)

    def _keep_later_files(self, target: str, on: str) -> int:
        """Drop staged rows whose stored row comes from a file applied later in this load."""
        if not self.later_files:
            return 0
        row = self.con.execute(
            f"DELETE FROM {self.STAGE} s USING {target} t "
            f"WHERE {on} AND t._source_file IN (SELECT unnest($files))",
            {"files": self.later_files},
        ).fetchone()
        return int(row[0]) if row else 0

    def _dedupe(self, key: str, on: str) -> int:
        con = self.con
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _dups AS SELECT {key}, max(_source_line) AS keep_line "
            f"FROM {self.STAGE} GROUP BY ALL HAVING count(*) > 1"
        )
        row = con.execute("SELECT count(*) FROM _dups").fetchone()
        if row is None or row[0] == 0:
            con.execute("DROP TABLE _dups")
            return 0
        key_json = ", ".join(f"'{k}', s.{_q(k)}" for k in self.table.key)
        key_names = ", ".join(self.table.key)
        con.execute(
            f"INSERT INTO quarantine SELECT $load_id, $table, $file, s._source_line, "
            f"'{key_names}', NULL, 'duplicate_key', "
            f"'the same key appears again on line ' || t.keep_line || ', which replaces this row',"
            f" CAST(json_object({key_json}) AS VARCHAR), NULL "
            f"FROM {self.STAGE} s JOIN _dups t ON {on} WHERE s._source_line < t.keep_line",
            {"load_id": self.load_id, "table": self.table.name, "file": self.file_name},
        )
        row = con.execute(
            f"SELECT count(*) FROM {self.STAGE} s JOIN _dups t ON {on} "
            f"WHERE s._source_line < t.keep_line"
        ).fetchone()
        con.execute(
            f"DELETE FROM {self.STAGE} s USING _dups t WHERE {on} AND s._source_line < t.keep_line"
        )
        con.execute("DROP TABLE _dups")
        return int(row[0]) if row else 0

    def commit(self) -> None:
        self.con.execute(f"DROP TABLE {self.STAGE}")
        self.con.execute("COMMIT")
        self._open = False


def row_hash_sql(table: Table, alias: str) -> str:
    """SQL for the content hash of a row: contract columns and unknown extra columns.

    DuckDB's 64-bit ``hash()`` is four times cheaper than md5 over a text rendering; its
    values may change between DuckDB versions, so :func:`rehash_if_engine_changed`
    recomputes stored hashes once after an upgrade.
    """
    cols = [c.name for c in table.columns] + ["_extra"]
    return "hash(" + ", ".join(f"{alias}.{_q(c)}" for c in cols) + ")"


def rehash_if_engine_changed(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every stored row hash when the DuckDB version differs from the last run."""
    version = duckdb.__version__
    row = con.execute("SELECT value FROM meta WHERE key = 'row_hash_engine'").fetchone()
    if row is not None and row[0] == version:
        return
    if row is not None:
        for table in TABLES.values():
            con.execute(f"UPDATE {_q(table.name)} t SET _row_hash = {row_hash_sql(table, 't')}")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('row_hash_engine', ?)", [version])


def _is_empty(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute(f"SELECT 1 FROM {_q(table)} LIMIT 1").fetchone() is None


# --- bookkeeping ---------------------------------------------------------------------------


def record_load(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    started_at: datetime,
    finished_at: datetime | None,
    source_dir: str,
    status: str,
    report_json: str | None,
) -> None:
    """Insert or update the row of a load."""
    con.execute(
        "INSERT OR REPLACE INTO loads VALUES (?, ?, ?, ?, ?, ?)",
        [load_id, started_at, finished_at, source_dir, status, report_json],
    )


def record_file(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    """Insert the row of one file of a load."""
    cols = [
        "load_id",
        "table_name",
        "path",
        "file_name",
        "sha256",
        "fingerprint",
        "status",
        "error",
        "rows_read",
        "rows_loaded",
        "rows_unchanged",
        "rows_quarantined",
        "applied_at",
    ]
    con.execute(
        f"INSERT INTO load_files VALUES ({', '.join('?' for _ in cols)})",
        [values.get(c) for c in cols],
    )


def applied_before(con: duckdb.DuckDBPyConnection, fingerprint: str) -> dict[str, Any] | None:
    """The earlier successful application of an identical file, if any."""
    row = con.execute(
        "SELECT load_id, rows_read, rows_loaded, rows_unchanged, rows_quarantined "
        "FROM load_files WHERE fingerprint = ? AND status = 'applied' "
        "ORDER BY applied_at LIMIT 1",
        [fingerprint],
    ).fetchone()
    if row is None:
        return None
    keys = ("load_id", "rows_read", "rows_loaded", "rows_unchanged", "rows_quarantined")
    return dict(zip(keys, row, strict=True))


def reject_file(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    table: str,
    file_name: str,
    reason: str,
    detail: str,
    line: int | None = None,
) -> None:
    """Quarantine a whole file that could not be read (the file itself stays on disk)."""
    con.execute(
        "INSERT INTO quarantine VALUES (?, ?, ?, ?, NULL, NULL, ?, ?, NULL, NULL)",
        [load_id, table, file_name, line, reason, detail],
    )


def match_names(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Fill the uscc of records that name an enterprise without its code.

    Exact match on the normalised name (:func:`riskwatch.ingest.normalize.normalize_name`);
    a name shared by two enterprises is ``ambiguous``, an unknown one ``unmatched``; both
    are kept and can match a later load of enterprises.
    """
    t = _q(table)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _names AS SELECT name_norm, min(uscc) AS uscc, "
            "count(*) AS n FROM enterprises WHERE name_norm IS NOT NULL GROUP BY name_norm"
        )
        con.execute(
            f"UPDATE {t} SET uscc = _names.uscc, uscc_source = 'name' FROM _names "
            f"WHERE {t}.uscc IS NULL AND {t}.enterprise_name_norm = _names.name_norm "
            f"AND _names.n = 1"
        )
        con.execute(
            f"UPDATE {t} SET uscc_source = CASE WHEN EXISTS (SELECT 1 FROM _names "
            f"WHERE _names.name_norm = {t}.enterprise_name_norm) THEN 'ambiguous' "
            f"ELSE 'unmatched' END WHERE uscc IS NULL"
        )
        con.execute("DROP TABLE _names")
        con.execute("COMMIT")
    except duckdb.Error:
        con.execute("ROLLBACK")
        raise


def load_warnings(con: duckdb.DuckDBPyConnection, table: str, load_id: str) -> dict[str, int]:
    """Kept-but-noted counts among the rows this load wrote to ``table``."""
    t = _q(table)
    out: dict[str, int] = {}
    cols = {c.name for c in TABLES[table].columns}
    if "uscc" in cols and table != "enterprises":
        row = con.execute(
            f"SELECT count(*) FROM {t} r WHERE r._load_id = ? AND r.uscc IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM enterprises e WHERE e.uscc = r.uscc)",
            [load_id],
        ).fetchone()
        if row and row[0]:
            out["unknown_enterprise"] = int(row[0])
    if table in ("complaints", "opinions"):
        for source, n in con.execute(
            f"SELECT uscc_source, count(*) FROM {t} WHERE _load_id = ? "
            f"AND uscc_source IN ('name', 'unmatched', 'ambiguous') GROUP BY 1",
            [load_id],
        ).fetchall():
            key = "matched_by_name" if source == "name" else f"{source}_name"
            out[key] = int(n)
    row = con.execute(
        f"SELECT count(*) FROM {t} WHERE _load_id = ? AND list_contains(_flags, 'uscc_check')",
        [load_id],
    ).fetchone()
    if row and row[0]:
        out["uscc_check_flagged"] = int(row[0])
    return out


# --- the deployment secret -------------------------------------------------------------------


def load_or_create_secret(path: Path) -> bytes:
    """Read the deployment secret, creating it (32 random bytes, mode 0600) on first use.

    Raises
    ------
    StoreError
        When the file is readable by group or others, or is malformed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise StoreError(
            f"{path} is readable by others (mode {mode:o}): run 'chmod 600 {path}' — "
            "whoever reads it can link pseudonyms back to ID numbers"
        )
    text = path.read_text().strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise StoreError(f"{path} is not a hex secret") from None
    if len(secret) < 32:
        raise StoreError(f"{path} holds fewer than 32 bytes")
    return secret


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 4 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(4 << 20):
            digest.update(block)
    return digest.hexdigest()


def quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    table: str | None = None,
    load_id: str | None = None,
    reason: str | None = None,
    include_superseded: bool = False,
    limit: int | None = None,
) -> pa.Table:
    """Quarantined rows, newest load first, filtered as asked."""
    where = ["TRUE"]
    params: list[Any] = []
    if table:
        where.append("table_name = ?")
        params.append(table)
    if load_id:
        where.append("load_id = ?")
        params.append(load_id)
    if reason:
        where.append("reason = ?")
        params.append(reason)
    if not include_superseded:
        where.append("superseded_by IS NULL")
    sql = (
        "SELECT load_id, table_name, file_name, line, column_name, value, reason, detail, "
        f"row_json, superseded_by FROM quarantine WHERE {' AND '.join(where)} "
        "ORDER BY load_id DESC, table_name, file_name, line"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return con.sql(sql, params=params).to_arrow_table()
