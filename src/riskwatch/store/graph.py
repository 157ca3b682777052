"""Storage of the relationship graph (族谱关系): link extraction in DuckDB, files on disk.

Layout under ``$RISKWATCH_HOME/graph/``::

    nodes.parquet          node_id, kind (E enterprise · P person · A address), key, label,
                           block (0 registered enterprises, 1 persons, 2 outside investors,
                           3 addresses; sorted by block then key, so lookups bisect)
    edges.parquet          src, dst, kind, role, share, since (one row per link, one way)
    csr_indptr.npy         CSR of the undirected graph (both directions), memory-mapped
    csr_nbr.npy            neighbour node ids
    csr_edge.npy           row of edges.parquet behind each CSR entry (roles, shares, dates)
    clusters.parquet       uscc, cluster_id, cluster_size (enterprises joined by persons/address)
    related_risk.parquet   uscc, as_of, related_risk_score, related_risky_count, related_count
    related_risk/month=YYYY-MM.parquet   the same, kept per month for point-in-time use
    manifest.json          as_of, counts, parameters

Persons are the HMAC pseudonyms the warehouse holds; raw ID numbers never reach the graph.
The indicator catalogue reads the related-party score through :func:`load_related_risk`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from riskwatch.errors import NotFoundError
from riskwatch.graph.address import FULLWIDTH, HALFWIDTH, STEPS
from riskwatch.settings import Settings
from riskwatch.store.warehouse import open_warehouse

GRAPH_DIR = "graph"

ROLE_CODES: tuple[str, ...] = (
    "法定代表人",
    "执行董事",
    "董事",
    "监事",
    "经理",
    "财务负责人",
    "股东",
    "投资",
    "同址",
)
"""Edge roles; their position is the code stored in the CSR side arrays."""


def graph_dir(settings: Settings) -> Path:
    """The folder holding the built graph."""
    return settings.home / GRAPH_DIR


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def address_key_sql(address: str = "address", region: str = "region_code") -> str:
    """A DuckDB expression computing :func:`riskwatch.graph.address.normalize_address`."""
    expr = f"translate({address}, {_lit(FULLWIDTH)}, {_lit(HALFWIDTH)})"
    for pattern, repl in STEPS:
        expr = f"regexp_replace({expr}, {_lit(pattern)}, {_lit(repl)}, 'g')"
    key = f"coalesce({region}, '') || '|' || {expr}"
    return f"CASE WHEN nullif({expr}, '') IS NULL THEN NULL ELSE {key} END"


def _links_sql(as_of: dt.date) -> str:
    # Persons linked to enterprises by registration, office or shareholding, each role once.
    d = f"DATE '{as_of.isoformat()}'"
    return f"""
    CREATE OR REPLACE TEMP TABLE ent AS
      SELECT uscc, name, address, region_code, status, established_on, deregistered_on,
             legal_rep_id,
             {address_key_sql()} AS address_key
      FROM enterprises WHERE established_on <= {d};
    CREATE OR REPLACE TEMP TABLE ent_links AS
      SELECT DISTINCT * FROM (
        SELECT uscc, legal_rep_id AS other, 'P' AS other_kind, '法定代表人' AS role,
               CAST(NULL AS DOUBLE) AS share, established_on AS since
          FROM ent WHERE legal_rep_id IS NOT NULL
        UNION ALL
        SELECT o.uscc, o.person_id, 'P', o.role, NULL, NULL
          FROM officers o JOIN ent USING (uscc) WHERE o.role <> '法定代表人'
        UNION ALL
        SELECT i.uscc, i.holder_id, CASE WHEN i.holder_type = '企业' THEN 'E' ELSE 'P' END,
               CASE WHEN i.holder_type = '企业' THEN '投资' ELSE '股东' END,
               i.share_ratio, i.since
          FROM investments i JOIN ent USING (uscc)
          WHERE i.holder_id IS NOT NULL AND (i.since IS NULL OR i.since <= {d})
        UNION ALL
        SELECT uscc, address_key, 'A', '同址', NULL, NULL FROM ent
          WHERE address_key IN (SELECT address_key FROM ent GROUP BY 1 HAVING count(*) > 1)
      ) WHERE other IS NOT NULL
    """


def extract_links(settings: Settings, as_of: dt.date) -> tuple[pa.Table, pa.Table]:
    """Nodes and one-way edges of the graph at ``as_of``, read from the warehouse.

    Returns
    -------
    nodes
        ``node_id`` (enterprises first, then persons, then addresses), ``kind``, ``key``,
        ``label`` (enterprise name, address key; persons carry no label).
    edges
        ``src`` (an enterprise), ``dst``, ``role`` (code into :data:`ROLE_CODES`),
        ``share``, ``since``.
    """
    with open_warehouse(settings.warehouse_path, read_only=True) as con:
        con.execute(_links_sql(as_of))
        return _nodes_edges(con)


def _nodes_edges(con: duckdb.DuckDBPyConnection) -> tuple[pa.Table, pa.Table]:
    roles = ", ".join(f"('{r}', {i})" for i, r in enumerate(ROLE_CODES))
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE nodes AS
      WITH keys AS (
        SELECT 0 AS ord, 'E' AS kind, uscc AS key, name AS label FROM ent
        UNION ALL SELECT DISTINCT 1, 'P', other, NULL FROM ent_links
          WHERE other_kind = 'P'
        UNION ALL SELECT DISTINCT 2, 'E', other, NULL FROM ent_links
          WHERE other_kind = 'E' AND other NOT IN (SELECT uscc FROM ent)
        UNION ALL SELECT DISTINCT 3, 'A', other, other FROM ent_links WHERE other_kind = 'A')
      SELECT CAST(row_number() OVER (ORDER BY ord, key) - 1 AS INTEGER) AS node_id,
             kind, key, label, CAST(ord AS TINYINT) AS block FROM keys;
    CREATE OR REPLACE TEMP TABLE role_codes(role VARCHAR, code TINYINT);
    INSERT INTO role_codes VALUES {roles};
    """)
    nodes = con.sql("SELECT * FROM nodes ORDER BY node_id").to_arrow_table()
    edges = con.sql("""
        SELECT s.node_id AS src, d.node_id AS dst, r.code AS role, l.share,
               l.since
        FROM ent_links l
        JOIN nodes s ON s.key = l.uscc AND s.kind = 'E'
        JOIN nodes d ON d.key = l.other AND d.kind = l.other_kind
        JOIN role_codes r ON r.role = l.role
        ORDER BY src, dst""").to_arrow_table()
    return nodes, edges


def write_graph(
    settings: Settings,
    nodes: pa.Table,
    edges: pa.Table,
    csr: dict[str, npt.NDArray[Any]],
    manifest: dict[str, Any],
) -> Path:
    """Write a built graph (replacing the previous one) and return its folder."""
    out = graph_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(nodes, out / "nodes.parquet")
    pq.write_table(edges, out / "edges.parquet")
    for name, arr in csr.items():
        np.save(out / f"csr_{name}.npy", arr)
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return out


def write_table(settings: Settings, name: str, table: pa.Table) -> Path:
    """Write one derived graph table (``clusters``, ``related_risk``) as Parquet."""
    out = graph_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.parquet"
    pq.write_table(table, path)
    return path


def _need(settings: Settings, name: str) -> Path:
    path = graph_dir(settings) / name
    if not path.exists():
        raise NotFoundError(f"no graph at {graph_dir(settings)}: run 'riskwatch graph build'")
    return path


def read_manifest(settings: Settings) -> dict[str, Any]:
    """The manifest of the built graph."""
    return dict(json.loads(_need(settings, "manifest.json").read_text(encoding="utf-8")))


def read_nodes(settings: Settings, columns: list[str] | None = None) -> pa.Table:
    """The node table of the built graph."""
    return pq.read_table(_need(settings, "nodes.parquet"), columns=columns)


def read_edges(settings: Settings) -> pa.Table:
    """The one-way edge table of the built graph."""
    return pq.read_table(_need(settings, "edges.parquet"))


def open_csr(settings: Settings) -> dict[str, npt.NDArray[Any]]:
    """The CSR arrays, memory-mapped (opening costs nothing; pages load on use)."""
    return {
        name: np.load(_need(settings, f"csr_{name}.npy"), mmap_mode="r")
        for name in ("indptr", "nbr", "edge")
    }


def load_clusters(settings: Settings) -> pa.Table:
    """``uscc, cluster_id, cluster_size`` of every enterprise in a multi-enterprise cluster."""
    return pq.read_table(_need(settings, "clusters.parquet"))


def write_related_risk(settings: Settings, table: pa.Table, month: str) -> Path:
    """Store the related-party risk of a build: the latest, and the month's own copy."""
    path = write_table(settings, "related_risk", table)
    monthly = graph_dir(settings) / "related_risk" / f"month={month}.parquet"
    monthly.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, monthly)
    return path


def load_related_risk(
    settings: Settings, month: str | None = None, columns: list[str] | None = None
) -> pa.Table:
    """The related-party risk of every enterprise (for the indicator catalogue and scoring).

    Columns: ``uscc``, ``as_of`` (the graph's date), ``related_risk_score`` (0–1, noisy-OR
    over linked enterprises' risk), ``related_risky_count`` (linked enterprises that are
    D-class or on a list), ``related_count`` (linked enterprises).

    Parameters
    ----------
    month
        ``YYYY-MM``: the build made at that month's date (point-in-time use); ``None``: the
        latest build.

    Raises
    ------
    NotFoundError
        If no graph was built (for that month): ``riskwatch graph build --as-of DATE``.
    """
    if month is None:
        return pq.read_table(_need(settings, "related_risk.parquet"), columns=columns)
    return pq.read_table(_need(settings, f"related_risk/month={month}.parquet"), columns=columns)


def risk_seeds(settings: Settings, as_of: dt.date) -> pa.Table:
    """``uscc, seed, reason``: enterprises whose own record makes them risky at ``as_of``.

    On the 严重违法失信名单 or a current 失信被执行人 → 1.0; on the 经营异常名录 → 0.5.
    """
    d = f"DATE '{as_of.isoformat()}'"
    sql = f"""
    SELECT uscc, max(seed) AS seed, arg_max(reason, seed) AS reason FROM (
      SELECT uscc, 1.0 AS seed, '严重违法失信名单' AS reason FROM serious_violations
        WHERE listed_on <= {d} AND (removed_on IS NULL OR removed_on > {d})
      UNION ALL
      SELECT uscc, 1.0, '失信被执行人' FROM judicial
        WHERE role = '失信被执行人' AND filed_on <= {d} AND (closed_on IS NULL OR closed_on > {d})
      UNION ALL
      SELECT uscc, 0.5, '经营异常名录' FROM abnormal_listings
        WHERE listed_on <= {d} AND (removed_on IS NULL OR removed_on > {d})
    ) GROUP BY uscc"""
    with open_warehouse(settings.warehouse_path, read_only=True) as con:
        return con.sql(sql).to_arrow_table()
