"""Annual reports and the lists that follow from them: abnormal listings, serious violations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from riskwatch.ingest.contract import ABNORMAL_REASONS
from riskwatch.synth import world as w
from riskwatch.synth.enterprises import Chunk
from riskwatch.synth.rates import dates, draw_events, join, opt_dates, pick, take, z_at
from riskwatch.synth.timeline import Timeline, add_months, day_number, to_date

Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

REMOVAL_REASONS = (
    "补报未报年份的年度报告并公示",
    "依法办理住所或者经营场所变更登记",
    "更正其公示的信息",
    "公示相关即时信息",
)
SERIOUS_FROM_ABNORMAL = "被列入经营异常名录届满3年仍未履行相关义务"
SERIOUS_FROM_PENALTY = "因严重违法行为受到较重行政处罚"


def authority(ch: Chunk, rows: Int) -> pa.Array:
    """The district bureau that keeps an enterprise's records."""
    return join(
        w.CITY_NAME, take([d.name for d in w.DISTRICTS], ch.district[rows]), "市场监督管理局"
    )


def annual_reports(
    rng: np.random.Generator, ch: Chunk, tl: Timeline
) -> tuple[pa.Table, dict[str, npt.NDArray[Any]]]:
    """Annual reports, one per enterprise and year, and the listings for missed ones.

    Returns
    -------
    reports, listings
        The report table, and the abnormal listings (as column arrays) for reports not
        filed by 30 June of the following year.
    """
    first_year = to_date(tl.start).year - 1
    last_year = to_date(tl.as_of).year - 1
    cols: dict[str, list[npt.NDArray[np.generic]]] = {k: [] for k in ("row", "year", "sub", "has")}
    lst: dict[str, list[npt.NDArray[np.generic]]] = {k: [] for k in ("row", "on", "removed", "rm")}
    for year in range(first_year, last_year + 1):
        jan1 = day_number(dt.date(year + 1, 1, 1))
        deadline = day_number(dt.date(year + 1, 6, 30))
        rows = np.flatnonzero((ch.established < jan1) & (ch.end > jan1))
        zt = z_at(ch, tl, rows, np.full(len(rows), min(deadline, tl.as_of)))
        individual = ch.etype[rows] == w.T_INDIVIDUAL
        miss = rng.random(len(rows)) < w.sigmoid(-3.3 + 1.3 * zt + 0.4 * individual)
        on_time = jan1 + (181 * rng.random(len(rows)) ** np.exp(-0.4 * zt)).astype(np.int64)
        listed = deadline + rng.integers(10, 120, len(rows))
        late = rng.random(len(rows)) < w.sigmoid(0.3 - 1.0 * zt)
        late_day = listed + rng.integers(10, 500, len(rows))
        late_ok = late & (late_day <= tl.as_of) & (late_day < ch.end[rows])
        sub = np.where(miss, late_day, on_time)
        has = np.where(miss, late_ok, on_time <= tl.as_of)
        keep = has | (miss & (deadline <= tl.as_of))
        cols["row"].append(rows[keep])
        cols["year"].append(np.full(keep.sum(), year))
        cols["sub"].append(sub[keep])
        cols["has"].append(has[keep])
        put = miss & (listed <= tl.as_of) & (listed < ch.end[rows])
        removed = late_day + rng.integers(1, 20, len(rows))
        lst["row"].append(rows[put])
        lst["on"].append(listed[put])
        lst["removed"].append(removed[put])
        lst["rm"].append((late_ok & (removed <= tl.as_of))[put])
    row = np.concatenate(cols["row"]).astype(np.int64)
    order = np.argsort(row, kind="stable")
    row = row[order]
    year_arr = np.concatenate(cols["year"])[order]
    has = np.concatenate(cols["has"])[order].astype(bool)
    sub = np.concatenate(cols["sub"])[order]
    n = len(row)
    cap = np.maximum(ch.capital[row], 1.0)
    employees = np.maximum(0, np.round(rng.lognormal(np.log1p(cap / 30), 0.8))).astype(np.int64)
    revenue = np.round(cap * rng.lognormal(0.0, 1.0, n), 2)
    assets = np.round(cap * rng.lognormal(0.3, 0.7, n), 2)
    tax = np.round(revenue * rng.uniform(0.0, 0.06, n), 2)
    reports = pa.table(
        {
            "uscc": ch.uscc.take(pa.array(row)),
            "year": pa.array(year_arr.astype(np.int32)),
            "submitted_on": opt_dates(sub, has),
            "employees": pa.array(employees, mask=~has),
            "revenue": pa.array(revenue, mask=~has),
            "total_assets": pa.array(assets, mask=~has),
            "tax_paid": pa.array(tax, mask=~has),
            "corrected": pa.array(rng.random(n) < 0.03, mask=~has),
        }
    )
    listings = {
        "row": np.concatenate(lst["row"]).astype(np.int64),
        "on": np.concatenate(lst["on"]).astype(np.int64),
        "reason": np.zeros(sum(len(a) for a in lst["row"]), np.int64),
        "removed": np.concatenate(lst["removed"]).astype(np.int64),
        "rm": np.concatenate(lst["rm"]).astype(bool),
    }
    return reports, listings


def abnormal_and_serious(
    rng: np.random.Generator,
    ch: Chunk,
    tl: Timeline,
    missed: dict[str, npt.NDArray[Any]],
    penalised: tuple[Int, Int],
) -> tuple[pa.Table, pa.Table]:
    """Abnormal listings (missed reports and risk-driven reasons) and the serious list.

    ``penalised`` holds (enterprise, day) of heavy penalties that put an enterprise on the
    serious list directly.
    """
    rows, days = draw_events(rng, ch, tl, 0.0045, 1.2)
    zt = z_at(ch, tl, rows, days)
    reason = 1 + pick(rng, len(rows), (0.6, 0.15, 0.25))
    removed = days + rng.integers(30, 720, len(rows))
    rm = (rng.random(len(rows)) < w.sigmoid(0.2 - 0.9 * zt)) & (removed <= tl.as_of)
    rm &= removed < ch.end[rows]
    row = np.concatenate([np.asarray(missed["row"]), rows])
    on = np.concatenate([np.asarray(missed["on"]), days])
    reason = np.concatenate([np.asarray(missed["reason"]), reason])
    removed = np.concatenate([np.asarray(missed["removed"]), removed])
    rm = np.concatenate([np.asarray(missed["rm"]), rm]).astype(bool)
    _, first = np.unique(row * 2**24 + (on - tl.start + 4096), return_index=True)
    row, on, reason, removed, rm = row[first], on[first], reason[first], removed[first], rm[first]
    abnormal = pa.table(
        {
            "uscc": ch.uscc.take(pa.array(row)),
            "listed_on": dates(on),
            "reason": take(ABNORMAL_REASONS, reason),
            "authority": authority(ch, row),
            "removed_on": opt_dates(removed, rm),
            "removal_reason": pa.array(np.array(REMOVAL_REASONS)[reason], mask=~rm),
        }
    )
    # Three years on the abnormal list without removal moves an enterprise to the serious list.
    due = add_months(on, 36) + rng.integers(0, 20, len(on))
    moved = (~rm | (removed > due)) & (due <= tl.as_of) & (due < ch.end[row])
    # not every bureau acts on the three-year rule; it is applied to the worst cases first
    z_due = z_at(ch, tl, row, np.minimum(due, tl.as_of))
    moved &= rng.random(len(on)) < w.sigmoid(-7.0 + 2.6 * z_due)
    s_row = np.concatenate([row[moved], penalised[0]])
    s_on = np.concatenate([due[moved], penalised[1]])
    kind = np.concatenate([np.zeros(moved.sum(), np.int64), np.ones(len(penalised[0]), np.int64)])
    _, first = np.unique(s_row * 2**24 + (s_on - tl.start + 4096), return_index=True)
    s_row, s_on, kind = s_row[first], s_on[first], kind[first]
    s_removed = s_on + rng.integers(365, 900, len(s_on))
    s_rm = (rng.random(len(s_on)) < 0.15) & (s_removed <= tl.as_of)
    serious = pa.table(
        {
            "uscc": ch.uscc.take(pa.array(s_row)),
            "listed_on": dates(s_on),
            "reason": take((SERIOUS_FROM_ABNORMAL, SERIOUS_FROM_PENALTY), kind),
            "removed_on": opt_dates(s_removed, s_rm),
        }
    )
    return abnormal, serious
