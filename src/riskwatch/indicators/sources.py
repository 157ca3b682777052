"""Source relations for the compiler: warehouse tables with dates as day numbers.

Every DATE column is turned into an integer day number (days since 1970-01-01) once, here,
so that windows and in-force rules are exact integer comparisons on every engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir

from riskwatch.indicators.catalogue import Catalogue, Condition
from riskwatch.indicators.templates import ATTRIBUTE_TEMPLATES, EVENT_TEMPLATES, IN_FORCE_RULES
from riskwatch.ingest.contract import TABLES, Kind

EPOCH = ibis.date(1970, 1, 1)
ENTERPRISE_COLUMNS = (
    "uscc",
    "established_on",
    "deregistered_on",
    "entity_type",
    "registered_capital",
    "region_code",
    "industry_code",
    "address",
    "legal_rep_id",
)
"""The enterprise columns the engine reads (current version of each enterprise)."""


def day_number(col: ir.Value) -> ir.IntegerValue:
    """A DATE column as days since 1970-01-01 (null stays null)."""
    return col.delta(EPOCH, unit="day")


def _with_days(t: ir.Table, kinds: Mapping[str, Kind], columns: Sequence[str]) -> ir.Table:
    cols = {c: day_number(t[c]) if kinds[c] is Kind.DATE else t[c] for c in columns}
    return t.select(**cols)


def needed_columns(catalogue: Catalogue) -> dict[str, list[str]]:
    """For each source the catalogue reads, the columns it needs (uscc first)."""
    need: dict[str, list[str]] = {}
    for ind in catalogue.enabled():
        if ind.source is None or (
            ind.template not in EVENT_TEMPLATES and ind.template not in ATTRIBUTE_TEMPLATES
        ):
            continue
        cols = need.setdefault(ind.source, ["uscc"])
        used = [ind.known_on, ind.anchor, ind.until, ind.value]
        used += [c.column for c in (*ind.where, *ind.flag)]
        used += list(IN_FORCE_RULES[ind.in_force].needs)
        for c in used:
            if c is not None and c not in cols:
                cols.append(c)
    if any(i.link == "shareholder" for i in catalogue.enabled()):
        cols = need.setdefault("investments", ["uscc"])
        for c in ("holder_id", "since"):
            if c not in cols:
                cols.append(c)
    return need


def prepare_sources(
    catalogue: Catalogue, tables: Mapping[str, ir.Table], grid_days: Sequence[int]
) -> dict[str, ir.Table]:
    """The relations the compiler reads, dates as day numbers, only the needed columns.

    Parameters
    ----------
    catalogue
        The validated catalogue.
    tables
        Warehouse tables by contract name (Ibis tables on one backend).
    grid_days
        The as-of dates of the batch as day numbers (sorted).

    Returns
    -------
    dict
        ``enterprises`` plus every source (real or virtual) the catalogue uses.
    """
    out: dict[str, ir.Table] = {}
    ent_kinds = {c.name: c.kind for c in TABLES["enterprises"].columns}
    out["enterprises"] = _with_days(tables["enterprises"], ent_kinds, ENTERPRISE_COLUMNS)
    for source, cols in needed_columns(catalogue).items():
        if source == "enterprises":
            continue
        if source == "annual_report_years":
            out[source] = _annual_report_years(tables, grid_days)
            continue
        kinds = {c.name: c.kind for c in TABLES[source].columns}
        out[source] = _with_days(tables[source], kinds, cols)
    return out


def _annual_report_years(tables: Mapping[str, ir.Table], grid_days: Sequence[int]) -> ir.Table:
    """Report rows plus one row per (enterprise, year due) without a report.

    A report for year *y* is due by 30 June of *y* + 1, for every year after the year of
    establishment. Missing years are generated back to four years before the first as-of
    (the longest look-back of the catalogue's report indicators), so the rows an as-of sees
    do not depend on the batch it is computed in.
    """
    ent = tables["enterprises"]
    reports = tables["annual_reports"]
    first_year = _year_of(min(grid_days)) - 6
    last_year = _year_of(max(grid_days)) + 1
    years = ibis.memtable({"year": list(range(first_year, last_year + 1))})
    # rows overdue more than 3 years before the first as-of never count (longest look-back)
    first_due = min(grid_days) - 3 * 365 - 5
    expected = (
        ent.select("uscc", est_year=ent.established_on.year())
        .cross_join(years)
        .filter(lambda t: t.year > t.est_year)
        .select("uscc", "year")
    )
    expected = expected.mutate(due_on=day_number(ibis.date(expected.year + 1, 6, 30)))
    expected = expected.filter((expected.due_on >= first_due) & (expected.due_on < max(grid_days)))
    missing = expected.anti_join(reports, ["uscc", "year"]).select(
        "uscc",
        "year",
        "due_on",
        submitted_on=ibis.null("int64"),
        corrected=ibis.literal(False),
    )
    filed = reports.select(
        "uscc",
        year=reports.year.cast("int64"),
        due_on=day_number(ibis.date(reports.year + 1, 6, 30)),
        submitted_on=day_number(reports.submitted_on),
        corrected=reports.corrected.fill_null(False),
    )
    rows = filed.union(missing.mutate(year=missing.year.cast("int64")))
    return rows.mutate(
        overdue_from=rows.due_on + 1,
        superseded_on=day_number(ibis.date(rows.year + 2, 7, 1)),
        superseded2_on=day_number(ibis.date(rows.year + 3, 7, 1)),
        superseded3_on=day_number(ibis.date(rows.year + 4, 7, 1)),
        filed_late=(rows.submitted_on > rows.due_on).fill_null(False),
    )


def _year_of(day: int) -> int:
    """The (proleptic Gregorian) year of a day number, to within a year: enough for ranges."""
    return 1970 + day * 400 // 146097


def condition(t: ir.Table, c: Condition) -> ir.BooleanValue:
    """One catalogue condition as a boolean expression (null counts as false)."""
    col = t[c.column]
    vals = list(c.values)
    expr: ir.BooleanValue
    if c.op == "eq":
        expr = col == vals[0]
    elif c.op == "ne":
        expr = col != vals[0]
    elif c.op == "in":
        expr = col.isin(vals)
    elif c.op == "not_in":
        expr = ~col.isin(vals)
    elif c.op == "is_null":
        return col.isnull()
    elif c.op == "not_null":
        return col.notnull()
    elif c.op == "contains_any":
        parts = [col.contains(v) for v in vals]
        expr = parts[0]
        for p in parts[1:]:
            expr = expr | p
    elif c.op == "lt":
        expr = col < vals[0]
    else:  # "ge"
        expr = col >= vals[0]
    return expr.fill_null(False)


def conditions(t: ir.Table, conds: Sequence[Condition]) -> ir.BooleanValue:
    """The AND of several conditions (true when there are none)."""
    expr: ir.BooleanValue = ibis.literal(True)
    for c in conds:
        expr = expr & condition(t, c)
    return expr
