"""The DuckDB warehouse: the only place that opens it.

Layout (one DuckDB file, ``$RISKWATCH_HOME/warehouse.duckdb``):

- one table per contract table (``enterprises``, ``penalties`` …) with the contract columns,
  the derived columns and the lineage columns (``_load_id``, ``_source_file`` …);
- ``<table>__history``: earlier versions of rows a later load replaced (nothing is lost);
- ``loads``, ``load_files``: one row per load and per file, with status and counts;
- ``quarantine``: every rejected row with file, line, column, value and reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import duckdb

from riskwatch.errors import StoreError
from riskwatch.ingest.contract import TABLES, warehouse_columns
from riskwatch.store.locks import WarehouseGate

SCHEMA_VERSION = 1

_META_DDL = (
    """CREATE TABLE IF NOT EXISTS loads (
        load_id VARCHAR PRIMARY KEY,
        started_at TIMESTAMP,
        finished_at TIMESTAMP,
        source_dir VARCHAR,
        status VARCHAR,
        report VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS load_files (
        load_id VARCHAR,
        table_name VARCHAR,
        path VARCHAR,
        file_name VARCHAR,
        sha256 VARCHAR,
        fingerprint VARCHAR,
        status VARCHAR,
        error VARCHAR,
        rows_read BIGINT,
        rows_loaded BIGINT,
        rows_unchanged BIGINT,
        rows_quarantined BIGINT,
        applied_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        load_id VARCHAR,
        table_name VARCHAR,
        file_name VARCHAR,
        line BIGINT,
        column_name VARCHAR,
        value VARCHAR,
        reason VARCHAR,
        detail VARCHAR,
        row_json VARCHAR,
        superseded_by VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
)


def _table_ddl(name: str, suffix: str = "", extra: str = "") -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in warehouse_columns(TABLES[name]))
    return f'CREATE TABLE IF NOT EXISTS "{name}{suffix}" ({cols}{extra})'


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every warehouse table that does not exist yet (idempotent)."""
    for ddl in _META_DDL:
        con.execute(ddl)
    for name in TABLES:
        con.execute(_table_ddl(name))
        con.execute(_table_ddl(name, "__history", ", _superseded_by VARCHAR"))
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def connect(
    path: Path,
    *,
    read_only: bool = False,
    threads: int = 0,
    memory_limit: str = "",
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file (creating it and its schema unless ``read_only``).

    Parameters
    ----------
    path
        The DuckDB file.
    read_only
        Open without write access (several readers may share the file).
    threads
        Engine threads; 0 keeps DuckDB's default (all cores).
    memory_limit
        DuckDB ``memory_limit`` such as ``"8GB"``; empty keeps the default.
    """
    if read_only and not path.exists():
        raise StoreError(f"no warehouse at {path}: run 'riskwatch ingest DIR' first")
    path.parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {}
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.Error as exc:  # locked by another process, corrupt file …
        raise StoreError(f"cannot open warehouse {path}: {exc}") from exc
    tmp = path.parent / "tmp"
    con.execute(f"SET temp_directory = '{_sql_str(str(tmp))}'")
    con.execute("SET preserve_insertion_order = false")
    if not read_only:
        ensure_schema(con)
    return con


@contextmanager
def open_warehouse(
    path: Path, *, read_only: bool = False, threads: int = 0, memory_limit: str = ""
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Context manager around :func:`connect` that always closes the connection.

    For writing, it first asks the processes that keep the warehouse open (the service's
    workers) to let go, and waits up to ``WRITE_WAIT_SECONDS`` for them
    (:class:`~riskwatch.store.locks.WarehouseGate`); they open it again afterwards. For
    reading, it waits (up to ``READ_WAIT_SECONDS``) for a load that is running or announced,
    and a load that comes meanwhile waits for it: DuckDB would refuse either side instead.
    """
    gate: AbstractContextManager[None]
    if not read_only:
        gate = WarehouseGate(path.parent).writing(WRITE_WAIT_SECONDS)
    elif path.exists():
        gate = read_hold(path)
    else:
        gate = nullcontext()  # connect says there is no warehouse yet
    with gate:
        con = connect(path, read_only=read_only, threads=threads, memory_limit=memory_limit)
        try:
            yield con
        finally:
            con.close()


WRITE_WAIT_SECONDS = 120.0
"""How long a load waits for the service's workers to release the warehouse."""

READ_WAIT_SECONDS = 900.0
"""How long a read-only job waits for a running load (a load of 1 M enterprises: ~5 min)."""


def read_hold(path: Path) -> AbstractContextManager[None]:
    """The shared hold a read-only job keeps on the warehouse at ``path`` while it reads
    (for readers that open it themselves rather than through :func:`open_warehouse`)."""
    return WarehouseGate(path.parent).reading(READ_WAIT_SECONDS)


def _sql_str(value: str) -> str:
    """Quote a string for a DuckDB SET statement (which takes no parameters)."""
    return value.replace("'", "''")


def default_threads() -> int:
    """The number of cores available to this process."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
