"""Scoring benchmark: score + class N enterprises, train on M labelled rows; time and peak RSS.

Rows are the snapshot (and labelled set) of an existing home replicated with fresh codes, so
the value distributions are a real city's. Usage::

    .venv/bin/python bench/bench_scoring.py --home H --enterprises 5000000 --labels 1000000

Prints the figures and writes bench/results/scoring.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from riskwatch.classify import cutoffs, load_policy
from riskwatch.indicators import load_catalogue, load_snapshot
from riskwatch.scoring import registry
from riskwatch.scoring.base import feature_names, to_frame
from riskwatch.scoring.config import load_models_config
from riskwatch.scoring.labels import labelled_set, read_inspections
from riskwatch.scoring.learned import MonotoneGBM, WoeScorecard
from riskwatch.scoring.pipeline import CLASS_SCHEMA, score_batches

OUT = Path(__file__).parent / "results" / "scoring.json"


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def bench_score(home: Path, month: str, n: int, batch: int, out: Path) -> dict[str, float]:
    cat, policy = load_catalogue(), load_policy()
    version = registry.champion(home, month)
    assert version, "run `riskwatch run` on the home first"
    model = registry.load(home, version)
    base = load_snapshot(home, month).to_pandas(date_as_object=False)
    cuts = cutoffs(policy)
    out.mkdir(parents=True, exist_ok=True)

    def batches() -> Iterator[pd.DataFrame]:
        for start in range(0, n, batch):
            k = min(batch, n - start)
            rows = base.sample(k, replace=True, random_state=start).reset_index(drop=True)
            rows["uscc"] = [f"B{start + i:017d}" for i in range(k)]
            yield rows

    started = time.perf_counter()
    with pq.ParquetWriter(out / "classes.parquet", CLASS_SCHEMA) as w:
        for table in score_batches(batches(), model, version, cat, policy, cuts, "bench"):
            w.write_table(table)
    seconds = time.perf_counter() - started
    return {
        "enterprises": n,
        "seconds": round(seconds, 1),
        "per_million_s": round(seconds / n * 1e6, 1),
    }


def bench_train(home: Path, as_of: dt.date, n: int) -> dict[str, float]:
    cat, cfg = load_catalogue(), load_models_config()
    data = labelled_set(home, read_inspections(home / "warehouse.duckdb"), cfg.training, as_of)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, data.size, n)
    frame = data.frame.iloc[idx].reset_index(drop=True)
    names = feature_names(cat)
    X = to_frame(frame, names)
    y, w = frame["y"].to_numpy(), frame["weight"].to_numpy()
    val = np.arange(n) >= int(n * 0.8)
    out = {"labels": n}
    t = time.perf_counter()
    MonotoneGBM(cfg.lightgbm, cat, names, cfg.training.threads).fit(
        X[~val].reset_index(drop=True), y[~val], w[~val],
        validation=(X[val].reset_index(drop=True), y[val], w[val]),
    )  # fmt: skip
    out["lightgbm_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    WoeScorecard(cfg.woe_scorecard, cat, names).fit(
        X[~val].reset_index(drop=True), y[~val], w[~val]
    )
    out["woe_scorecard_s"] = round(time.perf_counter() - t, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--as-of", default="2025-06-30")
    ap.add_argument("--enterprises", type=int, default=5_000_000)
    ap.add_argument("--labels", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=200_000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/riskwatch-bench-scoring"))
    args = ap.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    result: dict[str, object] = {
        "load_average": os.getloadavg(),
        "cores": os.cpu_count(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if args.enterprises:
        result["score"] = bench_score(
            args.home, f"{as_of:%Y-%m}", args.enterprises, args.batch, args.out
        )
        print("score+class", result["score"], flush=True)
    if args.labels:
        result["train"] = bench_train(args.home, as_of, args.labels)
        print("train", result["train"], flush=True)
    result["peak_rss_gb"] = round(rss_gb(), 2)
    print(json.dumps(result, indent=1))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # a run of one part (--labels 0 or --enterprises 0) keeps the other part's last figures
    previous = json.loads(OUT.read_text()) if OUT.exists() else {}
    OUT.write_text(json.dumps({**previous, **result}, indent=1))


if __name__ == "__main__":
    main()
