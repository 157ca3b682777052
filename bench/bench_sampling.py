"""Measure the stratified draw over N enterprises (default 5 M), its verification, and
inspector assignment for the drawn list.

Usage::

    python bench/bench_sampling.py [--enterprises 5000000] [--repeat 3]
    python bench/bench_sampling.py --truth CITY/truth [--plans 200]   # HT coverage

The population is an Arrow frame in random row order with valid-looking 18-character
codes and the Xinjiang 2022 class mix (A 48.6 %, B 41.5 %, C 6.4 %, D 3.5 %), default
ratios 1/3/10/30 %. Prints the figures and writes ``bench/results/sampling-<N>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from riskwatch.sampling import Inspector, Target, assign, draw
from riskwatch.sampling.draw import canonical_order, population_digest

RESULTS = Path(__file__).parent / "results"
ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
DISTRICTS = [f"4101{d:02d}" for d in (2, 3, 4, 5, 6, 8, 22, 81, 82, 83, 84, 85)]


def population(n: int, seed: int = 5) -> pa.Table:
    """N distinct 18-character codes (sequence numbers in base 31), shuffled, with classes."""
    rng = np.random.default_rng(seed)
    raw = np.empty((n, 18), dtype=np.uint8)
    raw[:, 0:2] = np.frombuffer(b"91", dtype=np.uint8)
    district = rng.integers(0, len(DISTRICTS), n)
    raw[:, 2:8] = np.frombuffer("".join(DISTRICTS).encode(), dtype=np.uint8).reshape(-1, 6)[
        district
    ]
    seq = rng.permutation(n).astype(np.int64)
    for pos in range(17, 7, -1):
        raw[:, pos] = ALPHABET[seq % 31]
        seq //= 31
    offsets = np.arange(0, 18 * n + 1, 18, dtype=np.int32)
    codes = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw.tobytes()))
    classes = np.array(list("ABCD"))[rng.choice(4, n, p=[0.486, 0.415, 0.064, 0.035])]
    return pa.table(
        {
            "uscc": codes,
            "class": pa.array(classes),
            "region_code": pa.array(np.array(DISTRICTS)[district]),
        }
    )


def coverage(truth: Path, plans: int) -> dict[str, object]:
    """HT interval coverage on a synthetic city: classes by latent-risk quantiles (45/40/10/5 %),
    results drawn from each enterprise's true problem probability, ``plans`` seeds."""
    from riskwatch.sampling import estimate

    t = pq.read_table(truth / "latent_risk.parquet").filter(pc.field("live"))
    p = t["p_problem"].to_numpy()
    q = np.quantile(p, [0.45, 0.85, 0.95])
    cls = np.where(p < q[0], "A", np.where(p < q[1], "B", np.where(p < q[2], "C", "D")))
    frame = pa.table({"uscc": t["uscc"], "class": cls})
    prob = dict(zip(t["uscc"].to_pylist(), p.tolist(), strict=True))
    true_rate = float(p.mean())
    rng = np.random.default_rng(7)
    hits, widths, rates = 0, [], []
    for i in range(plans):
        d = draw(frame, seed=f"coverage-{i}")
        results = [
            (c, "发现问题已责令改正" if rng.random() < prob[u] else "未发现问题")
            for u, c in zip(d.selected["uscc"].to_pylist(), d.selected["class"].to_pylist(),
                            strict=True)
        ]  # fmt: skip
        est = estimate(results, {s.cls: (s.size, s.drawn) for s in d.strata})
        assert est.rate is not None and est.low is not None and est.high is not None
        hits += est.low <= true_rate <= est.high
        widths.append(est.high - est.low)
        rates.append(est.rate)
    return {
        "city_live_enterprises": frame.num_rows,
        "true_problem_rate": round(true_rate, 4),
        "plans": plans,
        "ht_mean_estimate": round(float(np.mean(rates)), 4),
        "ht_95_coverage": round(hits / plans, 3),
        "ht_mean_interval_width": round(float(np.mean(widths)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--truth", type=Path, help="a synthetic city's truth/ folder")
    parser.add_argument("--plans", type=int, default=200)
    args = parser.parse_args()
    if args.truth:
        figures = coverage(args.truth, args.plans)
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / "sampling-ht-coverage.json"
        out.write_text(json.dumps(figures, indent=2) + "\n")
        for key, value in figures.items():
            print(f"{key:28} {value}")
        return
    load_before = os.getloadavg()
    frame = population(args.enterprises)
    n = frame.num_rows
    times: list[float] = []
    result = None
    for i in range(args.repeat):
        start = time.perf_counter()
        result = draw(frame, seed=f"bench-{i}")
        times.append(time.perf_counter() - start)
    assert result is not None
    start = time.perf_counter()
    order = canonical_order(frame)
    sort_s = time.perf_counter() - start
    start = time.perf_counter()
    population_digest(frame, order)
    digest_s = time.perf_counter() - start
    start = time.perf_counter()
    again = draw(frame, seed=f"bench-{args.repeat - 1}")
    verify_s = time.perf_counter() - start
    assert again.list_sha256 == result.list_sha256

    print(f"draw over {n:,}: {[round(t, 2) for t in times]} s; verify {verify_s:.2f} s", flush=True)
    rng = np.random.default_rng(1)
    # 40 inspectors per district: the cost is O(drawn × inspectors of the district).
    register = [
        Inspector(f"I{i:05d}", DISTRICTS[i % len(DISTRICTS)], frozenset({"食品", "其他"}))
        for i in range(40 * len(DISTRICTS))
    ]
    sel = result.selected
    targets = [
        Target(u, r, frozenset())
        for u, r in zip(sel["uscc"].to_pylist(), sel["region_code"].to_pylist(), strict=True)
    ]
    recused = {t.uscc: frozenset({register[int(rng.integers(len(register)))].inspector_id})
               for t in targets}  # fmt: skip
    start = time.perf_counter()
    assignment = assign(targets, register, seed="bench", recused=recused)
    assign_s = time.perf_counter() - start
    loads = list(assignment.workload.values())
    figures = {
        "enterprises": n,
        "drawn": sel.num_rows,
        "strata": {s.cls: [s.size, s.drawn] for s in result.strata},
        "draw_seconds": [round(t, 2) for t in times],
        "draw_seconds_median": round(statistics.median(times), 2),
        "canonical_sort_seconds": round(sort_s, 2),
        "population_digest_seconds": round(digest_s, 2),
        "verify_redraw_seconds": round(verify_s, 2),
        "inspectors": len(register),
        "assign_seconds": round(assign_s, 2),
        "assign_shortfalls": len(assignment.shortfalls),
        "workload_min_max": [min(loads), max(loads)],
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": len(os.sched_getaffinity(0)),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"sampling-{args.enterprises}.json"
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    for key, value in figures.items():
        print(f"{key:28} {value}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
