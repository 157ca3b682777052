"""Benchmark the relationship graph: build time and peak memory, ego-network latency.

Usage::

    .venv/bin/python bench/bench_graph.py --enterprises 5000000

Generates a warehouse-shaped DuckDB file with a SQL generator (N enterprises; about 2 N
links: one legal representative each, 0.6 N officers, 0.3 N natural-person and 0.1 N
corporate shareholders; persons drawn from 0.8 N, some addresses shared), then in a child
process builds the graph (links, CSR, clusters, related-party risk) and measures wall time
and peak RSS, then opens the graph and times 500 depth-2 ego networks. Writes
bench/results/graph-<N>.json and prints it. Targets (issue 5): 5 M enterprises / 10 M links
built in ≤ 5 min within ≤ 12 GB; ego network ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from riskwatch.store.warehouse import ensure_schema

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2025, 6, 30)


def generate(path: Path, n: int) -> None:
    """Write N enterprises and about 2 N links."""
    con = duckdb.connect(str(path))
    ensure_schema(con)
    p = max(1, int(n * 0.8))
    a = max(1, int(n * 0.9))
    ent = "'E' || lpad(CAST(i AS VARCHAR), 17, '0')"
    rand_ent = f"'E' || lpad(CAST(CAST(floor(random() * {n}) AS BIGINT) AS VARCHAR), 17, '0')"
    person = f"'P' || CAST(CAST(floor(pow(random(), 1.3) * {p}) AS BIGINT) AS VARCHAR)"
    con.execute(f"""
      INSERT INTO enterprises (uscc, name, entity_type, status, established_on,
        registered_capital, industry_code, region_code, address, legal_rep_id)
      SELECT {ent}, '企业' || i, '有限责任公司', '存续',
        DATE '2000-01-01' + CAST(i % 9000 AS INTEGER), 100, 'F5211', '410105',
        '河南省郑州市金水区花园路' || CAST((i * 7919) % {a} AS VARCHAR) || '号', {person}
      FROM range({n}) t(i)""")
    con.execute(f"""
      INSERT INTO officers (uscc, person_id, name, role)
      SELECT DISTINCT {rand_ent}, {person}, '某',
        ['董事', '监事', '经理', '财务负责人'][1 + CAST(floor(random() * 4) AS INTEGER)]
      FROM range({int(n * 0.6)})""")
    con.execute(f"""
      INSERT INTO investments (uscc, holder_type, holder_id, holder_name, subscribed_capital,
        share_ratio)
      SELECT uscc, holder_type, holder_id, '某', 10, 0.3 FROM (
        SELECT {rand_ent} AS uscc, '自然人' AS holder_type, {person} AS holder_id
        FROM range({int(n * 0.3)})
        UNION SELECT {rand_ent}, '企业', {rand_ent} FROM range({int(n * 0.1)}))""")
    con.close()


def child(home: Path) -> None:
    """Build, then time ego networks; print one JSON line."""
    import numpy as np

    from riskwatch.graph.build import build
    from riskwatch.graph.query import Graph
    from riskwatch.settings import Settings

    settings = Settings(home=home)
    t0 = time.perf_counter()
    result = build(settings, AS_OF)
    build_s = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    build_cpu = usage.ru_utime + usage.ru_stime
    rss_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    t0 = time.perf_counter()
    g = Graph(settings)
    open_s = time.perf_counter() - t0
    rng = np.random.default_rng(1)
    n = result.enterprises
    times, sizes = [], []
    for i in rng.integers(0, n, 500):
        t0 = time.perf_counter()
        ego = g.ego(g.key(int(i)), depth=2)
        times.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(ego["nodes"]))
    out = {
        "build": result.as_dict(),
        "build_seconds": round(build_s, 1),
        "build_cpu_seconds": round(build_cpu, 1),
        "peak_rss_gb_build": round(rss_build, 2),
        "open_seconds": round(open_s, 2),
        "ego_ms_p50": round(float(np.percentile(times, 50)), 2),
        "ego_ms_p95": round(float(np.percentile(times, 95)), 2),
        "ego_ms_max": round(max(times), 2),
        "ego_nodes_mean": round(float(np.mean(sizes)), 1),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2),
    }
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=5_000_000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory(prefix="bench-graph-") as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        generate(home / "warehouse.duckdb", args.enterprises)
        gen_s = time.perf_counter() - t0
        con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
        links = sum(
            con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("enterprises", "officers", "investments")
        )
        con.close()
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(home)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    result |= {
        "enterprises": args.enterprises,
        "source_links": links,
        "generate_seconds": round(gen_s, 1),
        "loadavg": os.getloadavg(),
        "cores": os.cpu_count(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    out = HERE / "results" / f"graph-{args.enterprises}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
