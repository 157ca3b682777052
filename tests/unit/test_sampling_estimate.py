"""Discovery rates, the Horvitz–Thompson estimate, and working-day deadlines."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskwatch.sampling import add_working_days, estimate, working_days_between

OK, BAD, GONE = "未发现问题", "发现问题已责令改正", "企业已注销"


def test_rates_per_class_and_a_hand_computed_estimate() -> None:
    strata = {"A": (1000, 10), "B": (500, 15), "C": (100, 10), "D": (20, 6)}
    results = (
        [("A", OK)] * 10
        + [("B", BAD)] * 3 + [("B", OK)] * 11 + [("B", None)]
        + [("C", BAD)] * 5 + [("C", OK)] * 4 + [("C", GONE)]
        + [("D", BAD)] * 6
    )  # fmt: skip
    est = estimate(results, strata)
    rates = {c.cls: c for c in est.by_class}
    assert rates["A"].discovery_rate == 0
    assert rates["B"].responses == 14 and rates["B"].problems == 3
    assert rates["C"].responses == 9  # 企业已注销 is not a response
    assert rates["D"].discovery_rate == 1
    # Ŷ = Σ y/π with π = r_h/N_h: 0 + 3·500/14 + 5·100/9 + 6·20/6
    total = 3 * 500 / 14 + 5 * 100 / 9 + 20
    assert est.total == pytest.approx(total)
    assert est.rate == pytest.approx(total / 1620)
    assert est.low is not None and est.high is not None and est.rate is not None
    assert 0 <= est.low < est.rate < est.high <= 1


@given(
    n=st.integers(2, 500),
    k=st.integers(2, 50),
    problems=st.integers(0, 50),
)
def test_a_single_stratum_estimate_is_the_sample_rate(n: int, k: int, problems: int) -> None:
    k = min(k, n)
    problems = min(problems, k)
    results = [("B", BAD)] * problems + [("B", OK)] * (k - problems)
    est = estimate(results, {"B": (n, k)})
    assert est.rate == pytest.approx(problems / k)
    assert est.low is not None and est.high is not None and est.rate is not None
    assert est.low <= est.rate <= est.high
    if k == n:  # a census has no sampling error
        assert est.high - est.low == pytest.approx(0, abs=1e-12)


def test_no_results_no_estimate() -> None:
    est = estimate([("A", None)], {"A": (10, 1)})
    assert est.rate is None and est.covered_population == 0


def test_twenty_working_days_skip_the_national_day_holiday_and_count_adjusted_days() -> None:
    # 2025: 1–8 October off; Sunday 28 September and Saturday 11 October are working days.
    d = add_working_days(dt.date(2025, 9, 26), 20)
    assert d.exact
    assert d.due == dt.date(2025, 10, 30)
    assert working_days_between(dt.date(2025, 9, 26), d.due) == 20
    assert working_days_between(d.due, dt.date(2025, 9, 26)) == -20
    assert add_working_days(dt.date(2025, 9, 27), 1).due == dt.date(2025, 9, 28)


def test_a_year_the_calendar_does_not_know_falls_back_to_weekdays_and_says_so() -> None:
    d = add_working_days(dt.date(2099, 3, 6), 5)  # a Friday
    assert not d.exact
    assert d.due == dt.date(2099, 3, 13)
