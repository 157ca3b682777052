"""Benchmark ``riskwatch synth``: wall time, records/s and peak RSS of a child process.

Usage::

    .venv/bin/python bench/bench_synth.py --sizes 100000,1000000 --formats mixed,parquet
    .venv/bin/python bench/bench_synth.py --sizes 5000000 --formats parquet

Each run is a fresh child process (``riskwatch synth``); its peak RSS comes from
``os.wait4``.  Results go to ``bench/results/synth-<size>-<format>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def run(size: int, fmt: str, workdir: Path, seed: int, as_of: str, keep: bool) -> dict[str, Any]:
    """Generate one city in a child process and measure it."""
    out = workdir / f"city-{size}-{fmt}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-c",
        "from riskwatch.cli import main; main()",
        "synth",
        "--enterprises",
        str(size),
        "--as-of",
        as_of,
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--format",
        fmt,
    ]
    started = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"synth failed for {size} {fmt} (status {status})")
    manifest = json.loads((out / "truth" / "manifest.json").read_text("utf-8"))
    disk = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    result = {
        "size": size,
        "format": fmt,
        "seed": seed,
        "as_of": as_of,
        "wall_seconds": round(wall, 1),
        "generate_seconds": manifest["seconds"],
        "cpu_user_seconds": round(usage.ru_utime, 1),
        "cpu_system_seconds": round(usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "records": manifest["records"],
        "records_per_second": round(manifest["records"] / wall),
        "records_per_enterprise": round(manifest["records"] / size, 1),
        "disk_mb": round(disk / 2**20, 1),
        "files": len(manifest["files"]),
        "tables": manifest["tables"],
        "cpus": os.cpu_count(),
    }
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000", help="comma-separated enterprise counts")
    parser.add_argument(
        "--formats", default="mixed,parquet", help="comma-separated: mixed, csv, parquet"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2025-06-30")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/riskwatch-bench-synth"))
    parser.add_argument("--keep", action="store_true", help="keep the generated cities")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for fmt in args.formats.split(","):
            result = run(size, fmt, args.workdir, args.seed, args.as_of, args.keep)
            (RESULTS / f"synth-{size}-{fmt}.json").write_text(
                json.dumps(result, indent=1, ensure_ascii=False)
            )
            rows.append(result)
            print(
                f"{size:>10,} {fmt:<8} {result['wall_seconds']:>8.1f} s "
                f"{result['records']:>13,} rec {result['records_per_second']:>9,} rec/s "
                f"{result['peak_rss_mb']:>8.0f} MB RSS {result['disk_mb']:>9.0f} MB disk",
                flush=True,
            )
    print()
    header = (
        f"{'size':>10} {'format':<8} {'wall s':>8} {'records':>13} {'rec/s':>9} {'peak RSS MB':>11}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['size']:>10,} {r['format']:<8} {r['wall_seconds']:>8.1f} {r['records']:>13,} "
            f"{r['records_per_second']:>9,} {r['peak_rss_mb']:>11.0f}"
        )


if __name__ == "__main__":
    main()
