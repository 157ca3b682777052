"""Closed lookup tables: aggregation templates, in-force rules and virtual sources.

The catalogue may only name what is listed here; nothing is evaluated. Every date is handled
as an integer day number (days since 1970-01-01) so that both engines do exact integer
arithmetic: a year is 365 days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir

from riskwatch.ingest.contract import TABLES, Kind

Template = Literal[
    "count",
    "exists",
    "sum",
    "distinct",
    "max_level",
    "days_since_last",
    "last_flag",
    "age_years",
    "attribute",
    "attribute_flag",
    "peer_count",
    "peer_share",
    "ratio",
    "growth",
    "consecutive",
    "previous_month",
    "previous_month_flag",
]

EVENT_TEMPLATES: frozenset[str] = frozenset(
    {"count", "exists", "sum", "distinct", "max_level", "days_since_last", "last_flag"}
)
"""Aggregations over dated records, computed per enterprise at each as-of date."""
ATTRIBUTE_TEMPLATES: frozenset[str] = frozenset({"age_years", "attribute", "attribute_flag"})
"""Values read from the enterprise's own (current) registration record."""
PEER_TEMPLATES: frozenset[str] = frozenset({"peer_count", "peer_share"})
"""Related-party aggregations over enterprises sharing an address, a legal rep or a holder."""
DERIVED_TEMPLATES: frozenset[str] = frozenset({"ratio", "growth", "consecutive"})
"""Functions of indicators declared earlier in the catalogue."""
PUBLISHED_TEMPLATES: frozenset[str] = frozenset({"previous_month", "previous_month_flag"})
"""Values of riskwatch's own published results (classes, graph) of the month before as-of."""

TEMPLATE_DOCS: dict[str, str] = {
    "count": "number of matching records known by as-of, in the window, in force",
    "exists": "1 if at least one matching record counts at as-of, else 0",
    "sum": "sum of `value` over the records that count (amounts in 万元)",
    "distinct": "number of distinct `values` of `value` among the records that count",
    "max_level": "highest level (per `levels`) among the records that count, 0 if none",
    "days_since_last": "days from the latest matching record known by as-of to as-of",
    "last_flag": "1 if the latest record known by as-of matches `flag`, else 0",
    "age_years": "whole years since the knowledge date (365-day years)",
    "attribute": "the current value of `value` in the enterprise record",
    "attribute_flag": "1 if the enterprise record matches `where`, else 0",
    "peer_count": "number of other enterprises alive at as-of sharing the link",
    "peer_share": "share of those linked enterprises whose `of` indicator is positive",
    "ratio": "first / second (4 decimals; missing if second is 0)",
    "growth": "(short + 1) / (rate of the rest of the long window over the short one + 1)",
    "consecutive": "a + a*b + a*b*c …: the run of positive flags from the first one",
    "previous_month": "`value` of the enterprise in the result published for the month before"
    " as-of's month (missing if that month was not published or the enterprise is not in it)",
    "previous_month_flag": "1 if the enterprise's row in the result published for the month"
    " before as-of's month matches `where`, 0 if it does not, missing if there is no such row",
}
"""One line per template, rendered into docs/indicators.md."""

NEVER = 10_000_000
"""A day number after every real date (year ≈ 29349): an open-ended interval's end."""


@dataclass(frozen=True)
class InForceRule:
    """How long a record counts: its end day (exclusive) from the source row."""

    description: str
    needs: tuple[str, ...]
    end: Callable[[ir.Table, int], ir.IntegerValue | None]


def _removed(t: ir.Table, _d: int) -> ir.IntegerValue:
    return ibis.coalesce(t.removed_on, NEVER)


def _publicity(t: ir.Table, default_days: int) -> ir.IntegerValue:
    publicity_end = ibis.coalesce(t.publicity_until + 1, t.decided_on + default_days)
    return ibis.least(publicity_end, ibis.coalesce(t.repaired_on, NEVER))


def _open(t: ir.Table, _d: int) -> ir.IntegerValue:
    return ibis.coalesce(t.closed_on, NEVER)


def _submitted(t: ir.Table, _d: int) -> ir.IntegerValue:
    return ibis.coalesce(t.submitted_on, NEVER)


def _valid(t: ir.Table, _d: int) -> ir.IntegerValue:
    return ibis.coalesce(t.valid_until + 1, NEVER)


IN_FORCE_RULES: dict[str, InForceRule] = {
    "none": InForceRule(
        "counts from its knowledge date on (within the window)", (), lambda t, d: None
    ),
    "until_removed": InForceRule(
        "counts until it is removed (not on or after removed_on)", ("removed_on",), _removed
    ),
    "until_publicity_end_or_repair": InForceRule(
        "counts while publicised: up to and including publicity_until (if empty, "
        "decided_on + penalty_publicity_default_days) and before repaired_on",
        ("decided_on", "publicity_until", "repaired_on"),
        _publicity,
    ),
    "while_open": InForceRule(
        "counts while the case is open (before closed_on)", ("closed_on",), _open
    ),
    "until_submitted": InForceRule(
        "counts until the report is submitted (before submitted_on)", ("submitted_on",), _submitted
    ),
    "until_valid_until": InForceRule(
        "counts up to and including valid_until", ("valid_until",), _valid
    ),
}
"""In-force rules by name (影响期): the closed set the catalogue may use."""

ANNUAL_REPORT_YEARS: dict[str, Kind] = {
    "uscc": Kind.USCC,
    "year": Kind.YEAR,
    "due_on": Kind.DATE,
    "overdue_from": Kind.DATE,
    "superseded_on": Kind.DATE,
    "superseded2_on": Kind.DATE,
    "superseded3_on": Kind.DATE,
    "submitted_on": Kind.DATE,
    "filed_late": Kind.BOOL,
    "corrected": Kind.BOOL,
}
"""Virtual source: one row per enterprise and report year due (the year after establishment
on), whether or not a report row exists; ``due_on`` is 30 June of the next year, the report
is overdue from 1 July, and the next years' reports fall due (supersede it as "the last
report due") on 1 July of the following years."""

VIRTUAL_SOURCES: dict[str, dict[str, Kind]] = {"annual_report_years": ANNUAL_REPORT_YEARS}

PUBLISHED_SOURCES: dict[str, dict[str, Kind]] = {
    "classes": {"uscc": Kind.USCC, "class": Kind.ENUM},
    "related_risk": {
        "uscc": Kind.USCC,
        "related_risk_score": Kind.RATIO,
        "related_risky_count": Kind.INTEGER,
        "related_count": Kind.INTEGER,
    },
}
"""riskwatch's own monthly results the catalogue may read, month *M − 1* for an as-of in month
*M*, never later (point-in-time: classes of month *M* are computed from the indicators of *M*):

- ``classes``: the A/B/C/D classes published by ``riskwatch run`` (``classes/month=…``);
- ``related_risk``: the related-party risk of the relationship graph built by
  ``riskwatch graph build`` in that month (``graph/related_risk/month=….parquet``).
"""


def source_columns(source: str) -> dict[str, Kind] | None:
    """Columns (with kinds) of a contract table, virtual or published source; ``None`` if
    unknown."""
    if source in VIRTUAL_SOURCES:
        return VIRTUAL_SOURCES[source]
    if source in PUBLISHED_SOURCES:
        return PUBLISHED_SOURCES[source]
    table = TABLES.get(source)
    if table is None:
        return None
    return {c.name: c.kind for c in table.columns}
