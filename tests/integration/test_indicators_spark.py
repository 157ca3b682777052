"""One definition, two engines: the same cases on DuckDB and PySpark give identical rows."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from riskwatch.indicators import compute, load_catalogue
from riskwatch.store.engines import export_parquet
from riskwatch.store.warehouse import open_warehouse
from tests.integration.test_indicators_cases import build_warehouse, write_published

pytestmark = [
    pytest.mark.spark,
    # ibis 12 still calls DuckDB 2.0's deprecated Arrow fetchers and pandas 3's deprecated
    # future.infer_string option; PySpark's own deprecations are not ours to fix either.
    pytest.mark.filterwarnings(r"ignore:fetch_\w+\(\) is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings(r"ignore:The 'future.infer_string' option is deprecated"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark"),
    pytest.mark.filterwarnings("ignore::FutureWarning:pyspark"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

pyspark = pytest.importorskip("pyspark")

DATES = [dt.date(2025, 2, 28), dt.date(2025, 3, 31), dt.date(2025, 4, 30)]
CAT = load_catalogue()


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spark")
    wh = build_warehouse(root / "warehouse.duckdb")
    with open_warehouse(wh, read_only=True) as con:
        export_parquet(con, root / "parquet")
    write_published(root / "home")  # classes and graph of February and March
    return root


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from riskwatch.store.spark import spark_session

    session = spark_session("local[1]", shuffle_partitions=2)
    yield session
    session.stop()


def _normalise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        out.append({k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()})
    return out


def test_duckdb_and_spark_agree(parquet_dir: Path, spark: Any) -> None:
    from riskwatch.store.spark import spark_parquet_session

    with open_warehouse(parquet_dir / "warehouse.duckdb", read_only=True) as con:
        expected = compute(con, as_of=DATES, catalogue=CAT, published_home=parquet_dir / "home")
    with spark_parquet_session(parquet_dir / "parquet", spark) as session:
        actual = compute(session, as_of=DATES, catalogue=CAT, published_home=parquet_dir / "home")
    assert actual.schema.names == expected.schema.names
    assert actual.num_rows == expected.num_rows > 0
    published = [r["legal_rep_cd_share"] for r in expected.to_pylist()]
    assert any(v is not None for v in published) and None in published  # both cases compared
    assert _normalise(actual.to_pylist()) == _normalise(expected.to_pylist())
