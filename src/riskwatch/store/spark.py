"""PySpark for the indicator engine (optional extra: ``pip install riskwatch[spark]``).

The master comes from ``RISKWATCH_SPARK_MASTER`` (default ``local[2]``); a cluster is
reached with the usual URL (``spark://host:7077``, ``yarn`` …). The Spark engine reads the
warehouse tables exported to Parquet (``store.engines.export_parquet``) or any Parquet input
laid out one file or folder per table.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis

from riskwatch.errors import StoreError
from riskwatch.ingest.contract import TABLES
from riskwatch.store.engines import IbisSession, parquet_path


def spark_session(master: str | None = None, *, shuffle_partitions: int = 4) -> Any:
    """A (shared) SparkSession: quiet logs, small shuffles, UTC, no UI."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - depends on the optional extra
        raise StoreError(
            "the Spark engine needs the extra: pip install 'riskwatch[spark]'"
        ) from None
    master = master or os.environ.get("RISKWATCH_SPARK_MASTER", "local[2]")
    spark = (
        SparkSession.builder.master(master)
        .appName("riskwatch-indicators")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("RISKWATCH_SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def spark_parquet_session(root: Path, spark: Any | None = None) -> Iterator[IbisSession]:
    """An Ibis session on PySpark over one Parquet file or folder per contract table."""
    spark = spark or spark_session()
    backend = ibis.pyspark.connect(spark)
    tables = {}
    for name in TABLES:
        path = parquet_path(root, name)
        tables[name] = backend.read_parquet(path.replace("*.parquet", ""), table_name=f"rw_{name}")
    session = IbisSession("spark", backend, tables, str(root), spark)
    try:
        yield session
    finally:
        session.release()
