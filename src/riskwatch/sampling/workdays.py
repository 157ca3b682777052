"""Working days on the Chinese calendar (public holidays and adjusted working days).

Backed by the maintained ``chinese_calendar`` package, which knows each year's State
Council holiday arrangement once it is announced. For a year it does not know yet, the
count falls back to Monday–Friday and says so (``exact`` is False), so a deadline is never
silently wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar


def is_working_day(day: dt.date) -> tuple[bool, bool]:
    """Whether ``day`` is a working day, and whether the calendar knew its year."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


@dataclass(frozen=True)
class Deadline:
    """A deadline counted in working days."""

    start: dt.date
    due: dt.date
    working_days: int
    exact: bool
    """False when part of the count fell in a year the holiday calendar does not cover."""


def add_working_days(start: dt.date, days: int) -> Deadline:
    """The date ``days`` working days after ``start`` (the start day itself not counted).

    Parameters
    ----------
    start
        The day the period starts from (e.g. the inspection date).
    days
        Working days allowed (20 for publishing inspection results).
    """
    day = start
    left = days
    exact = True
    while left > 0:
        day += dt.timedelta(days=1)
        working, known = is_working_day(day)
        exact = exact and known
        if working:
            left -= 1
    return Deadline(start, day, days, exact)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if end < start)."""
    if end < start:
        return -working_days_between(end, start)
    n = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day)[0]:
            n += 1
    return n
