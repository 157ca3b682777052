"""Labels: spot-check outcomes joined point-in-time to the indicators.

An inspection on day *d* is joined to the snapshot of the month end before *d* (everything
known then, nothing after). Results that say nothing about compliance (deregistered, no such
business, closed) are not labels. Weights are ``1 / inclusion_probability`` where the draw's
probability is known (a platform draw, risk-stratified or uniform); other kinds get the
configured assumed probability, or are left out when it is ``None``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.domain import is_problem_result
from riskwatch.errors import InputError, NotFoundError
from riskwatch.indicators import load_snapshot
from riskwatch.scoring.config import Training
from riskwatch.store import snapshots
from riskwatch.store.engines import duckdb_session

INSPECTION_COLUMNS = ("uscc", "task_id", "inspected_on", "kind", "result", "inclusion_probability")


def month_add(month: str, k: int) -> str:
    """``YYYY-MM`` shifted by ``k`` months."""
    y, m = int(month[:4]), int(month[5:7])
    i = y * 12 + (m - 1) + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def read_inspections(warehouse: Path) -> pa.Table:
    """Every inspection in the warehouse (contract columns the labels need)."""
    with duckdb_session(warehouse) as s:
        t = s.tables["inspections"]
        return s.to_pyarrow(t.select(*INSPECTION_COLUMNS))


def label_rows(
    inspections: pa.Table, training: Training, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Inspections in ``[start, end]`` usable as labels, with ``y``, ``weight`` and ``month``.

    ``month`` is the month of the snapshot each inspection is joined to (the month before).
    """
    df = inspections.to_pandas(date_as_object=False)
    if df.empty:
        empty: pd.DataFrame = df.assign(y=[], weight=[], month=[])
        return empty
    day = pd.to_datetime(df["inspected_on"])
    keep = (day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))
    keep &= ~df["result"].isin(training.exclude_results) & df["result"].notna()
    df = df[keep].copy()
    day = pd.to_datetime(df["inspected_on"])
    df["y"] = df["result"].map(is_problem_result).astype(np.int64)
    p = pd.to_numeric(df["inclusion_probability"], errors="coerce")
    if training.unknown_inclusion_probability is None:
        df = df[p.notna()]
        p = p[p.notna()]
        day = day[df.index]
    else:
        p = p.fillna(training.unknown_inclusion_probability)
    df["weight"] = 1.0 / np.clip(p.to_numpy(np.float64), 1e-4, 1.0)
    prev = day - pd.offsets.MonthEnd(1)
    df["month"] = prev.dt.strftime("%Y-%m")
    out: pd.DataFrame = df.reset_index(drop=True)
    return out


@dataclass
class LabelledSet:
    """Labelled rows: indicator values at the month end before each inspection."""

    frame: pd.DataFrame
    months: list[str]

    @property
    def size(self) -> int:
        return len(self.frame)


def labelled_set(
    home: Path,
    inspections: pa.Table,
    training: Training,
    as_of: dt.date,
    ensure_months: Callable[[list[str]], None] | None = None,
    catalogue_fingerprint: str | None = None,
) -> LabelledSet:
    """Labels from the ``history_months`` before ``as_of`` joined point-in-time.

    Parameters
    ----------
    home
        ``$RISKWATCH_HOME`` (indicator snapshots).
    inspections
        The inspections table (:func:`read_inspections`).
    training
        Label and weight settings.
    as_of
        Only inspections on or before this day are used.
    ensure_months
        Called with the snapshot months that are missing (e.g. to compute them).
    catalogue_fingerprint
        When given, snapshots of another catalogue count as missing (stale).

    Raises
    ------
    InputError
        If no usable inspection falls in the window.
    """
    first = month_add(f"{as_of:%Y-%m}", -training.history_months + 1)
    start = dt.date(int(first[:4]), int(first[5:7]), 1)
    rows = label_rows(inspections, training, start, as_of)
    if rows.empty:
        raise InputError(f"no spot-check results between {start} and {as_of} to train on")
    months = sorted(rows["month"].unique())
    have = set(snapshots.list_months(home, catalogue_fingerprint))
    missing = [m for m in months if m not in have]
    if missing and ensure_months is not None:
        ensure_months(missing)
        have = set(snapshots.list_months(home, catalogue_fingerprint))
    parts = []
    by_month = rows.groupby("month")["uscc"].unique()
    for m in months:
        if m not in have:
            continue
        try:
            snap = load_snapshot(home, m)
        except NotFoundError:
            continue
        # only that month's inspected enterprises: the union over all months would keep most
        # of every snapshot (at 1 M enterprises, 24 months of them did not fit in memory)
        ids = pc.is_in(snap.column("uscc"), value_set=pa.array(by_month[m]))
        parts.append(snap.filter(ids).to_pandas(date_as_object=False))
        del snap
    if not parts:
        raise InputError("no indicator snapshots for the inspection months; run indicators first")
    snap_df = pd.concat(parts, ignore_index=True).drop(columns=["as_of"], errors="ignore")
    joined = rows.drop(columns=["inclusion_probability"]).merge(
        snap_df, on=["uscc", "month"], how="inner"
    )
    joined = joined.sort_values(["inspected_on", "uscc"], kind="stable").reset_index(drop=True)
    return LabelledSet(joined, months)


def temporal_split(data: LabelledSet, as_of: dt.date, validation_months: int) -> np.ndarray:
    """True for rows in the validation window (the last months before ``as_of``)."""
    first = month_add(f"{as_of:%Y-%m}", -validation_months + 1)
    cut = pd.Timestamp(dt.date(int(first[:4]), int(first[5:7]), 1))
    out: np.ndarray = (pd.to_datetime(data.frame["inspected_on"]) >= cut).to_numpy()
    return out
