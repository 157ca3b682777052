"""The case workflow (闭环管理) as data: states, the transition table, working-day deadlines.

::

    待分派 ──assign──▶ 已分派 ──start──▶ 核查中 ──dispose──▶ 已处置 ──close──▶ 已办结
      ▲                  │                 │  ▲                 │
      └─────return───────┘                 │  └─────return──────┘
                                           └──false_positive──▶ 误报
    (已分派 ──false_positive──▶ 误报 as well: a clerk may see at once it is wrong)

Nothing outside :data:`TRANSITIONS` is allowed.  ``dispose`` needs at least one action
from :data:`ACTIONS`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import chinese_calendar


class CaseState(StrEnum):
    """States of a case."""

    PENDING = "待分派"
    ASSIGNED = "已分派"
    VERIFYING = "核查中"
    DISPOSED = "已处置"
    CLOSED = "已办结"
    FALSE_POSITIVE = "误报"


TERMINAL: frozenset[CaseState] = frozenset({CaseState.CLOSED, CaseState.FALSE_POSITIVE})

TRANSITIONS: dict[tuple[CaseState, str], CaseState] = {
    (CaseState.PENDING, "assign"): CaseState.ASSIGNED,
    (CaseState.ASSIGNED, "assign"): CaseState.ASSIGNED,  # reassign to someone else
    (CaseState.ASSIGNED, "start"): CaseState.VERIFYING,
    (CaseState.ASSIGNED, "return"): CaseState.PENDING,  # 退回: not ours, route again
    (CaseState.ASSIGNED, "false_positive"): CaseState.FALSE_POSITIVE,
    (CaseState.VERIFYING, "dispose"): CaseState.DISPOSED,
    (CaseState.VERIFYING, "false_positive"): CaseState.FALSE_POSITIVE,
    (CaseState.VERIFYING, "return"): CaseState.ASSIGNED,
    (CaseState.DISPOSED, "close"): CaseState.CLOSED,
    (CaseState.DISPOSED, "return"): CaseState.VERIFYING,  # 退回: handling not sufficient
}
"""(state, action) → next state: the only moves a case can make."""

ACTION_LABELS: dict[str, str] = {
    "assign": "分派",
    "start": "开始核查",
    "return": "退回",
    "dispose": "处置",
    "close": "办结",
    "false_positive": "误报",
    "escalate": "逾期升级",
    "open": "立案登记",
    "join": "并入预警",
}

ACTIONS: tuple[str, ...] = ("提醒", "警示", "约谈", "检查", "立案")
"""Handling measures recorded when a case is disposed."""

DEADLINE_WORKING_DAYS: dict[str, int] = {"high": 5, "medium": 10, "low": 20}
"""Default working days to close a case, by severity (config may override)."""

SEVERITIES: tuple[str, ...] = ("low", "medium", "high")


def next_state(state: CaseState | str, action: str) -> CaseState:
    """The state after ``action``, or ``ValueError`` if the table does not allow it."""
    target = TRANSITIONS.get((CaseState(state), action))
    if target is None:
        allowed = sorted(a for (s, a) in TRANSITIONS if s == CaseState(state))
        raise ValueError(
            f"'{action}' is not allowed from {CaseState(state).value}; allowed: "
            + (", ".join(allowed) or "none (the case is finished)")
        )
    return target


def is_workday(day: dt.date) -> bool:
    """Whether ``day`` is a working day (Chinese holidays and make-up days included)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # outside the calendar's years: weekdays only
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (start itself not counted)."""
    day = start
    left = days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in ``(start, end]`` (negative if end is before start)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(is_workday(start + dt.timedelta(days=i)) for i in range(1, (end - start).days + 1))


def max_severity(values: list[str]) -> str:
    """The most severe of several severities."""
    return max(values, key=SEVERITIES.index)
