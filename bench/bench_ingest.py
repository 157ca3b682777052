"""Measure `riskwatch ingest` on a synthetic city: time, rows per second, peak RSS.

Usage::

    python bench/bench_ingest.py --city DIR [--home DIR] [--label NAME]

Runs the real CLI in a child process (so its peak RSS is the child's own), ingests the
city twice (the second load must add nothing) and writes
``bench/results/ingest-<label>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS of the child in GB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed with status {status}")
    return wall, usage.ru_maxrss / 1024 / 1024  # ru_maxrss is in KB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--city", type=Path, required=True)
    parser.add_argument("--home", type=Path, default=Path("bench/work/home"))
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    label = args.label or args.city.name
    shutil.rmtree(args.home, ignore_errors=True)
    env = {**os.environ, "RISKWATCH_HOME": str(args.home), "TERM": "dumb"}
    exe = str(Path(sys.executable).parent / "riskwatch")
    report = args.home / "report.json"
    first_wall, first_rss = run_child(
        [exe, "ingest", str(args.city), "--report-json", str(report)], env
    )
    loaded = json.loads(report.read_text())
    rows = sum(t["rows_read"] for t in loaded["tables"].values())
    again_wall, again_rss = run_child(
        [exe, "ingest", str(args.city), "--force", "--report-json", str(report)], env
    )
    again = json.loads(report.read_text())
    added = sum(t["rows_loaded"] for t in again["tables"].values())
    input_bytes = sum(p.stat().st_size for p in args.city.iterdir() if p.is_file())
    result = {
        "label": label,
        "rows": rows,
        "input_gb": round(input_bytes / 1e9, 3),
        "first_load_s": round(first_wall, 1),
        "rows_per_s": round(rows / first_wall),
        "peak_rss_gb": round(first_rss, 2),
        "reload_forced_s": round(again_wall, 1),
        "reload_peak_rss_gb": round(again_rss, 2),
        "reload_rows_added": added,
        "warehouse_gb": round((args.home / "warehouse.duckdb").stat().st_size / 1e9, 3),
        "cores": os.cpu_count(),
        "self_max_rss_gb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024, 2
        ),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"ingest-{label}.json").write_text(json.dumps(result, indent=2))
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
