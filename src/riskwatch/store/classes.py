"""Monthly classes on disk, and batch scoring inside Spark.

Layout under ``$RISKWATCH_HOME/classes/``::

    month=2025-06/part-<run_id>[-NNNNN].parquet   one row per enterprise (CLASS_SCHEMA)
    month=2025-06/_run.json                         the run that wrote the month

A month is replaced as a whole by a new run. ``reasons`` and ``overrides`` are stored as JSON
text (the same bytes from every engine) and decoded to lists by :func:`load_classes`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from riskwatch.errors import NotFoundError
from riskwatch.settings import Settings
from riskwatch.store.snapshots import month_dir as snapshot_month_dir
from riskwatch.store.snapshots import read_json, write_json

CLASSES_DIR = "classes"
_JSON_COLUMNS = ("reasons", "overrides")


def classes_root(home: Path) -> Path:
    """The folder holding every month's classes."""
    return home / CLASSES_DIR


def month_dir(home: Path, month: str) -> Path:
    """The folder of one month."""
    return classes_root(home) / f"month={month}"


def list_class_months(home: Path) -> list[str]:
    """Months with classes, sorted."""
    root = classes_root(home)
    if not root.exists():
        return []
    return sorted(
        p.name.split("=", 1)[1] for p in root.glob("month=*") if any(p.glob("part-*.parquet"))
    )


def _publish(
    home: Path, month: str, staged: Sequence[Path], run_id: str, info: dict[str, Any]
) -> Path:
    target = month_dir(home, month)
    target.mkdir(parents=True, exist_ok=True)
    final = []
    for i, f in enumerate(staged):
        dest = target / f"part-{run_id}-{i:05d}.parquet"
        f.replace(dest)
        final.append(dest)
    for old in target.glob("part-*.parquet"):
        if old not in final:
            old.unlink()
    write_json(target / "_run.json", info)
    os.utime(classes_root(home))  # tells readers of class_parts that classes changed
    return target


_PARTS: dict[Path, tuple[int, list[Path]]] = {}


def class_parts(home: Path) -> list[Path]:
    """Every month's class files, sorted (remembered until classes are written again: each
    write touches the classes folder, so a service notices a run without globbing every
    month's folder per request)."""
    root = classes_root(home)
    try:
        stamp = root.stat().st_mtime_ns
    except FileNotFoundError:
        return []
    hit = _PARTS.get(root)
    if hit is not None and hit[0] == stamp:
        return list(hit[1])
    parts = sorted(root.glob("month=*/part-*.parquet"))
    _PARTS[root] = (stamp, parts)
    return list(parts)


def write_classes(
    home: Path, month: str, table: pa.Table, run_id: str, info: dict[str, Any] | None = None
) -> Path:
    """Store a month's classes (replacing the month), with the run's description."""
    stage = classes_root(home) / "_staging" / run_id
    stage.mkdir(parents=True, exist_ok=True)
    tmp = stage / "part.parquet"
    pq.write_table(table, tmp, compression="zstd")
    out = _publish(home, month, [tmp], run_id, {"run_id": run_id, "month": month, **(info or {})})
    shutil.rmtree(stage, ignore_errors=True)
    return out


def read_run(home: Path, month: str) -> dict[str, Any]:
    """The description of the run that wrote a month's classes."""
    path = month_dir(home, month) / "_run.json"
    if not path.exists():
        raise NotFoundError(f"no classes for {month}")
    data: dict[str, Any] = read_json(path)
    return data


def read_classes_raw(home: Path, month: str, columns: Sequence[str] | None = None) -> pa.Table:
    """A month's class rows as stored (JSON text columns not decoded)."""
    parts = sorted(month_dir(home, month).glob("part-*.parquet"))
    if not parts:
        raise NotFoundError(f"no classes for {month}: run 'riskwatch run --as-of …' first")
    cols = list(columns) if columns is not None else None
    return pa.concat_tables(pq.read_table(p, columns=cols) for p in parts)


def _decode(table: pa.Table) -> pa.Table:
    reason = pa.struct(
        [
            ("code", pa.string()),
            ("text_zh", pa.string()),
            ("text_en", pa.string()),
            ("contribution", pa.float64()),
        ]
    )
    types = {"reasons": pa.list_(reason), "overrides": pa.list_(pa.string())}
    for name in _JSON_COLUMNS:
        if name in table.column_names:
            values = [json.loads(v) if v else [] for v in table.column(name).to_pylist()]
            i = table.column_names.index(name)
            table = table.set_column(i, name, pa.array(values, types[name]))
    return table


def load_classes(
    settings: Settings,
    month: str,
    columns: Sequence[str] | None = None,
    uscc: Sequence[str] | None = None,
) -> pa.Table:
    """A month's classes: ``uscc, month, as_of, region_code, industry_code, class, score,
    probability, model_version, reasons, overrides, run_id``.

    ``reasons`` is a list of ``{code, text_zh, text_en, contribution}`` (highest first; an
    override rule comes first with a null contribution); ``overrides`` lists the fired rules.

    Parameters
    ----------
    settings
        Deployment settings (``home``).
    month
        ``YYYY-MM``.
    columns
        Only these columns (decoding reasons costs time on millions of rows).
    uscc
        Only these enterprises.

    Raises
    ------
    NotFoundError
        If the month has no classes.
    """
    table = read_classes_raw(settings.home, month, columns)
    if uscc is not None:
        table = table.filter(pc.is_in(table.column("uscc"), value_set=pa.array(list(uscc))))
    return _decode(table)


def class_history(settings: Settings, uscc: str) -> list[dict[str, Any]]:
    """An enterprise's class, score and reasons in every month that has classes, oldest first."""
    out = []
    for month in list_class_months(settings.home):
        t = load_classes(settings, month, uscc=[uscc])
        out.extend(t.to_pylist())
    return out


# --- batch inference inside Spark ---------------------------------------------------------

SPARK_SCHEMA = (
    "uscc string, month string, as_of date, region_code string, industry_code string, "
    "class string, score bigint, probability double, model_version string, reasons string, "
    "overrides string, run_id string"
)


def spark_score(
    home: Path,
    month: str,
    score: Callable[[pd.DataFrame], pd.DataFrame],
    run_id: str,
    info: dict[str, Any],
    previous: str | None = None,
    spark: Any | None = None,
) -> int:
    """Score a month's snapshot inside Spark (``mapInPandas``) and store the classes.

    The snapshot is read by the executors, scored batch by batch with ``score`` (a pure
    function of pandas rows, shipped to the executors), and written by them: no enterprise
    row is collected on the driver. Returns the number of rows written.
    """
    from pyspark.sql import functions as F

    from riskwatch.store.spark import spark_session

    # Local workers must run this interpreter (the one with riskwatch installed); a cluster
    # sets PYSPARK_PYTHON itself.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = spark or spark_session()
    snap = spark.read.parquet(str(snapshot_month_dir(home, month) / "part-*.parquet"))
    snap = snap.withColumn("month", F.lit(month))
    if previous is not None and month_dir(home, previous).exists():
        prev = spark.read.parquet(str(month_dir(home, previous) / "part-*.parquet"))
        prev = prev.select("uscc", F.col("class").alias("previous_class"))
        snap = snap.join(prev, "uscc", "left")

    def batches(it: Any) -> Any:
        for pdf in it:
            yield score(pdf)

    scored = snap.mapInPandas(batches, SPARK_SCHEMA)
    stage = classes_root(home) / "_staging" / f"{run_id}-spark"
    scored.write.mode("overwrite").option("compression", "zstd").parquet(str(stage))
    files = sorted(stage.glob("part-*.parquet"))
    rows = int(sum(pq.ParquetFile(f).metadata.num_rows for f in files))
    _publish(home, month, files, run_id, {"run_id": run_id, "month": month, **info})
    shutil.rmtree(stage, ignore_errors=True)
    return rows
