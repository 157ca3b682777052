"""Dates as integer days since 1970-01-01 (Arrow date32), and the monthly grid of a city."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Int = npt.NDArray[np.int64]
EPOCH = dt.date(1970, 1, 1)
FUTURE_MONTHS = 6
HISTORY_YEARS = 5


def day_number(d: dt.date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def to_date(day: int) -> dt.date:
    """The date of a day number."""
    return EPOCH + dt.timedelta(days=int(day))


def add_months(days: Int, months: Int | int) -> Int:
    """Shift day numbers by whole months, clamping the day of month (31 Jan + 1 → 28/29 Feb)."""
    d = days.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    dom = (d - month).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    out = target.astype("datetime64[D]") + np.minimum(dom, length - 1).astype("timedelta64[D]")
    result: Int = out.astype(np.int64)
    return result


def year_of(days: Int) -> Int:
    """Calendar year of day numbers."""
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def yyyymm(days: Int) -> Int:
    """Year and month of day numbers as the integer YYYYMM."""
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return (months // 12 + 1970) * 100 + months % 12 + 1


@dataclass(frozen=True)
class Timeline:
    """The monthly grid from the start of the history to six months after as-of.

    Month ``m`` covers days ``[starts[m], starts[m + 1])``; months ``0 … asof_month`` are the
    history (the last one cut at as-of), the following ``FUTURE_MONTHS`` feed only ``truth/``.
    """

    as_of: int
    start: int
    starts: Int
    asof_month: int

    @classmethod
    def build(cls, as_of: dt.date) -> Timeline:
        start = dt.date(as_of.year - HISTORY_YEARS, 1, 1)
        first = np.datetime64(start, "M")
        last = np.datetime64(as_of, "M") + FUTURE_MONTHS + 2
        months = np.arange(first, last, dtype="datetime64[M]")
        starts = months.astype("datetime64[D]").astype(np.int64)
        asof_month = int((np.datetime64(as_of, "M") - first).astype(np.int64))
        return cls(day_number(as_of), day_number(start), starts, asof_month)

    @property
    def n_months(self) -> int:
        """Months in the grid (history and future)."""
        return len(self.starts) - 1

    @property
    def history_months(self) -> int:
        """Months up to and including the as-of month."""
        return self.asof_month + 1

    @property
    def future_end(self) -> int:
        """The last day of the truth window (as-of + 6 months)."""
        return int(add_months(np.array([self.as_of]), FUTURE_MONTHS)[0])

    def month_of(self, days: Int) -> Int:
        """Grid month of day numbers (clipped to the grid)."""
        m = np.searchsorted(self.starts, days, side="right") - 1
        return np.clip(m, 0, self.n_months - 1)

    def day_in_month(self, months: Int, u: npt.NDArray[np.float64]) -> Int:
        """A day within each month, placed by ``u`` in [0, 1)."""
        length = self.starts[months + 1] - self.starts[months]
        return self.starts[months] + (u * length).astype(np.int64)
