"""Registration tables: enterprises, investments (shareholders), officers, changes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.ingest.contract import CHANGE_ITEMS, ENTITY_TYPES, STATUSES
from riskwatch.synth import people as pp
from riskwatch.synth import world as w
from riskwatch.synth.enterprises import NEVER, S_ALIVE, S_DEREGISTERED, Chunk, enterprise_names
from riskwatch.synth.rates import dates, draw_events, join, opt_dates, pick, take, text
from riskwatch.synth.timeline import Timeline

Int = npt.NDArray[np.int64]

UPDATE_SHARE = 0.01  # enterprises re-sent with changed attributes in enterprises-update


def _scope(industry: Int) -> pa.Array:
    word = take([i.word for i in w.INDUSTRIES], industry)
    return join(
        "一般项目：",
        word,
        "销售；",
        word,
        "服务；技术咨询（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）",
    )


def enterprises(
    rng: np.random.Generator, ch: Chunk, tl: Timeline
) -> tuple[pa.Table, pa.Table, Int]:
    """The enterprise register as first sent, the re-sent rows, and who was re-sent.

    Returns
    -------
    first, update, updated
        ``first`` holds every enterprise; for the ``updated`` ones it shows an older state
        (former name, capital, status) that ``update`` replaces by key.
    """
    n = ch.size
    industry = take([i.code for i in w.INDUSTRIES], ch.industry)
    digits_only = pa.array(rng.random(n) < 0.03)
    industry = pc.if_else(digits_only, pc.utf8_slice_codeunits(industry, 1, 5), industry)
    region = take([str(d.code) for d in w.DISTRICTS], ch.district)
    authority = join(
        w.CITY_NAME, take([d.name for d in w.DISTRICTS], ch.district), "市场监督管理局"
    )
    centre_lon = np.array([d.lon for d in w.DISTRICTS])[ch.district]
    centre_lat = np.array([d.lat for d in w.DISTRICTS])[ch.district]
    has_geo = rng.random(n) < 0.8
    lon = np.round(centre_lon + rng.normal(0, 0.03, n), 6)
    lat = np.round(centre_lat + rng.normal(0, 0.03, n), 6)
    dereg = ch.status == S_DEREGISTERED
    current = pa.table(
        {
            "uscc": ch.uscc,
            "name": ch.name,
            "entity_type": take(ENTITY_TYPES, ch.etype),
            "status": take(STATUSES, ch.status),
            "established_on": dates(ch.established),
            "registered_capital": pa.array(ch.capital),
            "industry_code": industry,
            "region_code": region,
            "address": ch.address,
            "legal_rep_id": pp.person_ids(ch.legal_rep, ch.foreign),
            "legal_rep_name": pp.person_names(ch.legal_rep, ch.foreign),
            "authority": pc.if_else(
                pa.array(rng.random(n) < 0.9), authority, pa.scalar(None, pa.string())
            ),
            "business_scope": _scope(ch.industry),
            "deregistered_on": opt_dates(np.minimum(ch.end, NEVER - 1), dereg),
            "lon": pa.array(lon, mask=~has_geo),
            "lat": pa.array(lat, mask=~has_geo),
        }
    )
    updated = np.flatnonzero((rng.random(n) < UPDATE_SHARE) & ~ch.planted)
    old = current.take(pa.array(updated))
    renamed = pa.array(rng.random(len(updated)) < 0.3)
    old_names = enterprise_names(
        ch.gidx[updated], ch.etype[updated], ch.industry[updated], ch.district[updated], old=True
    )
    old = old.set_column(
        1, "name", pc.if_else(renamed, old_names, old.column("name").combine_chunks())
    )
    old = old.set_column(3, "status", pa.array([STATUSES[S_ALIVE]] * len(updated), pa.string()))
    old = old.set_column(
        5, "registered_capital", pc.multiply(old.column("registered_capital"), 0.5)
    )
    old = old.set_column(13, "deregistered_on", pa.nulls(len(updated), pa.date32()))
    mask = np.zeros(n, dtype=bool)
    mask[updated] = True
    first = current.filter(pa.array(~mask))
    # Keep the first file in enterprise order: interleave the old versions back in place.
    order = np.argsort(np.concatenate([np.flatnonzero(~mask), updated]), kind="stable")
    first = pa.concat_tables([first, old]).take(pa.array(order))
    return first, current.take(pa.array(updated)), updated


def investments(rng: np.random.Generator, ch: Chunk, tl: Timeline) -> pa.Table:
    """Shareholders: the legal representative, a second person, sometimes an enterprise."""
    n = ch.size
    has_holders = ~np.isin(ch.etype, [w.T_INDIVIDUAL, w.T_BRANCH])
    many = np.isin(ch.etype, [w.T_JOINT_STOCK, w.T_PARTNERSHIP, w.T_COOP])
    local = np.arange(n)
    parts: list[tuple[Int, Int, npt.NDArray[np.bool_]]] = []  # rows, person, foreign
    sel = has_holders & (rng.random(n) < 0.92)
    parts.append((local[sel], ch.legal_rep[sel], ch.foreign[sel]))
    sel = has_holders & (ch.holder >= 0)
    parts.append((local[sel], ch.holder[sel], np.zeros(sel.sum(), bool)))
    for extra in (ch.supervisor, ch.manager):
        sel = many & (rng.random(n) < 0.8)
        parts.append((local[sel], extra[sel], np.zeros(sel.sum(), bool)))
    rows = np.concatenate([p[0] for p in parts])
    person = np.concatenate([p[1] for p in parts])
    foreign = np.concatenate([p[2] for p in parts])
    corp = np.flatnonzero(has_holders & (ch.corp_holder >= 0))
    holder_id = pa.concat_arrays(
        [pp.person_ids(person, foreign), ch.uscc.take(pa.array(ch.corp_holder[corp]))]
    )
    holder_name = pa.concat_arrays(
        [pp.person_names(person, foreign), ch.name.take(pa.array(ch.corp_holder[corp]))]
    )
    rows = np.concatenate([rows, corp])
    kind = np.concatenate([np.zeros(len(person), np.int64), np.ones(len(corp), np.int64)])
    order = np.argsort(rows, kind="stable")
    weight = rng.gamma(1.0, 1.0, len(rows))[order]
    rows, kind = rows[order], kind[order]
    total = np.bincount(rows, weights=weight, minlength=n)
    share = np.round(weight / total[rows], 4)
    since = ch.established[rows] + (rng.random(len(rows)) < 0.1) * rng.integers(30, 900, len(rows))
    since = np.minimum(since, last_day(ch, tl, rows))
    return pa.table(
        {
            "uscc": ch.uscc.take(pa.array(rows)),
            "holder_type": take(("自然人", "企业"), kind),
            "holder_id": holder_id.take(pa.array(order)),
            "holder_name": holder_name.take(pa.array(order)),
            "subscribed_capital": pa.array(np.round(ch.capital[rows] * share, 2)),
            "share_ratio": pa.array(share),
            "since": dates(since),
        }
    )


def last_day(ch: Chunk, tl: Timeline, rows: Int) -> Int:
    """The last day a record of these enterprises may carry (its end, or as-of for live ones)."""
    return np.minimum(ch.end[rows] - 1, tl.as_of)


def officers(rng: np.random.Generator, ch: Chunk) -> pa.Table:
    """Main persons: legal representative, executive director, supervisor, manager, CFO."""
    n = ch.size
    local = np.arange(n)
    company = np.isin(ch.etype, [w.T_LLC, w.T_JOINT_STOCK, w.T_FOREIGN, w.T_COOP])
    role_names = ("法定代表人", "执行董事", "监事", "经理", "财务负责人")
    plan = [
        (np.ones(n, bool), ch.legal_rep, 0),
        ((ch.etype == w.T_LLC) & (rng.random(n) < 0.6), ch.legal_rep, 1),
        (company, ch.supervisor, 2),
        (company & (rng.random(n) < 0.6), ch.manager, 3),
        (company & (rng.random(n) < 0.3), ch.manager, 4),
    ]
    rows = np.concatenate([local[m] for m, _, _ in plan])
    person = np.concatenate([p[m] for m, p, _ in plan])
    role = np.concatenate([np.full(m.sum(), r) for m, _, r in plan])
    foreign = ch.foreign[rows] & (person == ch.legal_rep[rows])
    order = np.argsort(rows, kind="stable")
    rows, person, role, foreign = rows[order], person[order], role[order], foreign[order]
    return pa.table(
        {
            "uscc": ch.uscc.take(pa.array(rows)),
            "person_id": pp.person_ids(person, foreign),
            "name": pp.person_names(person, foreign),
            "role": take(role_names, role),
        }
    )


ITEM_LOW = (0.05, 0.17, 0.14, 0.32, 0.13, 0.15, 0.04)
ITEM_HIGH = (0.05, 0.30, 0.30, 0.12, 0.10, 0.10, 0.03)


def changes(rng: np.random.Generator, ch: Chunk, tl: Timeline) -> pa.Table:
    """Registration changes; risky firms change legal representative and address more often."""
    rows, days = draw_events(rng, ch, tl, 0.10, 0.6)
    k = len(rows)
    risky = ch.z[rows, tl.month_of(days)] > 1.0
    item = np.where(risky, pick(rng, k, ITEM_HIGH), pick(rng, k, ITEM_LOW))
    key = np.unique(rows * 2**24 + (days - tl.start + 4096) * 8 + item, return_index=True)[1]
    rows, days, item, k = rows[key], days[key], item[key], len(key)
    name = ch.name.take(pa.array(rows))
    old_name = enterprise_names(
        ch.gidx[rows], ch.etype[rows], ch.industry[rows], ch.district[rows], old=True
    )
    address = ch.address.take(pa.array(rows))
    old_address = join(
        w.PROVINCE_NAME + w.CITY_NAME,
        take([d.name for d in w.DISTRICTS], ch.district[rows]),
        take(w.ROADS, (ch.road[rows] + 7) % len(w.ROADS)),
        text((ch.number[rows] * 7) % 400 + 1),
        "号",
    )
    rep = pp.person_names(ch.legal_rep[rows], ch.foreign[rows])
    old_rep = pp.person_names(ch.legal_rep[rows] + 10**9 + days, np.zeros(k, bool))
    scope = join(take([i.word for i in w.INDUSTRIES], ch.industry[rows]), "销售")
    old_scope = join(scope, "；日用百货销售")
    cap = ch.capital[rows]
    capital = join(text(np.round(cap, 1)), "万元")
    old_capital = join(text(np.round(cap * 0.5, 1)), "万元")
    holders = join(rep, "；", old_rep)
    etype = take(ENTITY_TYPES, ch.etype[rows])
    old_etype = take(ENTITY_TYPES, np.full(k, w.T_SOLE))
    before = (old_name, old_address, old_rep, old_scope, old_capital, old_rep, old_etype)
    after = (name, address, rep, scope, capital, holders, etype)
    pos = pa.array(item * k + np.arange(k))
    return pa.table(
        {
            "uscc": ch.uscc.take(pa.array(rows)),
            "changed_on": dates(days),
            "item": take(CHANGE_ITEMS, item),
            "before": pa.concat_arrays(list(before)).take(pos),
            "after": pa.concat_arrays(list(after)).take(pos),
        }
    )
