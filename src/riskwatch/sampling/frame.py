"""Building a plan's population frame from the inspection-object register (pure Arrow)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.sampling.policy import Scope


def with_classes(register: pa.Table, classes: pa.Table) -> pa.Table:
    """The register with a ``class`` column (null where an enterprise has no class)."""
    # Arrow joins refuse list columns (licences, domains): look the class up by position.
    pos = pc.index_in(register["uscc"], classes["uscc"])
    return register.append_column("class", pc.take(classes["class"], pos))


def filter_prefix(table: pa.Table, column: str, prefixes: Sequence[str]) -> pa.Table:
    """Rows whose ``column`` starts with one of ``prefixes`` (all rows when none)."""
    if not prefixes:
        return table
    mask = None
    for p in prefixes:
        hit = pc.fill_null(pc.starts_with(table[column], p), False)
        mask = hit if mask is None else pc.or_(mask, hit)
    return table.filter(mask)


def apply_scope(table: pa.Table, scope: Scope) -> pa.Table:
    """Rows inside a plan's scope: regions and industries by prefix, the rest exactly.

    Parameters
    ----------
    table
        Register rows with region_code, industry_code, entity_type and domains (list).
    scope
        The plan's scope; an empty list does not restrict.
    """
    table = filter_prefix(table, "region_code", scope.regions)
    table = filter_prefix(table, "industry_code", scope.industries)
    if scope.entity_types:
        table = table.filter(pc.is_in(table["entity_type"], pa.array(scope.entity_types)))
    if scope.domains:
        wanted = set(scope.domains)
        mask = [bool(wanted & set(d or ())) for d in table["domains"].to_pylist()]
        table = table.filter(pa.array(mask, pa.bool_()))
    return table


def exclude(table: pa.Table, usccs: Collection[str]) -> tuple[pa.Table, int]:
    """Drop the listed enterprises; return the rest and how many were dropped."""
    if not usccs:
        return table, 0
    keep = pc.invert(pc.is_in(table["uscc"], pa.array(sorted(usccs), pa.string())))
    rest = table.filter(keep)
    return rest, table.num_rows - rest.num_rows
