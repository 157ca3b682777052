"""One chunk of enterprises: attributes, the people behind them, and their latent risk path."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.ingest.contract import ENTITY_TYPES, STATUSES
from riskwatch.synth import people as pp
from riskwatch.synth import world as w
from riskwatch.synth.codes import make_usccs
from riskwatch.synth.timeline import Timeline

Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

S_ALIVE, S_OPERATING, S_REVOKED, S_DEREGISTERED, S_MOVED = (
    STATUSES.index(s) for s in ("存续", "在业", "吊销", "注销", "迁出")
)
NEVER = 2**40  # an end day beyond any grid
DRIFT_SD = 0.06  # monthly step of the latent random walk


@dataclass
class Chunk:
    """The enterprises of one chunk, as column arrays (local index ``0 … n-1``)."""

    index: int
    offset: int
    size: int
    chunk_size: int
    gidx: Int
    district: Int
    industry: Int
    etype: Int
    established: Int
    capital: Float
    legal_rep: Int
    supervisor: Int
    manager: Int
    holder: Int  # second natural-person shareholder, −1 when none
    corp_holder: Int  # local index of an enterprise shareholder, −1 when none
    foreign: Bool
    hidden: Float
    road: Int
    number: Int
    building: Int  # −1 when the address has no office building
    tower: Int
    room: Int
    bonus: Float  # extra risk of planted patterns
    planted: Bool  # members of planted patterns stay registered
    address_override: dict[int, str] = field(default_factory=dict)
    z_base: Float = field(default_factory=lambda: np.zeros(0))
    z: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    status: Int = field(default_factory=lambda: np.zeros(0, np.int64))
    end: Int = field(default_factory=lambda: np.zeros(0, np.int64))
    uscc: pa.Array = None
    name: pa.Array = None
    address: pa.Array = None

    @property
    def live(self) -> Bool:
        """Still registered at as-of (not revoked, deregistered or moved out)."""
        return self.end >= NEVER


def base_chunk(
    rng: np.random.Generator, index: int, offset: int, n: int, chunk_size: int, tl: Timeline
) -> Chunk:
    """Draw the attributes of ``n`` enterprises, before patterns are planted."""
    district = rng.choice(
        len(w.DISTRICTS),
        size=n,
        p=np.array([d.share for d in w.DISTRICTS]) / sum(d.share for d in w.DISTRICTS),
    )
    etype = rng.choice(len(ENTITY_TYPES), size=n, p=w.TYPE_SHARE / w.TYPE_SHARE.sum())
    industry = rng.choice(len(w.INDUSTRIES), size=n, p=w.INDUSTRY_WEIGHTS)
    farm = np.array([i for i, ind in enumerate(w.INDUSTRIES) if ind.code.startswith("A")])
    coop = etype == w.T_COOP
    industry[coop] = farm[rng.integers(0, len(farm), coop.sum())]
    # A young population: four in ten were founded inside the five-year history.
    recent = rng.random(n) < 0.4
    age = np.where(recent, rng.random(n) * 5 * 365.25, 5 * 365.25 + rng.exponential(6 * 365.25, n))
    established = tl.as_of - np.minimum(age, 30 * 365.25).astype(np.int64) - 1
    log_cap = w.TYPE_LOG_CAPITAL[etype] + rng.normal(0, 0.55, n)
    capital = np.where(etype == w.T_BRANCH, 0.0, np.round(10**log_cap, 1))
    base = pp.person_base(index, chunk_size)
    local = np.arange(n, dtype=np.int64)
    legal = base + pp.SLOT_LEGAL * chunk_size + local
    n_serial = max(10, n // 40)
    serial = rng.random(n) < 0.10
    legal[serial] = base + pp.SLOT_SERIAL * chunk_size + rng.integers(0, n_serial, serial.sum())
    supervisor = base + pp.SLOT_SUPERVISOR * chunk_size + local
    manager = base + pp.SLOT_MANAGER * chunk_size + local
    holder = np.where(rng.random(n) < 0.55, base + pp.SLOT_HOLDER * chunk_size + local, -1)
    company = ~np.isin(etype, [w.T_INDIVIDUAL, w.T_BRANCH, w.T_SOLE])
    holder[~company] = -1
    corp_pool = np.flatnonzero(company)
    corp_holder = np.full(n, -1, dtype=np.int64)
    takes = company & (rng.random(n) < 0.25) & (len(corp_pool) > 1)
    if len(corp_pool) > 1:
        corp_holder[takes] = corp_pool[rng.integers(0, len(corp_pool), takes.sum())]
    corp_holder[corp_holder == local] = -1
    foreign = (etype == w.T_FOREIGN) & (rng.random(n) < 0.5)
    county = np.array([d.county for d in w.DISTRICTS])[district]
    building = np.where(~county & (rng.random(n) < 0.35), rng.integers(0, len(w.BUILDINGS), n), -1)
    return Chunk(
        index=index,
        offset=offset,
        size=n,
        chunk_size=chunk_size,
        gidx=offset + local,
        district=district,
        industry=industry,
        etype=etype,
        established=established,
        capital=capital,
        legal_rep=legal,
        supervisor=supervisor,
        manager=manager,
        holder=holder,
        corp_holder=corp_holder,
        foreign=foreign,
        hidden=rng.normal(0, 0.72, n),
        road=rng.integers(0, len(w.ROADS), n),
        number=rng.integers(1, 300, n),
        building=building,
        tower=rng.integers(1, 13, n),
        room=rng.integers(1, 31, n) * 100 + rng.integers(1, 21, n),
        bonus=np.zeros(n),
        planted=np.zeros(n, dtype=bool),
    )


def finish_chunk(rng: np.random.Generator, ch: Chunk, tl: Timeline) -> None:
    """Latent risk, its monthly drift, registration status, codes, names and addresses."""
    n = ch.size
    age_years = (tl.as_of - ch.established) / 365.25
    person = np.maximum(
        pp.person_risk(ch.legal_rep, ch.chunk_size),
        0.6 * pp.person_risk(np.maximum(ch.holder, 0), ch.chunk_size) * (ch.holder >= 0),
    )
    lin = (
        np.array([d.risk for d in w.DISTRICTS])[ch.district]
        + np.array([i.risk for i in w.INDUSTRIES])[ch.industry]
        + w.TYPE_RISK[ch.etype]
        - 0.30 * (np.log1p(age_years) - 1.6)
        - 0.22 * (np.log10(np.maximum(ch.capital, 1.0)) - 1.5)
        + 0.9 * person
        + ch.hidden
        + ch.bonus
    )
    ch.z_base = (lin - w.Z_MEAN) / w.Z_SD
    steps = rng.normal(0, DRIFT_SD, (n, tl.n_months)).astype(np.float32)
    walk = np.cumsum(steps, axis=1)
    walk -= walk[:, tl.asof_month : tl.asof_month + 1]
    ch.z = walk + ch.z_base[:, None].astype(np.float32)
    # Registration status: risky firms are revoked, others sometimes wind down or move away.
    old_enough = ch.established < tl.as_of - 365
    u = rng.random(n)
    p_revoked = np.clip(0.012 * np.exp(1.1 * ch.z_base), 0, 0.5)
    p_dereg = np.clip(0.07 * np.exp(0.3 * ch.z_base), 0, 0.4)
    protected = ch.planted
    revoked = old_enough & ~protected & (u < p_revoked)
    dereg = old_enough & ~protected & ~revoked & (u < p_revoked + p_dereg)
    moved = old_enough & ~protected & ~revoked & ~dereg & (u > 0.996)
    ended = revoked | dereg | moved
    lo = np.maximum(ch.established + 365, tl.start)
    end_day = lo + (rng.random(n) * np.maximum(tl.as_of - 1 - lo, 1)).astype(np.int64)
    ch.end = np.where(ended, end_day, NEVER)
    ch.status = np.select(
        [revoked, dereg, moved, rng.random(n) < 0.2],
        [S_REVOKED, S_DEREGISTERED, S_MOVED, S_OPERATING],
        S_ALIVE,
    )
    modern = ch.established >= np.datetime64("2015-10-01", "D").astype(np.int64)
    region = np.array([d.code for d in w.DISTRICTS])[ch.district]
    ch.uscc = make_usccs(w.TYPE_USCC_CHAR[ch.etype], region, ch.gidx, modern)
    ch.name = enterprise_names(ch.gidx, ch.etype, ch.industry, ch.district)
    ch.address = addresses(ch)


def _take(values: list[str] | tuple[str, ...], idx: Int) -> pa.Array:
    return pa.array(list(values)).take(pa.array(idx))


def brands(gidx: Int) -> pa.Array:
    """A three-character brand, unique per global index (a bijection on the brand space)."""
    k = len(w.BRAND_CHARS)
    perm = (gidx.astype(np.int64) * 2_718_283 + 13) % w.BRAND_SPACE
    chars = list(w.BRAND_CHARS)
    return pc.binary_join_element_wise(
        _take(chars, perm // (k * k)), _take(chars, (perm // k) % k), _take(chars, perm % k), ""
    )


def enterprise_names(
    gidx: Int, etype: Int, industry: Int, district: Int, old: bool = False
) -> pa.Array:
    """Enterprise names; unique because the brand is.  ``old`` gives a former name."""
    brand = brands(gidx)
    word = _take([i.word for i in w.INDUSTRIES], industry)
    if old:
        word = pc.if_else(pc.equal(word, "商贸"), "实业", "商贸")
    suffix = _take([w.ORG_SUFFIX[t] for t in ENTITY_TYPES], etype)
    dname = _take([d.name for d in w.DISTRICTS], district)
    short = pc.utf8_slice_codeunits(dname, 0, 2)
    henan = (gidx % 2 == 0) != old
    prefix = pc.if_else(pa.array(henan), "河南", "郑州")
    company = pc.binary_join_element_wise(prefix, brand, word, suffix, "")
    shop = pc.binary_join_element_wise(dname, brand, word, suffix, "")
    branch = pc.binary_join_element_wise(prefix, brand, word, "有限公司", short, "分公司", "")
    local_kind = pa.array(np.isin(etype, [w.T_INDIVIDUAL, w.T_COOP, w.T_SOLE]))
    out = pc.if_else(local_kind, shop, company)
    return pc.if_else(pa.array(etype == w.T_BRANCH), branch, out)


def addresses(ch: Chunk) -> pa.Array:
    """Registered addresses: street numbers, office rooms, or villages in the counties."""
    dname = _take([d.name for d in w.DISTRICTS], ch.district)
    road = _take(w.ROADS, ch.road)
    num = pc.cast(pa.array(ch.number), pa.string())
    has_bldg = ch.building >= 0
    bname = _take(w.BUILDINGS, np.maximum(ch.building, 0))
    office = pc.binary_join_element_wise(
        bname,
        pc.cast(pa.array(ch.tower), pa.string()),
        "号楼",
        pc.cast(pa.array(ch.room), pa.string()),
        "室",
        "",
    )
    tail = pc.if_else(pa.array(has_bldg), office, "")
    urban = pc.binary_join_element_wise(road, num, "号", tail, "")
    town = _take(w.TOWNS, ch.road % len(w.TOWNS))
    village = _take(w.VILLAGES, ch.number % len(w.VILLAGES))
    rural = pc.binary_join_element_wise(town, village, num, "号", "")
    county = pa.array(np.array([d.county for d in w.DISTRICTS])[ch.district])
    body = pc.if_else(county, rural, urban)
    full = pc.binary_join_element_wise(w.PROVINCE_NAME + w.CITY_NAME, dname, body, "")
    if not ch.address_override:
        return full
    values = full.to_numpy(zero_copy_only=False).astype(object)
    for i, text in ch.address_override.items():
        values[i] = text
    return pa.array(values, type=pa.string())
