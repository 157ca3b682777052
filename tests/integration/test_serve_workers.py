"""The service as several worker processes: one rate limit, fresh classes, no loads.

``riskwatch serve --workers 2`` really runs here (two uvicorn workers over a small city):
every request on a new connection may land on either worker.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

from riskwatch.auth.config import ServiceSettings
from riskwatch.services.ingest import IngestService
from riskwatch.services.users import UserService
from riskwatch.settings import Settings
from riskwatch.store.buckets import SharedBuckets
from riskwatch.store.classes import write_classes
from riskwatch.synth.city import SynthConfig, generate

SECRET = "workers-test-secret-" + "k" * 32
PASSWORD = "Passw0rd-workers"


def _take_all(path: str, n: int, out: multiprocessing.Queue[int]) -> None:
    buckets = SharedBuckets(Path(path))
    out.put(sum(buckets.take("user:1", 30.0, 0.001, time.monotonic()) == 0.0 for _ in range(n)))


def test_shared_buckets_count_every_process_together(tmp_path: Path) -> None:
    """Three processes taking from one bucket of 30 get 30 tokens between them."""
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[int] = ctx.Queue()
    procs = [
        ctx.Process(target=_take_all, args=(str(tmp_path / "rl.sqlite"), 20, out)) for _ in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert sum(out.get(timeout=5) for _ in procs) == 30
    assert SharedBuckets(tmp_path / "rl.sqlite").take("user:2", 30.0, 0.5, time.monotonic()) == 0


def _classes(usccs: list[str], month: str, cls: str) -> pa.Table:
    n = len(usccs)
    return pa.table({
        "uscc": usccs, "month": [month] * n, "region_code": ["410105"] * n,
        "industry_code": ["F5211"] * n, "class": [cls] * n, "score": [500.0] * n,
        "probability": [0.5] * n, "model_version": ["m"] * n, "reasons": ["[]"] * n,
        "overrides": ["[]"] * n,
    })  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Path, list[str], int]]:
    root = tmp_path_factory.mktemp("workers")
    generate(SynthConfig(enterprises=800, as_of=dt.date(2025, 6, 30), seed=5,
                         out=root / "city", format="parquet"))  # fmt: skip
    settings = Settings(home=root / "home", batch_rows=5000)
    IngestService(settings).run(root / "city")
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        usccs = [u for (u,) in con.execute("SELECT uscc FROM enterprises ORDER BY uscc").fetchall()]
    write_classes(settings.home, "2025-06", _classes(usccs, "2025-06", "B"), run_id="R1")
    service = ServiceSettings(environment="production", secret_key=SECRET)
    users = UserService(settings, service)
    users.add_user("city", "analyst", "410100", PASSWORD)
    users.add_user("burst", "analyst", "410100", PASSWORD)
    users.add_user("boss", "admin", "410100", PASSWORD)
    port = _free_port()
    env = dict(os.environ, RISKWATCH_HOME=str(settings.home), RISKWATCH_SECRET_KEY=SECRET,
               RISKWATCH_ENVIRONMENT="production", RISKWATCH_RATE_PER_MINUTE="60",
               RISKWATCH_THREADS="1")  # fmt: skip
    cli = str(Path(sys.executable).with_name("riskwatch"))
    proc = subprocess.Popen([cli, "serve", "--port", str(port), "--workers", "2"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
            assert proc.poll() is None, "the service exited during start-up"
        yield base, settings.home, usccs, proc.pid
    finally:
        proc.terminate()
        proc.wait(60)


def _token(base: str, user: str = "city") -> dict[str, str]:
    r = httpx.post(f"{base}/api/auth/token", data={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _open_files(pid: int) -> set[str]:
    try:
        return {str(fd.readlink()) for fd in Path(f"/proc/{pid}/fd").iterdir()}
    except OSError:  # gone meanwhile
        return set()


def _workers(base_pid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(base_pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


@pytest.mark.slow
def test_two_workers_share_the_rate_limit_and_see_a_new_run(
    served: tuple[str, Path, list[str], int],
) -> None:
    base, home, usccs, pid = served
    h = _token(base)
    # each request on a new connection: the kernel hands them to either worker
    got = [httpx.get(f"{base}/api/enterprises/{usccs[i]}", headers=h) for i in range(20)]
    assert {r.status_code for r in got} == {200}
    assert {r.json()["class"]["class"] for r in got} == {"B"}
    # both workers run, each with the copies attached read-only (the second may still be
    # starting: the first answers meanwhile)
    deadline, ready = time.monotonic() + 180, 0
    while ready < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        opened = [_open_files(w) for w in _workers(pid)]
        ready = sum(any("/serving/base_" in f for f in fds) for fds in opened)
    assert ready == 2
    # a classification run while serving: every worker answers with it at once (from
    # the class files until one of them has made the new copies)
    first = {p.stem for p in (home / "serving").glob("prf_*.duckdb")}
    write_classes(home, "2025-06", _classes(usccs, "2025-06", "D"), run_id="R2")
    got = [httpx.get(f"{base}/api/enterprises/{usccs[i]}", headers=h) for i in range(20)]
    assert {r.json()["class"]["class"] for r in got} == {"D"}
    page = httpx.get(f"{base}/api/enterprises?limit=5", headers=h).json()["items"]
    assert {i["class"] for i in page} == {"D"}
    deadline = time.monotonic() + 120  # the new copies appear, made once, and replace the old
    names: set[str] = set()
    while time.monotonic() < deadline:
        names = {p.stem for p in (home / "serving").glob("prf_*.duckdb")}
        if names and not names & first:
            break
        time.sleep(0.5)
    assert len(names) == 1 and not names & first, (first, names)
    got = [httpx.get(f"{base}/api/enterprises/{usccs[i]}", headers=h) for i in range(10)]
    assert {r.json()["class"]["class"] for r in got} == {"D"}
    # an upload through one worker: the other lets go of the warehouse for the load, and
    # both answer with the new record afterwards
    csv = (
        "决定书文号,统一社会信用代码,处罚决定日期,处罚机关,违法行为类型,处罚种类,罚没金额(万元)\n"
        f"郑工罚〔2025〕77号,{usccs[0]},2025-06-20,郑州市市场监督管理局,虚假宣传,罚款,3\n"
    )
    up = httpx.post(f"{base}/api/admin/uploads", headers=_token(base, "boss"), timeout=180,
                    files={"file": ("penalties.csv", csv.encode())})  # fmt: skip
    assert up.status_code == 200, up.text
    assert up.json()["tables"]["penalties"]["rows_loaded"] == 1
    for _ in range(10):
        got = httpx.get(f"{base}/api/enterprises/{usccs[0]}", headers=h, timeout=60)
        assert got.status_code == 200
        numbers = [p["decision_no"] for p in got.json()["records"]["penalties"]]
        assert "郑工罚〔2025〕77号" in numbers
    # and riskwatch ingest while the service runs, the same way
    city = home.parent / "more"
    city.mkdir()
    (city / "penalties.csv").write_text(csv.replace("77号", "78号"), encoding="utf-8")
    env = dict(os.environ, RISKWATCH_HOME=str(home), RISKWATCH_SECRET_KEY=SECRET)
    cli = str(Path(sys.executable).with_name("riskwatch"))
    done = subprocess.run([cli, "ingest", str(city)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    got = httpx.get(f"{base}/api/enterprises/{usccs[0]}", headers=h, timeout=60).json()
    assert "郑工罚〔2025〕78号" in [p["decision_no"] for p in got["records"]["penalties"]]


@pytest.mark.slow
def test_two_workers_count_one_rate_limit(served: tuple[str, Path, list[str], int]) -> None:
    """60 requests a minute for a user, whichever worker answers: a burst of 80 gets about
    60 through (plus what refills meanwhile), not 60 per worker."""
    base, home, usccs, _pid = served
    h = _token(base, "burst")
    started = time.monotonic()
    statuses = [
        httpx.get(f"{base}/api/enterprises/{usccs[0]}", headers=h).status_code for _ in range(80)
    ]
    elapsed = time.monotonic() - started
    assert set(statuses) == {200, 429}
    assert statuses.count(200) <= 60 + int(elapsed) + 1
    assert (home / "ratelimit.sqlite").exists()
