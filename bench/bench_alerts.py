"""Benchmark the alert scan: a daily scan on a 1 M-enterprise warehouse.

Usage::

    .venv/bin/python bench/bench_alerts.py --source HOME --copies 50

Takes a warehouse ingested from a synthetic city (``riskwatch synth --enterprises 20000``
then ``riskwatch ingest``; HOME is its RISKWATCH_HOME) and replicates every contract table
``--copies`` times with codes, person ids, record ids and addresses made distinct per copy,
so 20 000 × 50 gives 1 M enterprises with the synthetic city's distributions and planted
patterns. Then, on a fresh SQLite operational store, it times:

- the first scan at 2025-06-30 (cold: every alert is new, cases are opened);
- the re-run at the same date (raises nothing);
- the next day's scan (the daily run: dedup against open alerts).

Writes bench/results/alerts-<enterprises>.json and prints it. Target (issue 5): a daily
scan on 1 M enterprises ≤ 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from riskwatch.ingest.contract import TABLES, warehouse_columns
from riskwatch.store.warehouse import ensure_schema

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2025, 6, 30)
PER_COPY = {  # columns made distinct per copy (c = copy number)
    "uscc": "left(uscc, 16) || lpad(CAST(c AS VARCHAR), 2, '0')",
    "legal_rep_id": "legal_rep_id || '-' || c",
    "person_id": "person_id || '-' || c",
    "holder_id": (
        "CASE WHEN holder_type = '企业' THEN"
        " left(holder_id, 16) || lpad(CAST(c AS VARCHAR), 2, '0')"
        " ELSE holder_id || '-' || c END"
    ),
    "address": "address || '-' || c",
    "complaint_id": "complaint_id || '-' || c",
    "opinion_id": "opinion_id || '-' || c",
    "decision_no": "decision_no || '-' || c",
    "license_no": "license_no || '-' || c",
    "case_no": "case_no || '-' || c",
    "task_id": "task_id || '-' || c",
}


def replicate(source: Path, target: Path, copies: int) -> int:
    """Write ``copies`` copies of every contract table; return the enterprise count."""
    con = duckdb.connect(str(target))
    ensure_schema(con)
    con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
    for name in TABLES:
        cols = [c for c, _ in warehouse_columns(TABLES[name])]
        exprs = ", ".join(PER_COPY.get(c, f'"{c}"') for c in cols)
        names = ", ".join(f'"{c}"' for c in cols)
        con.execute(
            f'INSERT INTO "{name}" ({names}) SELECT {exprs} FROM src."{name}", range({copies}) r(c)'
        )
    n = con.sql("SELECT count(DISTINCT uscc) FROM enterprises").fetchall()[0][0]
    con.close()
    return int(n)


def _cpu() -> float:
    """CPU seconds of this process, all threads (DuckDB's included)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="RISKWATCH_HOME of a city")
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument(
        "--workdir", type=Path, help="keep the replicated warehouse here (reused if present)"
    )
    args = parser.parse_args()
    from riskwatch.services.alerts import ScanService
    from riskwatch.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        wh = (args.workdir or home) / "warehouse.duckdb"
        if not wh.exists():
            wh.parent.mkdir(parents=True, exist_ok=True)
            replicate(args.source / "warehouse.duckdb", wh, args.copies)
        if args.workdir:
            (home / "warehouse.duckdb").symlink_to(wh.resolve())
        con = duckdb.connect(str(wh), read_only=True)
        n = int(con.sql("SELECT count(*) FROM enterprises").fetchall()[0][0])
        con.close()
        gen_s = time.perf_counter() - t0
        settings = Settings(home=home)
        runs = {}
        for label, day in (
            ("first_scan", AS_OF),
            ("rerun_same_day", AS_OF),
            ("daily_next_day", AS_OF + dt.timedelta(days=1)),
        ):
            t0, c0 = time.perf_counter(), _cpu()
            result = ScanService(settings).run(day)
            runs[label] = {
                "seconds": round(time.perf_counter() - t0, 1),
                "cpu_seconds": round(_cpu() - c0, 1),
                "raised": result.report.total_raised,
                "cases_opened": result.report.cases_opened,
                "detector_seconds": round(sum(result.report.seconds.values()), 1),
                "per_rule_seconds": result.report.seconds,
                "raised_per_rule": result.report.raised,
            }
            print(label, json.dumps(runs[label], ensure_ascii=False), flush=True)
    out = {
        "enterprises": n,
        "copies": args.copies,
        "prepare_seconds": round(gen_s, 1),
        **runs,
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2),
        "loadavg": os.getloadavg(),
        "cores": os.cpu_count(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path = HERE / "results" / f"alerts-{n}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
