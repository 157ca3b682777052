"""Grade the classes on a synthetic city's truth: the issue-4 quality figures.

Usage::

    .venv/bin/python bench/bench_evaluation.py --enterprises 100000 --seed 7

Makes a city (``riskwatch synth``), loads it, runs the monthly job at the as-of date (which
trains the four families on the inspections before it) and grades with
``riskwatch evaluate --truth``: the uniform random inspections of the 6 months after as-of,
never seen in training. Prints the discovery ladder with 95 % intervals and each family's
AUC beside the generator's oracle, and writes bench/results/evaluation-<N>.json.
Targets (issue 4): strictly rising ladder, D ≥ 80 %, A ≤ 15 %, learned AUC within 0.05 of
the oracle and above the expert scorecard.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--enterprises", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as-of", default="2025-06-30")
    ap.add_argument("--work", type=Path, default=Path("/tmp/riskwatch-bench-evaluation"))
    ap.add_argument(
        "--reuse", nargs=2, type=Path, metavar=("CITY", "HOME"),
        help="grade an existing city and its home (already run) instead of building one",
    )  # fmt: skip
    args = ap.parse_args()
    if args.reuse:
        city, home = args.reuse
    else:
        city, home = args.work / "city", args.work / "home"
        shutil.rmtree(args.work, ignore_errors=True)
    exe = str(Path(sys.executable).parent / "riskwatch")
    env = {**os.environ, "RISKWATCH_HOME": str(home), "TERM": "dumb"}
    steps: dict[str, float] = {}
    for name, cmd in [
        ("synth", ["synth", "--enterprises", str(args.enterprises), "--as-of", args.as_of,
                   "--seed", str(args.seed), "--out", str(city)]),
        ("ingest", ["ingest", str(city)]),
        ("run", ["run", "--as-of", args.as_of]),
        ("evaluate", ["evaluate", "--as-of", args.as_of, "--truth", str(city / "truth")]),
    ]:  # fmt: skip
        if args.reuse and name != "evaluate":
            continue
        started = time.perf_counter()
        subprocess.run([exe, *cmd], env=env, check=True, stdout=subprocess.DEVNULL)
        steps[name] = round(time.perf_counter() - started, 1)
    report = json.loads(next((home / "evaluation").glob("*/report.json")).read_text())
    ladder = report["classes"]["discovery"]
    aucs = {name: f["auc"] for name, f in report["families"].items()}
    rates = [ladder[c]["rate"] for c in "ABCD"]
    learned = max(aucs.get("lightgbm", 0.0), aucs.get("woe_scorecard", 0.0))
    result = {
        "enterprises": args.enterprises,
        "seed": args.seed,
        "as_of": args.as_of,
        "future_inspections": report["labels"],
        "discovery": {c: {k: round(v, 4) for k, v in ladder[c].items()} for c in "ABCD"},
        "class_mix": report["classes"]["mix"],
        "auc": {k: round(v, 4) for k, v in aucs.items()},
        "oracle_auc": round(report["oracle_auc"], 4),
        "checks": {
            "ladder_strictly_rising": all(a < b for a, b in itertools.pairwise(rates)),
            "d_at_least_80": rates[3] >= 0.80,
            "a_at_most_15": rates[0] <= 0.15,
            "learned_within_0_05_of_oracle": report["oracle_auc"] - learned <= 0.05,
            "learned_above_expert": learned > aucs.get("expert", 0.0),
        },
        "seconds": steps,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"evaluation-{args.enterprises}.json").write_text(
        json.dumps(result, indent=1, ensure_ascii=False)
    )
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
