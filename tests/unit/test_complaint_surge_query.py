"""The complaint-surge query: ratio to the own baseline, ratio to peers, Poisson tail."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest
from scipy.stats import poisson

from riskwatch.store.alerts import queries as q

AS_OF = dt.date(2025, 6, 30)
PARAMS = {"min_count": 5, "own_ratio": 3.0, "peer_ratio": 5.0, "max_p": 0.002}


def _warehouse(
    history: dict[str, tuple[int, int]], quiet_peers: int = 40
) -> duckdb.DuckDBPyConnection:
    """Enterprises of one industry group with ``(recent, before)`` complaint counts."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE enterprises (uscc VARCHAR, region_code VARCHAR, industry_code VARCHAR,"
        " established_on DATE, deregistered_on DATE, status VARCHAR)"
    )
    con.execute("CREATE TABLE complaints (complaint_id VARCHAR, uscc VARCHAR, received_on DATE)")
    firms = {**history, **{f"P{i:03d}": (0, 0) for i in range(quiet_peers)}}
    n = 0
    for uscc, (recent, before) in firms.items():
        con.execute(
            "INSERT INTO enterprises VALUES "
            "(?, '410102', 'F5211', DATE '2015-01-01', NULL, '存续')",
            [uscc],
        )
        days = [i % 30 for i in range(recent)] + [
            40 + i * 300 // max(before, 1) for i in range(before)
        ]
        for d in days:
            n += 1
            con.execute(
                "INSERT INTO complaints VALUES (?, ?, ?)",
                [f"TS{n:06d}", uscc, AS_OF - dt.timedelta(days=d)],
            )
    return con


def _hits(con: duckdb.DuckDBPyConnection, **over: float) -> dict[str, dict[str, object]]:
    table = q.run(con, q.finish(q.complaint_surge(30, 365)), AS_OF, **{**PARAMS, **over})
    return {
        u: json.loads(e)
        for u, e in zip(table["uscc"].to_pylist(), table["evidence"].to_pylist(), strict=True)
    }


def test_a_jump_far_above_a_steady_baseline_is_a_surge() -> None:
    # 12 a month for a year at about one a month: p ≈ 1e-9
    hits = _hits(_warehouse({"SURGE": (12, 12)}))
    assert set(hits) == {"SURGE"}
    ev = hits["SURGE"]
    assert ev["complaints"] == 12
    assert ev["baseline_per_window"] == pytest.approx(12 * 30 / 365, abs=0.01)
    assert ev["poisson_p"] == pytest.approx(poisson.sf(11, 12 * 30 / 365), rel=1e-6)
    assert len(ev["complaint_ids"]) == 12


def test_a_ratio_on_a_small_baseline_alone_is_not_a_surge() -> None:
    # 6 against 1.9 a month is 3.2 times the baseline, but P(X >= 6 | 1.9) ≈ 0.013
    assert _hits(_warehouse({"NOISY": (6, 23)})) == {}
    # the same firm with a ten-fold jump is flagged
    assert set(_hits(_warehouse({"NOISY": (19, 23)}))) == {"NOISY"}


def test_a_firm_always_complained_about_is_not_a_surge() -> None:
    # steady 10 a month: the last month is its normal
    assert _hits(_warehouse({"BUSY": (10, 120)})) == {}


def test_below_the_minimum_count_nothing_fires() -> None:
    assert _hits(_warehouse({"NEW": (4, 0)})) == {}
    assert set(_hits(_warehouse({"NEW": (5, 0)}))) == {"NEW"}


def test_the_p_value_threshold_is_applied() -> None:
    con = _warehouse({"EDGE": (8, 16)})  # P(X >= 8 | 1.32) ≈ 7e-5
    assert set(_hits(con)) == {"EDGE"}
    assert _hits(con, max_p=5e-5) == {}


def test_peers_with_many_complaints_raise_the_bar() -> None:
    busy_peers = {f"B{i}": (3, 36) for i in range(10)}
    # own baseline 0, but peers get 3 a month on average: 8 is not five times that
    assert "NEW" not in _hits(_warehouse({"NEW": (8, 0), **busy_peers}, quiet_peers=0))
