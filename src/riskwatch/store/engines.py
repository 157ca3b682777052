"""Ibis sessions over the warehouse: DuckDB (default), Parquet files, or PySpark.

The indicator compiler only sees Ibis tables; this module is where a backend is opened.

- ``duckdb``: the warehouse file itself, read-only (``store.warehouse.connect``).
- ``parquet``: an in-memory DuckDB over Parquet files, ``<dir>/<table>.parquet`` or
  ``<dir>/<table>/*.parquet`` (large inputs, the 5 M-enterprise benchmark).
- ``spark``: PySpark (``store.spark``) reading the warehouse tables exported to Parquet
  under ``$RISKWATCH_HOME/exports/warehouse/`` (exported again on every run).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from riskwatch.errors import StoreError
from riskwatch.ingest.contract import TABLES
from riskwatch.store.warehouse import open_warehouse

Engine = Literal["duckdb", "spark"]


@dataclass
class IbisSession:
    """Warehouse tables on one Ibis backend, plus how to cache, fetch and write results."""

    engine: str
    backend: Any
    tables: dict[str, ir.Table]
    data_fingerprint: str = ""
    con: Any = None
    """The raw DuckDB connection (DuckDB sessions) or the SparkSession (Spark sessions)."""
    _cached: list[str] = field(default_factory=list)

    def cache(self, t: ir.Table) -> ir.Table:
        """Materialise an intermediate result (temp table on DuckDB, persisted on Spark)."""
        name = f"_rw_cache_{len(self._cached)}_{uuid.uuid4().hex[:8]}"
        sql = self._sql(t)
        if self.engine == "spark":
            df = self.con.sql(sql).persist()
            df.createOrReplaceTempView(name)
        else:
            self.con.execute(f'CREATE TEMP TABLE "{name}" AS {sql}').fetchall()
        self._cached.append(name)
        return self.backend.table(name)

    def release(self) -> None:
        """Drop every cached intermediate."""
        for name in self._cached:
            if self.engine == "spark":
                self.con.catalog.dropTempView(name)
            else:
                self.con.execute(f'DROP TABLE IF EXISTS "{name}"').fetchall()
        self._cached.clear()

    def to_pyarrow(self, expr: ir.Table) -> pa.Table:
        """The whole result of an expression as an Arrow table."""
        if self.engine == "spark":
            return self.backend.to_pyarrow(expr)
        return self.con.sql(self._sql(expr)).to_arrow_table()

    def _sql(self, expr: ir.Table) -> str:
        # registers the in-memory tables (as-of grid, years) the SQL refers to
        self.backend._run_pre_execute_hooks(expr)
        return str(self.backend.compile(expr))

    def write_partitioned(self, expr: ir.Table, out: Path, partition: str) -> None:
        """Write the result as hive-partitioned Parquet under ``out`` (``partition=value/``)."""
        out.mkdir(parents=True, exist_ok=True)
        if self.engine == "spark":
            reader = self.backend.to_pyarrow_batches(expr, chunk_size=250_000)
            for i, batch in enumerate(reader):
                table = pa.Table.from_batches([batch])
                for value in pc.unique(table.column(partition)).to_pylist():
                    part = table.filter(pc.equal(table.column(partition), value))
                    d = out / f"{partition}={value}"
                    d.mkdir(parents=True, exist_ok=True)
                    pq.write_table(
                        part.drop_columns([partition]), d / f"data_{i}.parquet", compression="zstd"
                    )
            return
        self.write_sql_partitioned(self._sql(expr), out, partition)

    def compile(self, expr: ir.Table) -> str:
        """The SQL of an expression on this (DuckDB) session."""
        return self._sql(expr)

    def write_sql_partitioned(self, sql: str, out: Path, partition: str) -> None:
        """DuckDB: write the result of compiled SQL as hive-partitioned Parquet."""
        out.mkdir(parents=True, exist_ok=True)
        target = str(out).replace("'", "''")
        self.con.execute(
            f"COPY ({sql}) TO '{target}' "
            f"(FORMAT parquet, PARTITION_BY ({partition}), COMPRESSION zstd, "
            f"COMPRESSION_LEVEL 1, OVERWRITE_OR_IGNORE)"
        ).fetchall()


def _contract_tables(backend: Any, names: Sequence[str]) -> dict[str, ir.Table]:
    return {n: backend.table(n) for n in names}


def _fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    try:
        rows = con.execute(
            "SELECT count(*), max(load_id) FROM loads WHERE status <> 'failed'"
        ).fetchall()
    except duckdb.Error:
        return ""
    return f"{rows[0][0]}:{rows[0][1]}" if rows else ""


@contextmanager
def duckdb_session(
    con_or_path: duckdb.DuckDBPyConnection | Path, *, threads: int = 0, memory_limit: str = ""
) -> Iterator[IbisSession]:
    """An Ibis session over a warehouse file (opened read-only, after a running load) or an
    open connection."""
    with ExitStack() as stack:
        if isinstance(con_or_path, Path):
            con = stack.enter_context(
                open_warehouse(
                    con_or_path, read_only=True, threads=threads, memory_limit=memory_limit
                )
            )
        else:
            con = con_or_path
        backend = ibis.duckdb.from_connection(con)
        session = IbisSession(
            "duckdb", backend, _contract_tables(backend, list(TABLES)), _fingerprint(con), con
        )
        yield session
        session.release()


@contextmanager
def parquet_session(
    root: Path, *, threads: int = 0, memory_limit: str = "", temp_dir: Path | None = None
) -> Iterator[IbisSession]:
    """An Ibis session (in-memory DuckDB) over one Parquet file or folder per table."""
    config: dict[str, Any] = {}
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    con = duckdb.connect(":memory:", config=config)
    try:
        if temp_dir is not None:
            con.execute(
                f"SET temp_directory = '{str(temp_dir).replace(chr(39), chr(39) * 2)}'"
            ).fetchall()
        con.execute("SET preserve_insertion_order = false").fetchall()
        for name in TABLES:
            path = parquet_path(root, name)
            con.execute(
                f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{path}')"
            ).fetchall()
        backend = ibis.duckdb.from_connection(con)
        session = IbisSession(
            "duckdb", backend, _contract_tables(backend, list(TABLES)), str(root), con
        )
        yield session
        session.release()
    finally:
        con.close()


def parquet_path(root: Path, table: str) -> str:
    """The Parquet glob of one table under ``root`` (a file or a folder of parts)."""
    single = root / f"{table}.parquet"
    if single.exists():
        return str(single)
    folder = root / table
    if folder.is_dir():
        return str(folder / "*.parquet")
    raise StoreError(f"no Parquet file for table {table!r} under {root}")


def export_parquet(con: duckdb.DuckDBPyConnection, out: Path, tables: Sequence[str] = ()) -> Path:
    """Export warehouse tables to ``out/<table>.parquet`` (for Spark); returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for name in tables or list(TABLES):
        target = str(out / f"{name}.parquet").replace("'", "''")
        con.execute(f"COPY \"{name}\" TO '{target}' (FORMAT parquet)").fetchall()
    return out
