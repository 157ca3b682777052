"""riskwatch's own monthly results as point-in-time sources of the catalogue.

Two results feed indicators back: the A/B/C/D classes (``riskwatch run``) and the graph's
related-party risk (``riskwatch graph build``). An as-of date in month *M* reads the result
published for month *M − 1*: the classes of *M* are computed from the indicators of *M*, and
the graph of *M* from the classes of *M*, so anything later would be circular and would not
have been known when the month's indicators were due. A month without a published result
gives missing values (``missing: "null"`` is required of these indicators).

Each as-of date of a batch becomes one Parquet scan (a file or a glob) with the batch index
as a literal column, so the same Ibis expression runs on DuckDB and Spark.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from riskwatch.indicators.atoms import IDX
from riskwatch.indicators.catalogue import Catalogue, Indicator
from riskwatch.indicators.sources import conditions
from riskwatch.indicators.templates import PUBLISHED_SOURCES, PUBLISHED_TEMPLATES
from riskwatch.store.snapshots import read_json


@dataclass(frozen=True)
class PublishedMonth:
    """One published result read for one as-of date of a batch."""

    source: str
    index: int
    """The as-of date's index in its batch."""
    month: str
    """The month read (the month before the as-of date's month)."""
    path: str
    """A Parquet file or glob."""
    identity: str
    """What identifies the result (the class run id; the graph build's date and size)."""


def month_before(day: dt.date) -> str:
    """``YYYY-MM`` of the month before ``day``'s month."""
    return f"{day.year - 1:04d}-12" if day.month == 1 else f"{day.year:04d}-{day.month - 1:02d}"


def sources_used(catalogue: Catalogue) -> list[str]:
    """The published sources the enabled indicators read, sorted."""
    return sorted(
        {
            i.source
            for i in catalogue.enabled()
            if i.template in PUBLISHED_TEMPLATES and i.source is not None
        }
    )


def locate(home: Path, source: str, month: str) -> tuple[str, str] | None:
    """``(path, identity)`` of a source's result for a month, or ``None`` if not published."""
    if source == "classes":
        folder = home / "classes" / f"month={month}"
        if not any(folder.glob("part-*.parquet")):
            return None
        run = folder / "_run.json"
        run_id = str(read_json(run).get("run_id", "")) if run.exists() else ""
        return str(folder / "part-*.parquet"), f"classes:{month}:{run_id}"
    if source == "related_risk":
        path = home / "graph" / "related_risk" / f"month={month}.parquet"
        if not path.exists():
            return None
        st = path.stat()
        return str(path), f"graph:{month}:{st.st_size}:{st.st_mtime_ns}"
    raise KeyError(source)


def find(home: Path | None, catalogue: Catalogue, as_of: Sequence[dt.date]) -> list[PublishedMonth]:
    """The published results a batch of as-of dates reads (none without ``home``)."""
    if home is None:
        return []
    out = []
    for source in sources_used(catalogue):
        for i, day in enumerate(as_of):
            month = month_before(day)
            hit = locate(home, source, month)
            if hit is not None:
                out.append(PublishedMonth(source, i, month, hit[0], hit[1]))
    return out


def describe(found: Sequence[PublishedMonth]) -> dict[str, list[str]]:
    """Per source, what was read (for run ids and manifests)."""
    out: dict[str, list[str]] = {}
    for p in found:
        out.setdefault(p.source, []).append(p.identity)
    return {k: sorted(v) for k, v in sorted(out.items())}


def tables(backend: Any, found: Sequence[PublishedMonth]) -> dict[str, ir.Table]:
    """Per source: ``uscc, _idx`` and its columns, over the batch (one scan per month read).

    ``backend`` is the session's Ibis backend (DuckDB or PySpark); each scan is registered
    as a view, read when the batch runs.
    """
    out: dict[str, ir.Table] = {}
    for source in sorted({p.source for p in found}):
        cols = [c for c in PUBLISHED_SOURCES[source] if c != "uscc"]
        parts = []
        for p in (p for p in found if p.source == source):
            name = f"_rw_pub_{source}_{p.index}_{uuid.uuid4().hex[:8]}"
            t = backend.read_parquet(p.path, table_name=name)
            parts.append(
                t.select(
                    t.uscc.cast("string"),
                    ibis.literal(p.index, "int64").name(IDX),
                    *[_typed(t, c, source) for c in cols],
                )
            )
        out[source] = parts[0] if len(parts) == 1 else ibis.union(*parts)
    return out


def _typed(t: ir.Table, column: str, source: str) -> ir.Value:
    kind = PUBLISHED_SOURCES[source][column].value
    if column not in t.columns:
        raise KeyError(f"published {source} has no column {column!r}")
    dtype = {"integer": "int64", "ratio": "float64"}.get(kind, "string")
    return t[column].cast(dtype).name(column)


def value(ind: Indicator, p: ir.Table) -> ir.Value:
    """The indicator's value on a row of its published source."""
    if ind.template == "previous_month":
        assert ind.value is not None
        return p[ind.value].cast("float64")
    return conditions(p, ind.where).cast("int64")


def join(
    t: ir.Table,
    inds: Sequence[Indicator],
    published: Mapping[str, ir.Table],
    bucket_filter: Any = None,
) -> ir.Table:
    """``t`` (``uscc, _idx, …``) with one column per published indicator, missing where the
    month was not published or the enterprise is not in it."""
    for source in sorted({i.source for i in inds if i.source is not None}):
        mine = [i for i in inds if i.source == source]
        p = published.get(source)
        if p is None:
            t = t.mutate(**{i.id: ibis.null(i.dtype) for i in mine})
            continue
        if bucket_filter is not None:
            p = p.filter(bucket_filter(p.uscc))
        vals = p.select("uscc", IDX, **{i.id: value(i, p) for i in mine})
        j = t.left_join(vals, ["uscc", IDX])
        t = j.select(*[t[c] for c in t.columns], *[vals[i.id] for i in mine])
    return t
