"""Event indicators as difference arrays over a batch of as-of dates.

A dated record counts at as-of date *g* when ``start <= g < end``: ``start`` is its knowledge
date (or a later anchor), ``end`` the earlier of its window's end and its in-force end. Over
a sorted batch of as-of dates ``g_0 < … < g_{n-1}`` the dates where it counts form one run of
indices ``[s, e)`` with ``s`` = number of as-of dates before ``start`` and likewise ``e``. So
each record adds ``+w`` at index ``s`` and ``-w`` at index ``e``; a running sum over the
indices gives every as-of date's value in one pass over the records, for every month of the
batch at once. "Latest record" templates use a running maximum instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir

from riskwatch.indicators.catalogue import Catalogue, Condition, Indicator
from riskwatch.indicators.sources import conditions
from riskwatch.indicators.templates import EVENT_TEMPLATES, IN_FORCE_RULES, NEVER

IDX = "_idx"


@dataclass(frozen=True)
class Atom:
    """One running aggregate over one source: a column of the delta table."""

    name: str
    indicator: Indicator
    where: tuple[Condition, ...]
    weight: Literal["one", "value", "known", "known_flag"]
    agg: Literal["sum", "max"]

    @property
    def start_key(self) -> tuple[str, str, int]:
        """What fixes the start day: knowledge column, anchor column, anchor offset."""
        ind = self.indicator
        assert ind.known_on is not None
        return (ind.known_on, ind.anchor or "", ind.anchor_offset_days if ind.anchor else 0)

    @property
    def end_key(self) -> tuple[str, int, int, str, str]:
        """What fixes the end day: window base column and offset, window, rule, until."""
        ind = self.indicator
        if self.agg == "max":
            return ("", 0, 0, "none", "")
        if ind.window_days is None:
            return ("", 0, 0, ind.in_force, ind.until or "")
        assert ind.known_on is not None
        base = ind.anchor or ind.known_on
        offset = ind.anchor_offset_days if ind.anchor else 0
        return (base, offset, ind.window_days, ind.in_force, ind.until or "")


def atoms_for(ind: Indicator) -> list[Atom]:
    """The running aggregates an event indicator needs."""
    base = f"a__{ind.id}"
    t = ind.template
    if t in ("count", "exists"):
        return [Atom(base, ind, ind.where, "one", "sum")]
    if t == "sum":
        return [Atom(base, ind, ind.where, "value", "sum")]
    if t == "days_since_last":
        return [Atom(base, ind, ind.where, "known", "max")]
    if t == "last_flag":
        return [Atom(base, ind, ind.where, "known_flag", "max")]
    if t == "distinct":
        assert ind.value is not None
        return [
            Atom(
                f"{base}__{i}",
                ind,
                (*ind.where, Condition(column=ind.value, op="eq", values=(v,))),
                "one",
                "sum",
            )
            for i, v in enumerate(ind.values)
        ]
    if t == "max_level":
        assert ind.value is not None
        op: Literal["contains_any", "in"] = "contains_any" if ind.value == "penalty_kinds" else "in"
        return [
            Atom(
                f"{base}__{lvl}",
                ind,
                (*ind.where, Condition(column=ind.value, op=op, values=vals)),
                "one",
                "sum",
            )
            for lvl, vals in sorted(ind.levels.items())
        ]
    raise ValueError(f"{ind.id}: template {t} is not an event template")


def all_atoms(catalogue: Catalogue) -> dict[str, list[Atom]]:
    """Atoms of every enabled event indicator, by source."""
    out: dict[str, list[Atom]] = {}
    for ind in catalogue.enabled():
        if ind.template in EVENT_TEMPLATES:
            assert ind.source is not None
            out.setdefault(ind.source, []).extend(atoms_for(ind))
    return out


def index_of(day: ir.IntegerValue, grid_days: Sequence[int]) -> ir.IntegerValue:
    """How many as-of dates of the batch fall before ``day`` (null stays null)."""
    expr: ir.IntegerValue = (day > grid_days[0]).cast("int32")
    for g in grid_days[1:]:
        expr = expr + (day > g).cast("int32")
    return expr


def _start_day(t: ir.Table, atom: Atom) -> ir.IntegerValue:
    ind = atom.indicator
    known: ir.IntegerValue = t[ind.known_on]
    if ind.anchor is None:
        return known
    anchor = t[ind.anchor]
    # GREATEST skips nulls on both engines: a record without its anchor date never counts
    return ibis.ifelse(
        anchor.isnull(), ibis.null("int64"), ibis.greatest(known, anchor + ind.anchor_offset_days)
    )


def _end_day(t: ir.Table, atom: Atom, default_days: int) -> ir.IntegerValue | None:
    _, _, window, rule, until = atom.end_key
    ends: list[ir.IntegerValue] = [ibis.coalesce(t[until], NEVER)] if until else []
    if window:
        ind = atom.indicator
        anchor = t[ind.anchor] + ind.anchor_offset_days if ind.anchor else t[ind.known_on]
        ends.append(anchor + window)
    rule_end = IN_FORCE_RULES[rule].end(t, default_days)
    if rule_end is not None:
        ends.append(rule_end)
    if not ends:
        return None
    if len(ends) == 1:
        return ends[0]
    return ibis.least(*ends)


def _weight(t: ir.Table, atom: Atom) -> ir.IntegerValue:
    ind = atom.indicator
    if atom.weight == "one":
        return ibis.literal(1, "int64")
    if atom.weight == "value":
        assert ind.value is not None
        return (t[ind.value] * ind.scale).round().cast("int64").fill_null(0)
    known: ir.IntegerValue = t[ind.known_on].cast("int64")
    if atom.weight == "known":
        return known
    return known * 2 + conditions(t, ind.flag).cast("int64")


def deltas(
    t: ir.Table, atoms: Sequence[Atom], grid_days: Sequence[int], default_days: int
) -> ir.Table:
    """Per (uscc, index) changes of every atom of one source over the batch.

    Returns a table ``uscc, _idx, <atom>…``: sums for ``sum`` atoms, maxima for ``max``
    atoms; a running sum/maximum over ``_idx`` gives each as-of date's value.
    """
    n = len(grid_days)
    starts = sorted({a.start_key for a in atoms}, key=str)
    ends = sorted({a.end_key for a in atoms if a.agg == "sum"}, key=str)
    first = {a.start_key: a for a in atoms}
    first_end = {a.end_key: a for a in atoms}
    # three projections, so that each index expression is written (and computed) once
    idx: dict[str, ir.Value] = {}
    for i, skey in enumerate(starts):
        idx[f"_s{i}"] = index_of(_start_day(t, first[skey]), grid_days).cast("int64")
    for j, ekey in enumerate(ends):
        end = _end_day(t, first_end[ekey], default_days)
        e_idx = index_of(end, grid_days).fill_null(n) if end is not None else ibis.literal(n)
        idx[f"_e{j}"] = e_idx.cast("int64")
    s1 = t.filter(t.uscc.notnull()).mutate(**idx)
    cols: dict[str, ir.Value] = {"uscc": s1.uscc, **{k: s1[k] for k in idx}}
    for a in atoms:
        s_col = s1[f"_s{starts.index(a.start_key)}"]
        valid = conditions(s1, a.where) & s_col.notnull() & (s_col < n)
        if a.agg == "sum":
            valid = valid & (s_col < s1[f"_e{ends.index(a.end_key)}"])
        cols[f"_v_{a.name}"] = valid
        cols[f"_w_{a.name}"] = _weight(s1, a)
    base = s1.select(**cols)
    parts: list[ir.Table] = []
    for i, key in enumerate(starts):
        mine = [a for a in atoms if a.start_key == key]
        sel = {
            a.name: ibis.ifelse(base[f"_v_{a.name}"], base[f"_w_{a.name}"], _zero(a))
            if a.start_key == key
            else _zero(a)
            for a in atoms
        }
        parts.append(base.filter(_any(base, mine)).select("uscc", **{IDX: base[f"_s{i}"]}, **sel))
    if n > 1:
        for j, ekey in enumerate(ends):
            mine = [a for a in atoms if a.agg == "sum" and a.end_key == ekey]
            sel = {
                a.name: ibis.ifelse(base[f"_v_{a.name}"], -base[f"_w_{a.name}"], 0)
                if a in mine
                else _zero(a)
                for a in atoms
            }
            rows = base.filter(_any(base, mine) & (base[f"_e{j}"] < n))
            parts.append(rows.select("uscc", **{IDX: rows[f"_e{j}"]}, **sel))
    union = parts[0] if len(parts) == 1 else ibis.union(*parts)
    # sums as DOUBLE: exact for integers below 2**53, and the same type on every engine
    # (DuckDB would widen BIGINT sums to HUGEINT)
    aggs = {
        a.name: union[a.name].sum().cast("float64") if a.agg == "sum" else union[a.name].max()
        for a in atoms
    }
    return union.group_by(["uscc", IDX]).aggregate(**aggs)


def _zero(a: Atom) -> ir.Value:
    return ibis.literal(0, "int64") if a.agg == "sum" else ibis.null("int64")


def _any(base: ir.Table, atoms: Sequence[Atom]) -> ir.BooleanValue:
    expr: ir.BooleanValue = ibis.literal(False)
    for a in atoms:
        expr = expr | base[f"_v_{a.name}"]
    return expr


__all__ = ["IDX", "NEVER", "Atom", "all_atoms", "atoms_for", "deltas", "index_of"]
