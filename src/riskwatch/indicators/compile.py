"""Compile the catalogue into one backend-neutral Ibis expression per batch of as-of dates.

The same expression runs on DuckDB and on PySpark. Stages:

1. sources: warehouse tables with dates as day numbers (:mod:`.sources`);
2. event deltas per source, joined onto the (enterprise × as-of) grid and turned into
   running sums/maxima over the as-of index (:mod:`.atoms`);
3. enterprises alive at each as-of keep their row; attribute, peer (:mod:`.peers`) and
   derived indicators are computed from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from riskwatch.indicators import published as pub
from riskwatch.indicators.atoms import IDX, Atom, all_atoms, atoms_for, deltas
from riskwatch.indicators.catalogue import Catalogue, Indicator
from riskwatch.indicators.peers import flag_name, peer_columns, peer_value, round4
from riskwatch.indicators.sources import conditions, prepare_sources
from riskwatch.indicators.templates import (
    ATTRIBUTE_TEMPLATES,
    EVENT_TEMPLATES,
    PEER_TEMPLATES,
    PUBLISHED_TEMPLATES,
)

KEY_COLUMNS = ("uscc", "as_of", "month", "region_code", "industry_code")
"""Columns every snapshot row starts with, before the indicators."""

_EPOCH = dt.date(1970, 1, 1)
Cache = Callable[[ir.Table], ir.Table]


def day_of(d: dt.date) -> int:
    """A date as days since 1970-01-01."""
    return (d - _EPOCH).days


def _grid(as_of: Sequence[dt.date]) -> ir.Table:
    return ibis.memtable(
        pa.table(
            {
                IDX: pa.array(range(len(as_of)), pa.int64()),
                "_g": pa.array([day_of(d) for d in as_of], pa.int64()),
                "as_of": pa.array(list(as_of), pa.date32()),
                "month": pa.array([d.strftime("%Y-%m") for d in as_of], pa.string()),
            }
        )
    )


def in_bucket(uscc: ir.StringValue, bucket: tuple[int, int]) -> ir.BooleanValue:
    """Whether an enterprise falls in bucket ``(b, n)`` of ``n`` (by the engine's hash)."""
    b, n = bucket
    return ((uscc.hash() % n) + n) % n == b  # Spark's hash is signed


def _running(
    catalogue: Catalogue,
    src: Mapping[str, ir.Table],
    as_of: Sequence[dt.date],
    atoms: Mapping[str, Sequence[Atom]],
    bucket: tuple[int, int] | None = None,
) -> ir.Table:
    """Enterprises alive at each as-of (of one bucket, if given) with the running value of
    every atom."""
    days = [day_of(d) for d in as_of]
    if bucket is not None and bucket[1] > 1:
        src = {
            name: t.filter(in_bucket(t.uscc, bucket)) if name in atoms or name == "enterprises"
            else t
            for name, t in src.items()
        }  # fmt: skip
    ent = src["enterprises"]
    live = ent.filter(
        (ent.established_on <= max(days))
        & (ent.deregistered_on.isnull() | (ent.deregistered_on > min(days)))
    )
    grid = live.cross_join(_grid(as_of))
    sums: list[str] = []
    for source in sorted(atoms):
        alist = atoms[source]
        d = deltas(src[source], alist, days, catalogue.penalty_publicity_default_days)
        if len(as_of) > 1:
            d = _running_sums(d, alist, len(as_of))
        j = grid.left_join(d, ["uscc", IDX])
        grid = j.select(*[grid[c] for c in grid.columns], *[d[a.name] for a in alist])
        sums += [a.name for a in alist if a.agg == "sum"]
    if sums:
        grid = grid.mutate(**{c: grid[c].fill_null(0) for c in sums})
    return grid.filter(
        (grid.established_on <= grid._g)
        & (grid.deregistered_on.isnull() | (grid.deregistered_on > grid._g))
    )


def _running_sums(d: ir.Table, atoms: Sequence[Atom], n: int) -> ir.Table:
    """Running sums (maxima) of sparse deltas at every index of the batch.

    A cumulative window over each enterprise's sparse delta rows gives the value from that
    row's index until the next row's; each row is then spread over the indices it covers by
    a range join with the ``n`` indices. No aggregation over copies, and the dense
    (enterprise × as-of) grid is never windowed.
    """
    w = ibis.window(group_by="uscc", order_by=IDX, preceding=None, following=0)
    nxt = d[IDX].lead().over(ibis.window(group_by="uscc", order_by=IDX))
    cum = d.select(
        "uscc",
        IDX,
        _next=nxt.fill_null(n),
        **{a.name: (d[a.name].sum() if a.agg == "sum" else d[a.name].max()).over(w) for a in atoms},
    )
    ks = ibis.memtable(pa.table({"_k": pa.array(range(n), pa.int64())}))
    j = cum.join(ks, (cum[IDX] <= ks._k) & (ks._k < cum._next))
    return j.select("uscc", **{IDX: j._k}, **{a.name: j[a.name] for a in atoms})


def _event_value(ind: Indicator, t: ir.Table) -> ir.Value:
    base = f"a__{ind.id}"
    tp = ind.template
    if tp == "count":
        return t[base].cast("int64")
    if tp == "exists":
        return (t[base] > 0).cast("int64")
    if tp == "sum":
        return t[base].cast("int64") if ind.scale == 1 else t[base] / float(ind.scale)
    if tp == "distinct":
        parts = [(t[f"{base}__{i}"] > 0).cast("int64") for i in range(len(ind.values))]
        return sum(parts[1:], parts[0])
    if tp == "max_level":
        expr: ir.Value = ibis.literal(0, "int64")
        for lvl in sorted(ind.levels):
            expr = ibis.ifelse(t[f"{base}__{lvl}"] > 0, ibis.literal(lvl, "int64"), expr)
        return expr
    if tp == "days_since_last":
        return (t._g - t[base]).cast("int64")
    # last_flag: the running maximum of known_day * 2 + flag
    return (t[base] % 2).cast("int64")


def _attribute_value(ind: Indicator, t: ir.Table) -> ir.Value:
    if ind.template == "age_years":
        assert ind.known_on is not None
        return ((t._g - t[ind.known_on]) * 4 // 1461).cast("int64")
    if ind.template == "attribute":
        assert ind.value is not None
        return t[ind.value].cast("float64")
    return conditions(t, ind.where).cast("int64")


def _derived_value(ind: Indicator, cols: Mapping[str, ir.Value], catalogue: Catalogue) -> ir.Value:
    if ind.template == "ratio":
        a, b = (cols[r] for r in ind.of)
        return ibis.ifelse(b > 0, round4(a / b), ibis.null("float64"))
    if ind.template == "growth":
        a, b = (cols[r] for r in ind.of)
        wa, wb = (catalogue.get(r).window_days or 1 for r in ind.of)
        num = (a + 1) * (wb - wa)
        den = (b - a) * wa + (wb - wa)
        return round4(num / den)
    flags = [(cols[r] > 0).cast("int64") for r in ind.of]  # consecutive
    total: ir.Value = flags[0]
    run = flags[0]
    for f in flags[1:]:
        run = run * f
        total = total + run
    return total


def _flags(
    catalogue: Catalogue,
    src: Mapping[str, ir.Table],
    as_of: Sequence[dt.date],
    refs: list[str],
    published: Mapping[str, ir.Table],
) -> ir.Table | None:
    """The peer flags from a grid of only the atoms they need (``None`` if a flag is neither
    an event nor a published indicator): the flags are materialised apart from the main
    query, and the full grid with every atom would be computed twice."""
    inds = [catalogue.get(r) for r in refs]
    if any(i.template not in EVENT_TEMPLATES | PUBLISHED_TEMPLATES for i in inds):
        return None
    atoms: dict[str, list[Atom]] = {}
    for ind in inds:
        assert ind.source is not None
        if ind.template in EVENT_TEMPLATES:
            atoms.setdefault(ind.source, []).extend(atoms_for(ind))
    g = _running(catalogue, src, as_of, atoms)
    g = pub.join(g, [i for i in inds if i.template in PUBLISHED_TEMPLATES], published)
    return g.select(
        "uscc",
        IDX,
        "_g",
        **{
            flag_name(i.id): (
                (g[i.id] if i.template in PUBLISHED_TEMPLATES else _event_value(i, g)) > 0
            ).cast("int64")
            for i in inds
        },
    )


def build_peers(
    catalogue: Catalogue,
    tables: Mapping[str, ir.Table],
    as_of: Sequence[dt.date],
    *,
    cache: Cache | None = None,
    published: Mapping[str, ir.Table] | None = None,
) -> list[ir.Table]:
    """The related-party columns of a batch of as-of dates, for every enterprise.

    Per link (address, legal representative, shareholder): ``uscc, _idx, _p_<link>,
    _b_<link>_<flag>…``. Materialised with ``cache`` when given, so that the passes over
    the buckets of enterprises (:func:`build_batch`) read them instead of recomputing.
    ``published`` holds the published results the batch reads (:mod:`.published`).
    """
    inds = catalogue.enabled()
    peers = [i for i in inds if i.template in PEER_TEMPLATES]
    if not peers:
        return []
    src = prepare_sources(catalogue, tables, [day_of(d) for d in as_of])
    refs = sorted({r for i in peers for r in i.of})
    published = published or {}
    flags = _flags(catalogue, src, as_of, refs, published)
    if flags is None:
        atoms = all_atoms(catalogue)
        g = _running(catalogue, src, as_of, atoms)
        g = g.mutate(**_event_columns(catalogue, g))
        g = pub.join(g, _published_inds(catalogue), published)
        flags = g.select(
            "uscc", IDX, "_g", **{flag_name(r): (g[r] > 0).cast("int64") for r in refs}
        )
    if cache is not None:
        flags = cache(flags)
    nullable = frozenset(r for r in refs if catalogue.get(r).template in PUBLISHED_TEMPLATES)
    out = []
    for pc in peer_columns(peers, flags, src, nullable):
        out.append(cache(pc) if cache is not None else pc)
    return out


def _published_inds(catalogue: Catalogue) -> list[Indicator]:
    return [i for i in catalogue.enabled() if i.template in PUBLISHED_TEMPLATES]


def _event_columns(catalogue: Catalogue, t: ir.Table) -> dict[str, ir.Value]:
    cols: dict[str, ir.Value] = {}
    for ind in catalogue.enabled():
        if ind.template in EVENT_TEMPLATES:
            cols[ind.id] = _event_value(ind, t)
        elif ind.template in ATTRIBUTE_TEMPLATES:
            cols[ind.id] = _attribute_value(ind, t)
    return cols


def build_batch(
    catalogue: Catalogue,
    tables: Mapping[str, ir.Table],
    as_of: Sequence[dt.date],
    *,
    cache: Cache | None = None,
    peers: Sequence[ir.Table] | None = None,
    bucket: tuple[int, int] | None = None,
    published: Mapping[str, ir.Table] | None = None,
) -> ir.Table:
    """The snapshot rows of a batch of as-of dates as one Ibis expression.

    Parameters
    ----------
    catalogue
        The validated catalogue.
    tables
        Warehouse tables by contract name, all on the same Ibis backend.
    as_of
        Sorted, distinct as-of dates (month ends for monthly runs).
    cache
        Materialises an intermediate table (``Table.cache`` on the backend); used for the
        related-party columns, which are read several times.
    peers
        The related-party columns from :func:`build_peers` for these dates (computed here
        when not given).
    bucket
        ``(b, n)``: only the enterprises of bucket ``b`` of ``n`` (by hash of the uscc).
        A pass over one bucket holds a fraction of the (enterprise × month) grid; the union
        of the ``n`` passes is the whole batch.
    published
        The published results (classes, graph) the batch reads, from
        :func:`riskwatch.indicators.published.tables`; a source not given is missing.

    Returns
    -------
    ibis.expr.types.Table
        ``uscc, as_of, month, region_code, industry_code`` and one column per output
        indicator, one row per enterprise alive at each as-of date.
    """
    if list(as_of) != sorted(set(as_of)):
        raise ValueError("as-of dates must be sorted and distinct")
    days = [day_of(d) for d in as_of]
    src = prepare_sources(catalogue, tables, days)
    inds = catalogue.enabled()
    atoms = all_atoms(catalogue)
    t = _running(catalogue, src, as_of, atoms, bucket)
    t = t.mutate(**_event_columns(catalogue, t))
    published = published or {}
    pub_inds = _published_inds(catalogue)
    if pub_inds:
        only = partial(in_bucket, bucket=bucket) if bucket is not None and bucket[1] > 1 else None
        t = pub.join(t, pub_inds, published, only)
    peer_inds = [i for i in inds if i.template in PEER_TEMPLATES]
    if peer_inds:
        pcs = (
            list(peers)
            if peers is not None
            else build_peers(catalogue, tables, as_of, cache=cache, published=published)
        )
        for pc in pcs:
            j = t.left_join(pc, ["uscc", IDX])
            t = j.select(
                *[t[c] for c in t.columns], *[pc[c] for c in pc.columns if c not in ("uscc", IDX)]
            )
        t = t.mutate(**{ind.id: peer_value(ind, t) for ind in peer_inds})
    for ind in inds:
        if ind.id not in t.columns:
            known = {i.id: t[i.id] for i in inds if i.id in t.columns}
            t = t.mutate(**{ind.id: _derived_value(ind, known, catalogue)})
    outs = catalogue.outputs()
    return t.select(*KEY_COLUMNS, **{i.id: t[i.id].cast(i.dtype) for i in outs})
