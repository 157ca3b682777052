"""Build the relationship graph: CSR adjacency, clusters and related-party risk.

The links come out of the warehouse through DuckDB (:mod:`riskwatch.store.graph`); the
graph work is numpy + ``scipy.sparse``, which holds 5 M enterprises and 10 M links in a few
GB where networkx would need tens.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from scipy.sparse import csgraph

from riskwatch.graph.classes import risky_classes
from riskwatch.settings import Settings
from riskwatch.store import graph as store

HUB_DEGREE = 50
"""Persons or addresses linked to more enterprises than this do not join clusters or carry
risk: an agent registering hundreds of firms, a business centre, would otherwise merge
unrelated enterprises into one giant group."""

WEIGHT = {"person": 0.5, "investment": 0.8}
"""Chance that a linked enterprise's risk passes over one link (noisy-OR), by link kind."""


@dataclass(frozen=True)
class BuildResult:
    """Counts and timings of a build."""

    as_of: dt.date
    enterprises: int
    persons: int
    addresses: int
    links: int
    clusters: int
    seconds: float
    classes_used: bool

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON-able values."""
        out = dict(self.__dict__)
        out["as_of"] = self.as_of.isoformat()
        return out


def to_csr(n: int, src: npt.NDArray[np.int32], dst: npt.NDArray[np.int32]) -> dict[str, Any]:
    """Undirected CSR (both directions) with, per entry, the row of the edge behind it."""
    s = np.concatenate([src, dst])
    d = np.concatenate([dst, src])
    e = np.concatenate([np.arange(len(src), dtype=np.int64)] * 2)
    order = np.lexsort((d, s))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(s, minlength=n), out=indptr[1:])
    return {"indptr": indptr, "nbr": d[order].astype(np.int32), "edge": e[order]}


def _incidence(
    n_ent: int, n: int, src: npt.NDArray[np.int32], dst: npt.NDArray[np.int32], keep: Any
) -> sparse.csr_matrix:
    m = int(keep.sum())
    return sparse.csr_matrix(
        (np.ones(m, dtype=np.float32), (src[keep], dst[keep])), shape=(n_ent, n)
    )


def build(settings: Settings, as_of: dt.date) -> BuildResult:
    """Build and store the graph at ``as_of`` (replacing the previous build).

    Parameters
    ----------
    settings
        Where the warehouse and the graph live.
    as_of
        Enterprises established and links known by this date.

    Returns
    -------
    BuildResult
        Counts of nodes, links and clusters, and the time taken.
    """
    t0 = time.perf_counter()
    nodes, edges = store.extract_links(settings, as_of)
    # Blocks: 0 registered enterprises (node ids 0…n_ent-1), 1 persons, 2 outside
    # investors (enterprises not registered here), 3 addresses.
    block = nodes.column("block").to_numpy()
    n = len(block)
    is_ent = (block == 0) | (block == 2)
    n_ent = int(np.count_nonzero(block == 0))
    src = edges.column("src").to_numpy().astype(np.int32)
    dst = edges.column("dst").to_numpy().astype(np.int32)
    role = edges.column("role").to_numpy()
    csr = to_csr(n, src, dst)
    degree = np.diff(csr["indptr"])
    hub = degree > HUB_DEGREE
    keep = ~hub[dst] | is_ent[dst]
    # Clusters: components of the enterprise–person–address graph without hubs.
    adj = sparse.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.int8), (src[keep], dst[keep])), shape=(n, n)
    )
    _, labels = csgraph.connected_components(adj, directed=False)
    ent_labels = labels[:n_ent]
    sizes = np.bincount(ent_labels)
    multi = sizes[ent_labels] > 1
    keys = nodes.column("key").slice(0, n_ent)
    clusters = pa.table(
        {
            "uscc": keys.filter(pa.array(multi)),
            "cluster_id": pa.array(ent_labels[multi].astype(np.int64)),
            "cluster_size": pa.array(sizes[ent_labels[multi]].astype(np.int64)),
        }
    )
    store.write_graph(
        settings,
        nodes,
        edges,
        csr,
        {"as_of": as_of.isoformat(), "nodes": n, "enterprises": n_ent, "links": len(src)},
    )
    store.write_table(settings, "clusters", clusters)
    classes_used = _related_risk(settings, as_of, nodes, n_ent, src, dst, role, hub)
    return BuildResult(
        as_of=as_of,
        enterprises=n_ent,
        persons=int(np.count_nonzero(block == 1)),
        addresses=int(np.count_nonzero(block == 3)),
        links=len(src),
        clusters=int(np.count_nonzero(np.bincount(ent_labels[multi]) > 0)) if multi.any() else 0,
        seconds=round(time.perf_counter() - t0, 2),
        classes_used=classes_used,
    )


def _related_risk(
    settings: Settings,
    as_of: dt.date,
    nodes: pa.Table,
    n_ent: int,
    src: npt.NDArray[np.int32],
    dst: npt.NDArray[np.int32],
    role: npt.NDArray[Any],
    hub: npt.NDArray[np.bool_],
) -> bool:
    """Noisy-OR related-party risk over enterprises sharing a person or an investment.

    score_i = 1 − Π_j (1 − w_link · seed_j) over the enterprises j linked to i, where
    seed_j is 1 for D-class or listed (严重违法/失信) enterprises, 0.5 for C-class or the
    abnormal list. Hub persons are left out (see :data:`HUB_DEGREE`).
    """
    n = len(nodes)
    keys = nodes.column("key").slice(0, n_ent)
    seed = np.zeros(n_ent, dtype=np.float64)
    seeds = store.risk_seeds(settings, as_of)
    classes = risky_classes(settings, as_of)
    tables = [seeds] if classes is None else [seeds, classes]
    for t in tables:
        idx = pc.index_in(t.column("uscc"), value_set=keys).to_numpy(zero_copy_only=False)
        ok = ~np.isnan(idx.astype(np.float64))
        pos = idx[ok].astype(np.int64)
        seed[pos] = np.maximum(seed[pos], t.column("seed").to_numpy()[ok])
    person = (role != store.ROLE_CODES.index("投资")) & (role != store.ROLE_CODES.index("同址"))
    keep_p = person & ~hub[dst]
    b = _incidence(n_ent, n, src, dst, keep_p)
    shared = (b @ b.T).tocsr()
    shared.setdiag(0)
    shared.eliminate_zeros()
    shared.data[:] = 1.0
    inv = role == store.ROLE_CODES.index("投资")
    inv &= dst < n_ent
    direct = sparse.csr_matrix(
        (np.ones(int(inv.sum())), (src[inv], dst[inv])), shape=(n_ent, n_ent)
    )
    direct = ((direct + direct.T) > 0).astype(np.float64)
    log_p = np.log1p(-WEIGHT["person"] * seed)  # weights < 1: never log(0)
    log_i = np.log1p(-WEIGHT["investment"] * seed)
    score = 1.0 - np.exp(shared @ log_p + direct @ log_i)
    linked = ((shared + direct) > 0).astype(np.float64)
    risky = (seed >= 1.0).astype(np.float64)
    table = pa.table(
        {
            "uscc": keys,
            "as_of": pa.array([as_of] * n_ent, pa.date32()),
            "related_risk_score": pa.array(np.round(score, 4)),
            "related_risky_count": pa.array((linked @ risky).astype(np.int64)),
            "related_count": pa.array(np.asarray(linked.sum(axis=1)).ravel().astype(np.int64)),
        }
    )
    store.write_related_risk(settings, table, f"{as_of.year:04d}-{as_of.month:02d}")
    return classes is not None
