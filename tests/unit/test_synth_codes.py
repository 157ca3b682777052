"""The synthetic city's identifiers agree with python-stdnum, and its date arithmetic holds."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from riskwatch.synth import world as w
from riskwatch.synth.codes import (
    RIC_CHECK,
    USCC_ALPHABET,
    corrupt_check,
    make_passports,
    make_resident_ids,
    make_usccs,
    to_fullwidth,
    uscc_check_values,
)
from riskwatch.synth.timeline import Timeline, add_months, day_number, to_date, yyyymm

DISTRICT_CODES = [d.code for d in w.DISTRICTS]


@settings(max_examples=50, deadline=None)
@given(
    serials=st.lists(st.integers(0, 7_000_000), min_size=1, max_size=50, unique=True),
    region=st.sampled_from(DISTRICT_CODES),
    type_char=st.sampled_from([1, 2, 3]),
    modern=st.booleans(),
)
def test_usccs_are_valid_and_distinct(
    serials: list[int], region: int, type_char: int, modern: bool
) -> None:
    s = np.array(serials, dtype=np.int64)
    codes = make_usccs(
        np.full(len(s), type_char), np.full(len(s), region), s, np.full(len(s), modern)
    )
    values = codes.to_pylist()
    assert all(uscc.is_valid(c) for c in values)
    assert all(c[2:8] == str(region) and c[1] == str(type_char) for c in values)
    assert len(set(values)) == len(values)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17).filter(lambda t: t[:8].isdigit()))
def test_check_character_matches_stdnum(body: str) -> None:
    values = np.array([[USCC_ALPHABET.index(c) for c in body]], dtype=np.int64)
    assert USCC_ALPHABET[int(uscc_check_values(values)[0])] == uscc.calc_check_digit(body)


def test_resident_ids_are_valid_and_a_bijection() -> None:
    people = np.arange(0, 3_000_000, 7, dtype=np.int64)
    ids = make_resident_ids(people).to_pylist()
    assert len(set(ids)) == len(ids)
    sample = ids[:: max(1, len(ids) // 20_000)]
    assert all(ric.is_valid(i) for i in sample)


def test_corrupted_checks_fail_validation() -> None:
    good_u = make_usccs(
        np.array([1]), np.array([410105]), np.array([42]), np.array([True])
    ).to_pylist()
    good_r = make_resident_ids(np.array([42, 4242])).to_pylist()
    assert not any(uscc.is_valid(c) for c in corrupt_check(good_u, USCC_ALPHABET))
    assert not any(ric.is_valid(c) for c in corrupt_check(good_r, RIC_CHECK))


def test_passports_do_not_look_like_resident_ids() -> None:
    for p in make_passports(np.arange(100, dtype=np.int64)).to_pylist():
        assert len(p) == 9 and p[0].isalpha() and p[1:].isdigit()


def test_fullwidth() -> None:
    assert to_fullwidth("88号(A座)3") == "８８号（Ａ座）３"


@settings(max_examples=100, deadline=None)
@given(st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31)), st.integers(0, 40))
def test_add_months_clamps_the_day(day: dt.date, months: int) -> None:
    out = to_date(int(add_months(np.array([day_number(day)]), months)[0]))
    total = day.year * 12 + day.month - 1 + months
    assert (out.year, out.month) == (total // 12, total % 12 + 1)
    assert out.day == day.day or out.day < day.day
    assert int(yyyymm(np.array([day_number(day)]))[0]) == day.year * 100 + day.month


def test_timeline_covers_history_and_future() -> None:
    tl = Timeline.build(dt.date(2025, 6, 30))
    assert to_date(tl.start) == dt.date(2020, 1, 1)
    assert to_date(int(tl.starts[tl.asof_month])) == dt.date(2025, 6, 1)
    assert to_date(tl.future_end) == dt.date(2025, 12, 30)
    assert tl.starts[-1] > tl.future_end
