"""Run the indicator catalogue: one as-of date or a range of month ends, on DuckDB or Spark."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from riskwatch import __version__
from riskwatch.errors import InputError, NotFoundError
from riskwatch.indicators import published as pub
from riskwatch.indicators.catalogue import Catalogue, load_catalogue
from riskwatch.indicators.compile import build_batch, build_peers
from riskwatch.indicators.quality import ColumnStats, month_stats, report_of
from riskwatch.store import snapshots
from riskwatch.store.engines import IbisSession, duckdb_session, parquet_session

Progress = Callable[[str, int, int], None]
"""A progress callback: (step description, done, total)."""


def month_end(year: int, month: int) -> dt.date:
    """The last day of a month."""
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def parse_month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` → (year, month) (:class:`InputError` if malformed)."""
    try:
        d = dt.datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise InputError(f"{text!r} is not a month like 2025-06") from None
    return d.year, d.month


def month_ends(start: str, end: str) -> list[dt.date]:
    """Every month end from month ``start`` to month ``end`` (``YYYY-MM``), inclusive."""
    (y0, m0), (y1, m1) = parse_month(start), parse_month(end)
    if (y1, m1) < (y0, m0):
        raise InputError(f"--to {end} is before --from {start}")
    out: list[dt.date] = []
    y, m = y0, m0
    while (y, m) <= (y1, m1):
        out.append(month_end(y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def run_id_for(catalogue: Catalogue, as_of: Sequence[dt.date], data: str = "") -> str:
    """Hash of catalogue content, data window (as-of dates, data fingerprint), code version."""
    blob = "|".join(
        [
            catalogue.fingerprint(),
            as_of[0].isoformat(),
            as_of[-1].isoformat(),
            str(len(as_of)),
            data,
            __version__,
        ]
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def compute(
    session: IbisSession | Any,
    *,
    as_of: dt.date | Sequence[dt.date],
    catalogue: Catalogue | None = None,
    published_home: Path | None = None,
) -> pa.Table:
    """Compute indicator rows in memory (no files written).

    Parameters
    ----------
    session
        An :class:`~riskwatch.store.engines.IbisSession`, or an open DuckDB warehouse
        connection (``store.warehouse.connect``).
    as_of
        One as-of date or several (sorted, distinct).
    catalogue
        The catalogue; ``None`` loads ``config/indicators.yaml``.
    published_home
        A ``$RISKWATCH_HOME`` whose published classes and graph feed the indicators that read
        them (:mod:`riskwatch.indicators.published`); ``None``: those are missing.

    Returns
    -------
    pyarrow.Table
        One row per enterprise alive at each as-of date, sorted by (as_of, uscc).
    """
    cat = catalogue or load_catalogue()
    dates = [as_of] if isinstance(as_of, dt.date) else list(as_of)
    with _session(session) as s:
        side = pub.tables(s.backend, pub.find(published_home, cat, dates))
        expr = build_batch(cat, s.tables, dates, cache=s.cache, published=side)
        table = s.to_pyarrow(expr)
    return table.sort_by([("as_of", "ascending"), ("uscc", "ascending")])


GRID_ROWS_PER_PASS = 6_000_000
_BUCKET_PLACEHOLDER = 918_273_645_546_372_819


def _gather(stage: Path) -> None:
    """Move every pass's ``batch=…/month=M/*.parquet`` into ``stage/month=M/``."""
    for batch in sorted(stage.glob("batch=*")):
        for part in batch.glob("month=*"):
            target = stage / part.name
            target.mkdir(exist_ok=True)
            for f in sorted(part.glob("*.parquet")):
                f.replace(target / f"{batch.name.split('=', 1)[1]}-{f.name}")
        shutil.rmtree(batch)


@contextmanager
def _session(session: IbisSession | Any) -> Iterator[IbisSession]:
    if isinstance(session, IbisSession):
        yield session
    else:
        with duckdb_session(session) as s:
            yield s


@dataclass
class RunResult:
    """What a run wrote."""

    run_id: str
    engine: str
    catalogue_version: str
    months: list[str]
    rows: dict[str, int]
    seconds: float
    drifting: dict[str, list[str]] = field(default_factory=dict)
    manifest: str = ""


def run(
    home: Path,
    as_of: Sequence[dt.date],
    *,
    engine: Literal["duckdb", "spark"] = "duckdb",
    catalogue: Catalogue | None = None,
    parquet_input: Path | None = None,
    months_per_batch: int = 12,
    grid_rows_per_pass: int = GRID_ROWS_PER_PASS,
    threads: int = 0,
    memory_limit: str = "",
    progress: Progress | None = None,
) -> RunResult:
    """Compute and store snapshots for the given as-of dates (one per month).

    Parameters
    ----------
    home
        ``$RISKWATCH_HOME``: the warehouse is read from ``home/warehouse.duckdb`` and the
        snapshots written under ``home/indicators/``.
    as_of
        Sorted as-of dates, at most one per month (month ends for monthly runs).
    engine
        ``duckdb`` (default) or ``spark``.
    catalogue
        The catalogue; ``None`` loads ``config/indicators.yaml``.
    parquet_input
        Read one Parquet file/folder per table from here instead of the warehouse.
    months_per_batch
        As-of dates computed in one pass over the records (memory grows with it).
    grid_rows_per_pass
        DuckDB: the enterprises are split into buckets so that one pass holds about this
        many (enterprise × month) rows; memory grows with it, and past what fits, spilling
        costs far more than the extra passes.
    threads, memory_limit
        DuckDB settings (0 / empty: DuckDB defaults).
    progress
        Called as (step, done, total).

    Returns
    -------
    RunResult
        The run id, rows per month, drifting indicators per month.
    """
    started = time.perf_counter()
    cat = catalogue or load_catalogue()
    dates = sorted(set(as_of))
    months = [d.strftime("%Y-%m") for d in dates]
    if len(set(months)) != len(months):
        raise InputError("at most one as-of date per month")
    note = progress or (lambda step, done, total: None)
    read = pub.find(home, cat, dates)  # the published classes/graph months the run reads
    read_desc = pub.describe(read)
    with _open(home, engine, parquet_input, threads, memory_limit) as session:
        rid = run_id_for(cat, dates, f"{session.data_fingerprint}|{read_desc}")
        stage = snapshots.staging_dir(home, rid)
        shutil.rmtree(stage, ignore_errors=True)  # what an interrupted run of it left
        batches = [dates[i : i + months_per_batch] for i in range(0, len(dates), months_per_batch)]
        registered = int(session.tables["enterprises"].count().execute())
        for i, batch in enumerate(batches):
            note(f"indicators {batch[0]:%Y-%m}…{batch[-1]:%Y-%m}", i, len(batches))
            grid_rows = registered * len(batch)  # an upper bound of the enterprise-months
            n = 1 if engine == "spark" else -(-grid_rows // max(grid_rows_per_pass, 1))
            side = pub.tables(session.backend, pub.find(home, cat, batch))
            peers = build_peers(cat, session.tables, batch, cache=session.cache, published=side)
            if n <= 1:
                expr = build_batch(
                    cat, session.tables, batch, cache=session.cache, peers=peers, published=side
                )
                session.write_partitioned(expr, stage / f"batch={i}-0", "month")
            else:
                # one expression and one compilation for all buckets: the bucket number is a
                # placeholder literal in the SQL (building and compiling take seconds)
                expr = build_batch(
                    cat, session.tables, batch, cache=session.cache, peers=peers,
                    bucket=(_BUCKET_PLACEHOLDER, n), published=side,
                )  # fmt: skip
                sql = session.compile(expr)
                if str(_BUCKET_PLACEHOLDER) not in sql:
                    raise RuntimeError("bucket placeholder missing from the compiled SQL")
                for b in range(n):
                    session.write_sql_partitioned(
                        sql.replace(str(_BUCKET_PLACEHOLDER), str(b)),
                        stage / f"batch={i}-{b}",
                        "month",
                    )
            session.release()
        _gather(stage)
        rows = snapshots.publish(home, rid)
        note("indicators", len(batches), len(batches))
    result = RunResult(rid, engine, cat.config_version, months, rows, 0.0)
    _write_reports(home, cat, result, note)
    result.seconds = round(time.perf_counter() - started, 3)
    manifest = {
        **asdict(result),
        "catalogue_fingerprint": cat.fingerprint(),
        "code_version": __version__,
        "as_of": [d.isoformat() for d in dates],
        "published_read": read_desc,
        "indicators": [i.id for i in cat.outputs()],
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path = snapshots.run_manifest_path(home, rid)
    snapshots.write_json(path, manifest)
    for k, (month, day) in enumerate(zip(months, dates, strict=True)):
        own = pub.describe([p for p in read if p.index == k])
        snapshots.write_month_json(
            home,
            month,
            "manifest",
            {
                **manifest,
                "as_of": day.isoformat(),
                "rows": rows.get(month, 0),
                "published_read": own,
            },
        )
    result.manifest = str(path)
    return result


def _write_reports(home: Path, cat: Catalogue, result: RunResult, note: Progress) -> None:
    ids = [i.id for i in cat.outputs()]
    previous: dict[str, ColumnStats] | None = None
    previous_month: str | None = None
    for k, month in enumerate(result.months):
        note("quality", k, len(result.months))
        if previous is None:
            prev_table = _previous_snapshot(home, month, ids)
            if prev_table is not None:
                previous = month_stats(prev_table, ids)
                previous_month = _month_before(month)
        # each month's figures are computed once and serve as the next month's "previous"
        table = snapshots.load_snapshot(home, month, columns=ids)
        current = month_stats(table, ids, previous)
        report = report_of(current, table.num_rows, month=month, previous_month=previous_month)
        del table
        report["run_id"] = result.run_id
        snapshots.write_month_json(home, month, "quality", report)
        result.drifting[month] = report["drifting"]
        previous, previous_month = current, month


def _month_before(month: str) -> str:
    y, m = parse_month(month)
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


def _previous_snapshot(home: Path, month: str, ids: list[str]) -> pa.Table | None:
    try:
        return snapshots.load_snapshot(home, _month_before(month), columns=ids)
    except NotFoundError:
        return None


@contextmanager
def _open(
    home: Path, engine: str, parquet_input: Path | None, threads: int, memory_limit: str
) -> Iterator[IbisSession]:
    if engine == "spark":
        from riskwatch.store.spark import spark_parquet_session

        root = parquet_input
        if root is None:
            from riskwatch.store.engines import export_parquet
            from riskwatch.store.warehouse import open_warehouse

            root = home / "exports" / "warehouse"
            with open_warehouse(home / "warehouse.duckdb", read_only=True) as con:
                export_parquet(con, root)
        with spark_parquet_session(root) as s:
            yield s
    elif parquet_input is not None:
        with parquet_session(
            parquet_input, threads=threads, memory_limit=memory_limit, temp_dir=home / "tmp"
        ) as s:
            yield s
    else:
        with duckdb_session(
            home / "warehouse.duckdb", threads=threads, memory_limit=memory_limit
        ) as s:
            yield s
