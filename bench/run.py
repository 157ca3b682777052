"""`make bench`: synth and ingest at each size, one after the other, figures printed and
written to bench/results/.

Usage::

    python bench/run.py --sizes 100000,1000000 [--workdir /tmp/riskwatch-bench]

Each size: ``bench_synth.py`` makes the city (mixed formats, kept), then
``bench_ingest.py`` loads it into a fresh warehouse twice. The other benchmarks
(indicators, scoring, alerts, sampling, API) have their own scripts beside this one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/riskwatch-bench"))
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        subprocess.run(
            [sys.executable, str(HERE / "bench_synth.py"), "--sizes", str(size),
             "--formats", "mixed", "--workdir", str(args.workdir), "--keep"],
            check=True,
        )  # fmt: skip
        city = args.workdir / f"city-{size}-mixed"
        home = args.workdir / f"home-{size}"
        subprocess.run(
            [sys.executable, str(HERE / "bench_ingest.py"), "--city", str(city),
             "--home", str(home), "--label", str(size)],
            check=True,
        )  # fmt: skip
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(city, ignore_errors=True)
    for path in sorted((HERE / "results").glob("ingest-*.json")):
        print(path.name, json.loads(path.read_text()))


if __name__ == "__main__":
    main()
