"""The case state machine and working-day deadlines."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskwatch.alerts.workflow import (
    TERMINAL,
    TRANSITIONS,
    CaseState,
    add_working_days,
    is_workday,
    next_state,
    working_days_between,
)


def test_every_state_is_reachable_and_terminal_states_are_final() -> None:
    seen = {CaseState.PENDING}
    frontier = [CaseState.PENDING]
    while frontier:
        state = frontier.pop()
        for (src, _action), dst in TRANSITIONS.items():
            if src == state and dst not in seen:
                seen.add(dst)
                frontier.append(dst)
    assert seen == set(CaseState)
    assert not [k for k in TRANSITIONS if k[0] in TERMINAL]


def test_the_happy_path_and_the_return_paths() -> None:
    state = CaseState.PENDING
    for action in ("assign", "start", "dispose", "return", "dispose", "close"):
        state = next_state(state, action)
    assert state == CaseState.CLOSED
    assert next_state(CaseState.ASSIGNED, "return") == CaseState.PENDING
    assert next_state(CaseState.VERIFYING, "false_positive") == CaseState.FALSE_POSITIVE


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("待分派", "close"),
        ("待分派", "dispose"),
        ("已办结", "return"),
        ("误报", "assign"),
        ("核查中", "fly"),
    ],
)
def test_transitions_outside_the_table_are_refused(state: str, action: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        next_state(state, action)


def test_deadlines_skip_holidays_and_count_make_up_days() -> None:
    # National Day 2025: 1–8 October off; Sunday 28 September and Saturday 11 October worked.
    assert add_working_days(dt.date(2025, 9, 30), 1) == dt.date(2025, 10, 9)
    assert is_workday(dt.date(2025, 9, 28)) and is_workday(dt.date(2025, 10, 11))
    assert add_working_days(dt.date(2025, 6, 30), 5) == dt.date(2025, 7, 7)
    # Beyond the calendar's years it falls back to Monday–Friday.
    assert add_working_days(dt.date(2031, 1, 3), 1) == dt.date(2031, 1, 6)


@given(st.dates(dt.date(2015, 1, 1), dt.date(2026, 11, 30)), st.integers(0, 40))
def test_working_days_round_trip(start: dt.date, days: int) -> None:
    end = add_working_days(start, days)
    assert working_days_between(start, end) == days
    assert days == 0 or is_workday(end)
