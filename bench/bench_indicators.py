"""Benchmark the indicator engine: one month, 36 months, Spark, against a scan floor.

Usage::

    .venv/bin/python bench/bench_indicators.py --sizes 1000000 [--spark] [--skip-36]
    .venv/bin/python bench/bench_indicators.py --sizes 5000000 --parquet --skip-36

Builds a warehouse-shaped DuckDB file per size with a fast SQL generator (≈ 60 records per
enterprise over 2015–2025; ``riskwatch synth`` + ``ingest`` give more realistic data but take
much longer at 1 M), then measures each step in a child process (time and peak RSS):
the floor (DuckDB ``count(*), sum(...)`` over every event table once), one month, 36 months
and optionally Spark one month (checked identical to DuckDB). With ``--parquet`` the
warehouse tables are first exported to ``<work>/n<size>/parquet/<table>.parquet`` and both
the floor and the month read those files (``riskwatch indicators --parquet-input``), as for a
city too large to keep in one DuckDB file. Writes bench/results/indicators-<size>.json
(``indicators-<size>-parquet.json``) and prints it.

With ``--published`` every as-of also reads classes and a graph related-party risk for the
month before it (the catalogue's C/D shares and ``related_risk_score``): random values (A 50 %,
B 35 %, C 10 %, D 5 %) written in the layout ``riskwatch run`` and ``riskwatch graph build``
use, for timing only. They are left in the home for later runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from riskwatch.settings import Settings
from riskwatch.store.warehouse import ensure_schema

HERE = Path(__file__).resolve().parent
EVENTS = {  # table: (records per enterprise, knowledge-date column)
    "investments": (2.0, "since"),
    "changes": (6.0, "changed_on"),
    "annual_reports": (5.0, "submitted_on"),
    "abnormal_listings": (0.3, "listed_on"),
    "serious_violations": (0.05, "listed_on"),
    "penalties": (2.0, "decided_on"),
    "licenses": (1.5, "issued_on"),
    "inspections": (3.0, "inspected_on"),
    "complaints": (20.0, "received_on"),
    "judicial": (4.0, "filed_on"),
    "opinions": (13.0, "published_on"),
    "officers": (3.0, ""),
}

DAY = "DATE '2015-01-01' + CAST(floor(random() * 3830) AS INTEGER)"
ENT = "'E' || lpad(CAST(CAST(floor(random() * {n}) AS BIGINT) AS VARCHAR), 8, '0')"


def generate(path: Path, n: int) -> None:
    """A warehouse with ``n`` enterprises and ≈ 60 n records (random, seeded)."""
    con = duckdb.connect(str(path))
    con.execute("SELECT setseed(0.7)").fetchall()
    ensure_schema(con)
    e = ENT.format(n=n)

    def ins(table: str, cols: str, select: str, per: float) -> None:
        rows = int(n * per)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {select} FROM range({rows})").fetchall()

    ins(
        "enterprises",
        "uscc, name, entity_type, status, established_on, registered_capital, industry_code,"
        " region_code, address, legal_rep_id, legal_rep_name, deregistered_on",
        "'E' || lpad(CAST(range AS VARCHAR), 8, '0'), 'n', (['有限责任公司','个体工商户','分公司',"
        "'合伙企业'])[1 + range % 4], '存续', DATE '2000-01-01' + CAST(floor(random() * 9300)"
        " AS INTEGER), round(random() * 500, 2), 'F52', '110101', 'addr-' || (range % 700000),"
        " 'p' || (range % 850000), 'r', CASE WHEN random() < 0.08 THEN DATE '2020-01-01' +"
        " CAST(floor(random() * 2000) AS INTEGER) END",
        1.0,
    )
    ins(
        "investments",
        "uscc, holder_type, holder_id, holder_name, subscribed_capital, since",
        f"{e}, '自然人', 'h' || CAST(floor(random() * {n}) AS BIGINT), 'x', 10, {DAY}",
        2.0,
    )
    ins("officers", "uscc, person_id, name, role", f"{e}, 'q' || range, 'x', '董事'", 3.0)
    ins(
        "changes",
        "uscc, changed_on, item",
        f"{e}, {DAY}, (['名称','住所','法定代表人','经营范围','注册资本','股东'])[1 + range % 6]",
        6.0,
    )
    ins(
        "annual_reports",
        "uscc, year, submitted_on, corrected",
        f"{e}, 2016 + range % 9, CASE WHEN random() < 0.9 THEN make_date(2017 + range % 9, 3,"
        " 1) + CAST(floor(random() * 200) AS INTEGER) END, random() < 0.05",
        5.0,
    )
    ins(
        "abnormal_listings",
        "uscc, listed_on, reason, removed_on",
        f"{e}, {DAY}, '未按规定报送年度报告', CASE WHEN random() < 0.6 THEN DATE '2025-12-31'"
        " - CAST(floor(random() * 1500) AS INTEGER) END",
        0.3,
    )
    ins("serious_violations", "uscc, listed_on, reason", f"{e}, {DAY}, 'x'", 0.05)
    ins(
        "penalties",
        "decision_no, uscc, decided_on, authority, violation, penalty_kinds, fine, domain,"
        " publicity_until",
        f"'d' || range, {e}, {DAY}, 'a', 'v', [(['警告','罚款','吊销许可证'])[1 + range % 3]],"
        " round(random() * 10, 4), (['食品','药品','价格','其他'])[1 + range % 4],"
        " DATE '2016-01-01' + CAST(floor(random() * 3800) AS INTEGER)",
        2.0,
    )
    ins(
        "licenses",
        "license_no, uscc, kind, issued_on, valid_until, status",
        f"'l' || range, {e}, 'k', {DAY}, DATE '2020-01-01' + CAST(floor(random() * 3000)"
        " AS INTEGER), '有效'",
        1.5,
    )
    ins(
        "inspections",
        "uscc, task_id, inspected_on, kind, result",
        f"{e}, 't' || range, {DAY}, '双随机', (['未发现问题','发现问题已责令改正',"
        "'不配合检查情节严重','未发现问题'])[1 + range % 4]",
        3.0,
    )
    ins(
        "complaints",
        "complaint_id, uscc, received_on, channel, kind, category, substantiated",
        f"'c' || range, {e}, {DAY}, '12315', (['投诉','举报','咨询'])[1 + range % 3],"
        " (['食品安全','价格','其他'])[1 + range % 3], random() < 0.3",
        20.0,
    )
    ins(
        "judicial",
        "case_no, uscc, filed_on, role, case_type, amount, closed_on",
        f"'j' || range, {e}, {DAY}, (['原告','被告','被执行人','失信被执行人'])[1 + range % 4],"
        " 'x', round(random() * 100, 2), CASE WHEN random() < 0.7 THEN DATE '2025-12-31'"
        " - CAST(floor(random() * 2000) AS INTEGER) END",
        4.0,
    )
    ins(
        "opinions",
        "opinion_id, uscc, published_on, source, title, sentiment",
        f"'o' || range, {e}, {DAY}, 's', 't', (['正面','中性','负面'])[1 + range % 3]",
        13.0,
    )
    con.execute("CHECKPOINT").fetchall()
    con.close()


def publish_random(home: Path, months: list[str]) -> float:
    """Random classes and graph scores of every enterprise for these months; seconds."""
    started = time.perf_counter()
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    con.execute("SELECT setseed(0.3)").fetchall()
    for month in months:
        cls = home / "classes" / f"month={month}"
        graph = home / "graph" / "related_risk"
        cls.mkdir(parents=True, exist_ok=True)
        graph.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT uscc, '{month}' AS month, CASE WHEN r < 0.5 THEN 'A' WHEN r < 0.85"
            f" THEN 'B' WHEN r < 0.95 THEN 'C' ELSE 'D' END AS class FROM (SELECT uscc,"
            f" random() AS r FROM enterprises)) TO '{cls / 'part-bench-00000.parquet'}'"
            " (FORMAT parquet)"
        ).fetchall()
        (cls / "_run.json").write_text(json.dumps({"run_id": "bench", "month": month}), "utf-8")
        con.execute(
            f"COPY (SELECT uscc, DATE '{month}-01' AS as_of, round(pow(random(), 4), 4) AS"
            " related_risk_score, CAST(floor(random() * 3) AS BIGINT) AS related_risky_count,"
            " CAST(floor(random() * 10) AS BIGINT) AS related_count FROM enterprises)"
            f" TO '{graph / f'month={month}.parquet'}' (FORMAT parquet)"
        ).fetchall()
    con.close()
    return round(time.perf_counter() - started, 1)


def floor_scan(path: Path, threads: int, parquet: Path | None = None) -> dict[str, float]:
    """DuckDB reading every event table's key and date once: count(*), sum(date)."""
    if parquet is None:
        con = duckdb.connect(str(path), read_only=True, config={"threads": threads})
    else:
        con = duckdb.connect(config={"threads": threads})
    started = time.perf_counter()
    rows = 0
    for table, (_, col) in EVENTS.items():
        date = f"sum(epoch({col}))" if col else "count(DISTINCT uscc)"
        src = table if parquet is None else f"read_parquet('{parquet / table}.parquet')"
        r = con.execute(f"SELECT count(*), {date}, count(uscc) FROM {src}").fetchall()
        rows += int(r[0][0])
    seconds = time.perf_counter() - started
    con.close()
    return {"seconds": round(seconds, 3), "records": rows}


def export(path: Path, out: Path) -> float:
    """Write every warehouse table to ``out/<table>.parquet``; seconds taken."""
    from riskwatch.store.engines import export_parquet

    started = time.perf_counter()
    con = duckdb.connect(str(path), read_only=True)
    export_parquet(con, out)
    con.close()
    return round(time.perf_counter() - started, 1)


def child(step: str, home: Path, threads: int, extra: list[str]) -> dict[str, float]:
    """Run one step in a child process; its wall time and peak RSS."""
    cmd = [sys.executable, __file__, "--child", step, "--home", str(home)]
    cmd += ["--threads", str(threads), *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    info = json.loads(out.stdout.strip().splitlines()[-1])
    return {"seconds": round(seconds, 2), "peak_rss_gb": round(max(rss, before) / 1e6, 2), **info}


def run_child(step: str, home: Path, threads: int, parquet: Path | None, memory_limit: str) -> None:
    """Child side: compute and store snapshots (prints a JSON line)."""
    from riskwatch.indicators import month_ends, run

    if step in ("one", "months36"):
        dates = [dt.date(2025, 6, 30)] if step == "one" else month_ends("2022-07", "2025-06")
        result = run(home, dates, threads=threads, parquet_input=parquet, memory_limit=memory_limit)
    else:  # spark one month
        result = run(home, [dt.date(2025, 6, 30)], engine="spark")
    print(json.dumps({"rows": sum(result.rows.values()), "run_id": result.run_id}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", type=Path, default=Path("/tmp/rw-bench-indicators"))
    ap.add_argument("--spark", action="store_true")
    ap.add_argument("--skip-36", action="store_true")
    ap.add_argument("--child", default="")
    ap.add_argument("--home", type=Path)
    ap.add_argument("--parquet", action="store_true", help="read exported Parquet files")
    ap.add_argument("--parquet-dir", type=Path)
    ap.add_argument(
        "--published", action="store_true", help="random classes/graph of the month before"
    )
    ap.add_argument(
        "--memory-limit",
        default=Settings().indicators_memory_limit,
        help="DuckDB memory_limit of the runs (default: the setting's, as the CLI uses)",
    )
    args = ap.parse_args()
    if args.child:
        run_child(args.child, args.home, args.threads, args.parquet_dir, args.memory_limit)
        return
    for n in (int(s) for s in args.sizes.split(",")):
        home = args.work / f"n{n}"
        home.mkdir(parents=True, exist_ok=True)
        wh = home / "warehouse.duckdb"
        t0 = time.perf_counter()
        generated = None
        if not wh.exists():
            generate(wh, n)
            generated = True
        gen = round(time.perf_counter() - t0, 1)
        res: dict[str, object] = {"enterprises": n, "generate_seconds": gen}
        extra = ["--memory-limit", args.memory_limit] if args.memory_limit else []
        pq_dir = None
        if args.parquet:
            pq_dir = home / "parquet"
            if not (pq_dir / "complaints.parquet").exists():
                res["export_seconds"] = export(wh, pq_dir)
            extra += ["--parquet-dir", str(pq_dir)]
            res["input"] = "parquet"
        if args.published:
            from riskwatch.indicators import month_ends

            months = [f"{d:%Y-%m}" for d in month_ends("2022-06", "2025-05")]
            res["published_seconds"] = publish_random(home, months)
            res["published"] = "random classes and graph scores of the month before each as-of"
        res["memory_limit"] = args.memory_limit or "DuckDB default (80 % of RAM)"
        res["data"] = (
            f"warehouse found at {wh}" if generated is None else "bench SQL generator (random)"
        )
        fl = floor_scan(wh, args.threads, pq_dir)
        res["floor"] = fl
        res["one_month"] = child("one", home, args.threads, extra)
        if not args.skip_36:
            res["months_36"] = child("months36", home, args.threads, extra)
        if args.spark:
            duck = _snapshot(home)
            res["spark_one_month"] = child("spark", home, args.threads, [])
            res["spark_identical"] = duck == _snapshot(home)
        for key in ("one_month", "months_36", "spark_one_month"):
            if key in res:
                step = res[key]
                assert isinstance(step, dict)
                step["ratio_to_floor"] = round(step["seconds"] / max(fl["seconds"], 1e-3), 1)
        tag = ("-parquet" if args.parquet else "") + ("-published" if args.published else "")
        out = HERE / "results" / f"indicators-{n}{tag}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(res, indent=2), encoding="utf-8")
        print(json.dumps(res, indent=2))


def _snapshot(home: Path) -> list[dict[str, object]]:
    from riskwatch.indicators import load_snapshot

    t = load_snapshot(home, "2025-06").sort_by("uscc")
    return t.to_pylist()


if __name__ == "__main__":
    main()
