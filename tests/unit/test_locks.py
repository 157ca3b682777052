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


def test_a_load_waits_until_the_readers_let_go(tmp_path: Path) -> None:
    """The gate's writer side takes the warehouse only once every reader has released it
    (flocks of two open files conflict within one process as between processes)."""
    from riskwatch.store.locks import WarehouseGate

    reader = WarehouseGate(tmp_path)
    assert reader.hold(1)
    got: list[float] = []

    def load() -> None:
        with WarehouseGate(tmp_path).writing(10):
            got.append(time.monotonic())

    writer = threading.Thread(target=load)
    writer.start()
    time.sleep(0.3)
    assert not got and reader.notice.exists()  # announced, waiting
    released = time.monotonic()
    reader.release()
    writer.join(10)
    assert got and got[0] >= released
    assert not reader.notice.exists()  # withdrawn after the load
    assert reader.hold(1)  # readers open again
    reader.release()


def test_a_load_that_cannot_get_the_warehouse_says_why(tmp_path: Path) -> None:
    import pytest

    from riskwatch.errors import StoreError
    from riskwatch.store.locks import WarehouseGate

    reader = WarehouseGate(tmp_path)
    assert reader.hold(1)
    with pytest.raises(StoreError, match="another process still has it open"):  # noqa: SIM117
        with WarehouseGate(tmp_path).writing(0.2):
            pass
    assert not reader.notice.exists()  # nothing left behind
    reader.release()


def test_readers_see_a_live_writer_and_ignore_a_dead_one(tmp_path: Path) -> None:
    import subprocess
    import sys

    from riskwatch.store.locks import WarehouseGate

    gate = WarehouseGate(tmp_path)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        gate.notice.write_text(str(live.pid))
        assert gate.writer_waiting()
    finally:
        live.kill()
        live.wait()
    assert not gate.writer_waiting()  # the writer died: its notice holds no one back
    import os

    gate.notice.write_text(str(os.getpid()))
    assert not gate.writer_waiting()  # this process's own load


def test_a_read_waits_for_a_running_load_and_a_load_for_a_read(tmp_path: Path) -> None:
    from riskwatch.store.locks import WarehouseGate

    order: list[str] = []

    def load(hold: float) -> None:
        with WarehouseGate(tmp_path).writing(10):
            order.append("load in")
            time.sleep(hold)
            order.append("load out")

    writer = threading.Thread(target=load, args=(0.5,))
    writer.start()
    time.sleep(0.1)
    with WarehouseGate(tmp_path).reading(10):
        order.append("read")
    writer.join(10)
    assert order == ["load in", "load out", "read"]

    order.clear()
    with WarehouseGate(tmp_path).reading(10):
        writer = threading.Thread(target=load, args=(0,))
        writer.start()
        time.sleep(0.4)
        order.append("read done")
    writer.join(10)
    assert order == ["read done", "load in", "load out"]


def test_a_read_lets_an_announced_load_go_first_and_gives_up_on_a_long_one(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    import pytest

    from riskwatch.errors import StoreError
    from riskwatch.store.locks import WarehouseGate

    gate = WarehouseGate(tmp_path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        gate.notice.write_text(str(other.pid))  # another process announced a load
        t0 = time.monotonic()
        with gate.reading(0.6):
            waited = time.monotonic() - t0
        assert waited >= 0.6  # it waited for the load, which never took the warehouse
        # a service worker's request does not wait: the load is waiting for the worker
        worker = WarehouseGate(tmp_path)
        assert worker.hold(1)
        t0 = time.monotonic()
        with gate.reading(5):
            assert time.monotonic() - t0 < 0.5
        worker.release()
    finally:
        other.kill()
        other.wait()
    gate.notice.unlink()

    holding = threading.Event()
    done = threading.Event()

    def load() -> None:
        with WarehouseGate(tmp_path).writing(10):
            holding.set()
            done.wait(10)

    writer = threading.Thread(target=load)
    writer.start()
    assert holding.wait(10)
    with pytest.raises(StoreError, match="a load has been writing it"):  # noqa: SIM117
        with gate.reading(0.3):
            pass
    done.set()
    writer.join(10)


def test_opening_the_warehouse_to_read_waits_for_a_load(tmp_path: Path) -> None:
    """Without the gate, DuckDB refuses a read-only open while the file is open to write."""
    from riskwatch.store.warehouse import open_warehouse

    path = tmp_path / "warehouse.duckdb"
    with open_warehouse(path) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    inside = threading.Event()

    def load() -> None:
        with open_warehouse(path) as con:
            inside.set()
            time.sleep(0.5)
            con.execute("INSERT INTO t VALUES (1)")

    writer = threading.Thread(target=load)
    writer.start()
    assert inside.wait(10)
    with open_warehouse(path, read_only=True) as ro:
        assert ro.execute("SELECT count(*) FROM t").fetchone() == (1,)
    writer.join(10)
