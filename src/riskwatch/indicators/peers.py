"""Related-party indicators: enterprises sharing an address, a legal rep or a shareholder.

For every link key (an address, a legal representative's pseudonymised id, a holder id)
and as-of date, count the linked enterprises alive then and how many of them have each risk
flag; an enterprise's peers are the others behind its keys. For shareholders an enterprise
may have several keys: counts are summed over its holders (links, not distinct enterprises).
Links come from the current enterprise records; holdings count from their ``since`` date.

A flag may be missing (``previous_month_flag``: an enterprise without a class last month):
its share is then taken over the linked enterprises whose flag is known, and is missing when
none is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir

from riskwatch.indicators.atoms import IDX
from riskwatch.indicators.catalogue import Indicator


def link_table(link: str, src: Mapping[str, ir.Table]) -> ir.Table:
    """``uscc, key, since`` rows for one link kind (``since`` may be null)."""
    ent = src["enterprises"]
    if link == "address":
        rel = ent.select("uscc", key=ent.address, since=ibis.null("int64"))
    elif link == "legal_rep":
        rel = ent.select("uscc", key=ent.legal_rep_id, since=ibis.null("int64"))
    else:
        inv = src["investments"]
        rel = inv.select("uscc", key=inv.holder_id, since=inv.since.cast("int64"))
    return rel.filter(rel.key.notnull() & rel.uscc.notnull())


def flag_name(indicator_id: str) -> str:
    """The column holding the 0/1 flag "indicator is positive" for peer shares."""
    return f"_f_{indicator_id}"


def peer_columns(
    inds: Sequence[Indicator],
    flags: ir.Table,
    src: Mapping[str, ir.Table],
    nullable: frozenset[str] = frozenset(),
) -> list[ir.Table]:
    """Per (uscc, index): the peer count and the flagged-peer counts of every link used.

    Parameters
    ----------
    inds
        The enabled peer indicators.
    flags
        ``uscc, _idx, _g, _f_<id>…``: enterprises alive at each as-of date and their flags.
    src
        The prepared sources (for the links).
    nullable
        Ids of the flags that may be missing; for them ``_k_<link>_<id>`` counts the linked
        enterprises whose flag is known.

    Returns
    -------
    list of ibis.expr.types.Table
        Per link: ``uscc, _idx, _p_<link>, _b_<link>_<id>…[, _k_<link>_<id>…]``
        (enterprises with that link).
    """
    links = sorted({i.link for i in inds if i.link is not None})
    flag_ids = {link: sorted({r for i in inds if i.link == link for r in i.of}) for link in links}
    out: list[ir.Table] = []
    for link in links:
        rel = link_table(link, src)
        lg = rel.join(flags, "uscc")
        lg = lg.filter(lg.since.isnull() | (lg.since <= lg._g))
        fcols = [flag_name(r) for r in flag_ids[link]]
        known = [r for r in flag_ids[link] if r in nullable]
        agg = lg.group_by(["key", IDX]).aggregate(
            _n=lg.uscc.count(),
            **{f"_t{c}": lg[c].sum() for c in fcols},
            **{f"_k{flag_name(r)}": lg[flag_name(r)].count() for r in known},
        )
        back = lg.join(agg, ["key", IDX])
        per = back.group_by(["uscc", IDX]).aggregate(
            **{f"_p_{link}": (back._n - 1).sum()},
            **{
                f"_b_{link}_{r}": (
                    back[f"_t{flag_name(r)}"].fill_null(0) - back[flag_name(r)].fill_null(0)
                    if r in nullable
                    else back[f"_t{flag_name(r)}"] - back[flag_name(r)]
                ).sum()
                for r in flag_ids[link]
            },
            **{
                f"_k_{link}_{r}": (
                    back[f"_k{flag_name(r)}"] - back[flag_name(r)].notnull().cast("int64")
                ).sum()
                for r in known
            },
        )
        out.append(per)
    return out


def peer_value(ind: Indicator, t: ir.Table) -> ir.Value:
    """The value of a peer indicator from the joined peer columns."""
    assert ind.link is not None
    peers = t[f"_p_{ind.link}"].fill_null(0)
    if ind.template == "peer_count":
        return peers.cast("int64")
    bad = t[f"_b_{ind.link}_{ind.of[0]}"].fill_null(0)
    known = f"_k_{ind.link}_{ind.of[0]}"
    if known in t.columns:
        peers = t[known].fill_null(0)
    return ibis.ifelse(peers > 0, round4(bad / peers), ibis.null("float64"))


def round4(x: ir.NumericValue) -> ir.FloatingValue:
    """Round half up to 4 decimals with the same IEEE operations on every engine."""
    return (x * 10000 + ibis.literal(0.5, "float64")).floor().cast("float64") / 10000
