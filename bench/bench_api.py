"""API load benchmark: profile and list/filter latency at N concurrent users, on loopback.

The service (``riskwatch serve``, one uvicorn process) runs in a subprocess over a copy of a
warehouse; this process is the load generator (asyncio + httpx, one client per user, each
with its own bearer token, so rate limits and the audit log are exercised as in use).

Usage::

    python bench/bench_api.py --warehouse /path/to/warehouse.duckdb [--users 50]
        [--seconds 30] [--indicators DIR] [--label 1000000] [--workers 2]

Prints p50/p95/p99 latency, throughput and errors per scenario and writes
bench/results/api-<label>.json. Targets (issue 7): profile p95 ≤ 50 ms, list/filter p95
≤ 200 ms at 50 concurrent users, zero errors.

A user sends a request, waits for the answer and reads it for a think time (exponential,
mean ``--think-ms``, default 1 s: a clerk clicking once a second is already far busier
than at a desk) before the next one; ``--think-ms 0`` is a closed loop in which every user
fires again the instant an answer arrives, which measures the most the service can do
(throughput), not what 50 people see.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np

from riskwatch.auth.config import ServiceSettings
from riskwatch.services.users import UserService
from riskwatch.settings import Settings

HERE = Path(__file__).resolve().parent
PASSWORD = "Bench-passw0rd"


def prepare(args: argparse.Namespace, home: Path) -> tuple[list[str], str, list[str]]:
    """Copy the warehouse into a fresh home; sample usccs; pick the scope; name fragments."""
    home.mkdir(parents=True, exist_ok=True)
    if args.home is None:
        shutil.copy(args.warehouse, home / "warehouse.duckdb")
    if args.home is None and args.indicators:
        shutil.copytree(args.indicators, home / "indicators",
                        ignore=shutil.ignore_patterns("_staging"))  # fmt: skip
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    usccs = [r[0] for r in con.execute(
        "SELECT uscc FROM enterprises USING SAMPLE 5000 ROWS").fetchall()]  # fmt: skip
    region = con.execute(
        "SELECT region_code FROM enterprises GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]  # type: ignore[index]
    names = [r[0][2:4] for r in con.execute(
        "SELECT name FROM enterprises USING SAMPLE 200 ROWS").fetchall() if r[0]]  # fmt: skip
    con.close()
    return usccs, str(region)[:4] + "00", names


def serve(home: Path, env: dict[str, str], port: int, workers: int) -> subprocess.Popen[str]:
    """Start the service and wait until every worker has read its copies into memory
    (the first worker answers while the others are still reading theirs)."""
    cli = str(Path(sys.executable).with_name("riskwatch"))
    proc = subprocess.Popen(
        [cli, "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    ready = threading.Semaphore(0)

    def relay() -> None:  # the service's log, and a count of the workers that are ready
        assert proc.stderr is not None
        for line in proc.stderr:
            sys.stderr.write(line)
            if line.startswith("preloaded "):
                ready.release()

    threading.Thread(target=relay, daemon=True).start()
    deadline = time.monotonic() + 1800  # the first start makes the serving copies
    waiting = workers
    while time.monotonic() < deadline:
        while waiting and ready.acquire(timeout=1):
            waiting -= 1
        try:
            answered = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
            if answered.status_code == 200 and not waiting:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("the service exited during start-up")
    proc.terminate()
    raise SystemExit("the service did not start")


async def user_loop(
    client: httpx.AsyncClient,
    token: str,
    make_path: Any,
    stop: float,
    out: list[tuple[float, int, float, str]],
    think: float,
    rng: random.Random,
) -> None:
    """One user: request, wait for the answer, read it for an exponential think time."""
    headers = {"Authorization": f"Bearer {token}"}
    if think:
        await asyncio.sleep(rng.uniform(0, 2 * think))  # users do not click in step
    while time.monotonic() < stop:
        path = make_path()
        t0 = time.perf_counter()
        failure = ""
        try:
            r = await client.get(path, headers=headers)
            status = r.status_code
        except httpx.HTTPError as exc:  # no answer: say which kind (timeout, reset …)
            status, failure = 0, f"{type(exc).__name__}: {exc}"[:200]
        out.append((time.perf_counter() - t0, status, t0, failure))
        if think:
            await asyncio.sleep(rng.expovariate(1 / think))


async def scenario(
    base: str, tokens: list[str], make_path: Any, seconds: float, think: float = 0.0
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=len(tokens) + 5, max_keepalive_connections=len(tokens))
    results: list[tuple[float, int, float, str]] = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        start = time.monotonic()
        stop = start + seconds
        rngs = [random.Random(i) for i in range(len(tokens))]
        await asyncio.gather(
            *(
                user_loop(client, t, make_path, stop, results, think, r)
                for t, r in zip(tokens, rngs, strict=True)
            )
        )
        elapsed = time.monotonic() - start
    lat = np.array([r[0] for r in results]) * 1000
    errors = sum(1 for r in results if r[1] != 200)
    statuses = Counter(str(r[1]) for r in results if r[1] != 200)  # 0: no answer
    failures = Counter(r[3] for r in results if r[3])
    return {
        "requests": len(results),
        "errors": errors,
        "error_statuses": dict(statuses),
        "no_answer": dict(failures),
        "throughput_rps": round(len(results) / elapsed, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 1),
        "p95_ms": round(float(np.percentile(lat, 95)), 1),
        "p99_ms": round(float(np.percentile(lat, 99)), 1),
        "max_ms": round(float(lat.max()), 1),
        "slowest_seconds": _slowest_seconds(results),
    }


def _slowest_seconds(results: list[tuple[float, int, float, str]]) -> list[dict[str, float]]:
    """The three seconds of the run with the highest p95: whether the tail is spread over
    the run (queueing) or comes from a few stalls (the process or the machine paused)."""
    if not results:
        return []
    start = min(r[2] for r in results)
    by_second: dict[int, list[float]] = {}
    for lat, _status, t0, _failure in results:
        by_second.setdefault(int(t0 - start), []).append(lat * 1000)
    rows = [
        {"second": sec, "requests": len(v), "p95_ms": round(float(np.percentile(v, 95)), 1)}
        for sec, v in by_second.items()
    ]
    return sorted(rows, key=lambda r: -r["p95_ms"])[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", type=Path, help="a warehouse to copy into a fresh home")
    parser.add_argument("--home", type=Path, help="or: an existing home, used in place")
    parser.add_argument("--indicators", type=Path, default=None)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--label", default="")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads per query")
    parser.add_argument("--workers", type=int, default=1, help="service worker processes")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--scenarios", default="profile,list_filter", help="comma-separated scenarios to run"
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=1000,
        help="mean think time between a user's requests (exponential); 0 = closed loop",
    )
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="rw-bench-api-"))
    home = args.home or work / "home"
    if args.home is None and args.warehouse is None:
        raise SystemExit("give --warehouse or --home")
    usccs, scope, names = prepare(args, home)
    secret = "bench-" + "s" * 40
    env = dict(os.environ, RISKWATCH_HOME=str(home), RISKWATCH_ENVIRONMENT="production",
               RISKWATCH_SECRET_KEY=secret, RISKWATCH_RATE_PER_MINUTE="100000",
               RISKWATCH_THREADS=str(args.threads))  # fmt: skip
    users = UserService(Settings(home=home), ServiceSettings(environment="production",
                                                             secret_key=secret))  # fmt: skip
    known = {u["name"] for u in users.list_users()}
    for i in range(args.users):
        if f"bench{i}" not in known:
            users.add_user(f"bench{i}", "analyst", scope, PASSWORD)
    proc = serve(home, env, args.port, args.workers)
    base = f"http://127.0.0.1:{args.port}"
    try:
        tokens = [
            httpx.post(f"{base}/api/auth/token", data={"username": f"bench{i}",
                       "password": PASSWORD}, timeout=60).json()["access_token"]
            for i in range(args.users)
        ]  # fmt: skip
        rng = random.Random(7)
        filters = [
            lambda: f"/api/enterprises?q={rng.choice(names)}&limit=50",
            lambda: f"/api/enterprises?industry={rng.choice('ACFGHIKLM')}&limit=50",
            lambda: f"/api/enterprises?region={scope[:4]}&status=存续&limit=50"
                    f"&offset={rng.randrange(0, 5000, 50)}",
            lambda: f"/api/enterprises?q={rng.choice(usccs)}",
        ]  # fmt: skip
        scenarios = {
            "profile": lambda: f"/api/enterprises/{rng.choice(usccs)}",
            "list_filter": lambda: rng.choice(filters)(),
            "me": lambda: "/api/me",  # the floor: authentication, audit-free, no warehouse
        }
        asyncio.run(scenario(base, tokens[:5], scenarios["profile"], 5))  # warm-up
        figures: dict[str, Any] = {}
        for name, make_path in scenarios.items():
            if name not in args.scenarios.split(","):
                continue
            figures[name] = asyncio.run(
                scenario(base, tokens, make_path, args.seconds, args.think_ms / 1000)
            )
            print(name, figures[name], flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM enterprises").fetchone()[0]  # type: ignore[index]
    result = {
        "enterprises": n,
        "users": args.users,
        "workers": args.workers,
        "seconds": args.seconds,
        "think_ms_mean": args.think_ms,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "scenarios": figures,
        "targets": {"profile_p95_ms": 50, "list_filter_p95_ms": 200, "errors": 0},
    }
    out = HERE / "results" / f"api-{args.label or n}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
