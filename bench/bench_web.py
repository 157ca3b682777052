"""First view of each dashboard page, measured in Debian's headless chromium.

For each size: a synthetic city through the real CLI (synth → ingest → indicators → alerts
scan), the service on a free port, then each page opened in a fresh document. A page's time
is from navigation start to the moment its data are shown and every chart has fired its
``finished`` event (the page marks ``rw-ready-<page>``). Prints a table and writes
bench/results/web-<N>.json. Usage::

    .venv/bin/python bench/bench_web.py --sizes 20000,100000 [--home DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
RISKWATCH = [sys.executable, "-c", "from riskwatch.cli import main; main()"]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PASSWORD = "Passw0rd!2025x"
AS_OF = "2025-06-30"
PAGES = [
    "cockpit", "portrait/{uscc}", "alerts", "sampling", "screening", "areas",
    "areas?region=410105", "indicators", "admin",
]  # fmt: skip
BUDGET_MS = 1500.0


def cli(home: Path, *args: str, stdin: str | None = None) -> None:
    env = {**os.environ, "RISKWATCH_HOME": str(home)}
    subprocess.run([*RISKWATCH, *args], env=env, input=stdin, text=True, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def prepare(root: Path, n: int) -> tuple[Path, dict[str, float]]:
    """A loaded city with indicators and alerts; returns the home and each step's seconds."""
    home, city = root / "home", root / "city"
    steps: dict[str, float] = {}
    for name, args in (
        ("synth", ("synth", "--enterprises", str(n), "--as-of", AS_OF, "--seed", "7",
                   "--out", str(city))),
        ("ingest", ("ingest", str(city))),
        ("indicators", ("indicators", "--as-of", AS_OF)),
        ("alerts", ("alerts", "scan", "--as-of", AS_OF)),
    ):  # fmt: skip
        t0 = time.perf_counter()
        cli(home, *args)
        steps[name] = round(time.perf_counter() - t0, 1)
    cli(home, "users", "add", "bench", "--role", "admin", "--region", "410100", stdin=PASSWORD)
    return home, steps


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "RISKWATCH_HOME": str(home)}
    proc = subprocess.Popen([*RISKWATCH, "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(900):
        try:
            with urllib.request.urlopen(f"{url}/api/web/whoami", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the service did not start")


def measure(url: str, repeat: int, user: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
        page.goto(f"{url}/ui/")
        page.wait_for_selector("body[data-ready='login']")
        page.fill("#login-user", user)
        page.fill("#login-pass", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("body[data-ready='cockpit']", timeout=120_000)
        uscc = page.evaluate(
            "fetch('/api/enterprises?limit=1').then(r => r.json()).then(j => j.items[0].uscc)"
        )
        for spec in PAGES:
            target = spec.format(uscc=uscc)
            view = target.split("/")[0].split("?")[0]
            times = []
            for _ in range(repeat):
                page.goto("about:blank")
                page.goto(f"{url}/ui/#/{target}")
                page.wait_for_selector(f"body[data-ready='{view}']", timeout=300_000)
                ms = page.evaluate(
                    f"performance.getEntriesByName('rw-ready-{view}').at(-1).startTime"
                )
                times.append(round(float(ms), 1))
            out[spec.split("/")[0] if "{" in spec else spec] = {
                "first_ms": times[0], "median_ms": statistics.median(times), "runs_ms": times,
            }  # fmt: skip
        browser.close()
    return out


def enterprises_in(home: Path) -> int:
    """How many enterprises a prepared home holds (the size its figures are labelled with)."""
    import duckdb

    from riskwatch.settings import Settings

    with duckdb.connect(str(Settings(home=home).warehouse_path), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM enterprises").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20000", help="ignored with --home: its size is counted")
    ap.add_argument("--home", type=Path, help="reuse a prepared RISKWATCH_HOME (one size)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--user", default="bench", help="an admin of 410100 (password as above)")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    sizes = [enterprises_in(args.home)] if args.home else [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        steps: dict[str, float] = {}
        if args.home:
            home = args.home
        else:
            root = Path(tempfile.mkdtemp(prefix=f"rw-web-{n}-", dir=args.workdir))
            home, steps = prepare(root, n)
        proc, url = serve(home)
        try:
            pages = measure(url, args.repeat, args.user)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        result = {
            "enterprises": n, "budget_ms": BUDGET_MS, "pages": pages, "prepare_s": steps,
            "load_average": os.getloadavg(), "cpus": os.cpu_count(),
            "machine": platform.platform(), "viewport": "1366x768",
        }  # fmt: skip
        print(f"\n{n:,} enterprises (load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cpus)")
        print(f"{'page':28} {'first ms':>9} {'median ms':>10}  ≤1.5 s")
        for name, r in pages.items():
            ok = "yes" if r["median_ms"] <= BUDGET_MS else "NO"
            print(f"{name:28} {r['first_ms']:9.0f} {r['median_ms']:10.0f}  {ok}")
        (RESULTS / f"web-{n}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
