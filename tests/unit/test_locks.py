"""The cross-process lock: one holder at a time, across threads and processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

from riskwatch.store.locks import process_lock


def _hold(lock_path: str, log_path: str, n: int) -> None:
    for _ in range(n):
        with process_lock(Path(lock_path)), open(log_path, "a") as log:
            log.write(f"in {time.monotonic()}\n")
            log.flush()
            time.sleep(0.002)
            log.write(f"out {time.monotonic()}\n")


def test_holders_never_overlap(tmp_path: Path) -> None:
    """Two processes of two threads each: every hold ends before the next one starts."""
    lock, log = str(tmp_path / "x.lock"), str(tmp_path / "log")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hold, args=(lock, log, 20)) for _ in range(2)]
    threads = [threading.Thread(target=_hold, args=(lock, log, 20)) for _ in range(2)]
    for w in [*procs, *threads]:
        w.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join(60)
    events = [line.split() for line in Path(log).read_text().splitlines()]
    assert len(events) == 4 * 20 * 2
    # in, out, in, out … in the order written, each out after its in
    assert [kind for kind, _ in events] == ["in", "out"] * 80
    stamps = [float(t) for _, t in events]
    assert stamps == sorted(stamps)


def test_the_same_path_is_one_lock_in_a_process(tmp_path: Path) -> None:
    assert process_lock(tmp_path / "a") is process_lock(tmp_path / "a")
    assert process_lock(tmp_path / "a") is not process_lock(tmp_path / "b")
