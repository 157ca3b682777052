"""Inspections: the inspector register, past inspections, and the future ones in ``truth/``."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.ingest.contract import DOMAINS, INSPECTION_KINDS, INSPECTION_RESULTS
from riskwatch.synth import people as pp
from riskwatch.synth import world as w
from riskwatch.synth.enterprises import S_DEREGISTERED, Chunk
from riskwatch.synth.rates import dates, draw_events, join, padded, pick, take, text, z_at
from riskwatch.synth.timeline import Timeline, yyyymm

Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]

INSPECTORS_PER_DISTRICT = 15
UNIFORM_RATIO = 0.03  # share of the register one 双随机 task draws
FUTURE_SHARE = 0.05
PROBLEM_CODES = np.array([2, 3, 4, 5, 6, 7])
PROBLEM_MIX = (0.40, 0.20, 0.15, 0.08, 0.12, 0.05)
PROBLEM_RESULTS = frozenset(INSPECTION_RESULTS[i] for i in PROBLEM_CODES)
ITEMS = ("登记事项检查;年报信息检查", "专项检查", "日常监督检查", "投诉举报核查")
PREFIX = ("SSJ", "ZX", "RC", "TSHC")


def results(rng: np.random.Generator, p_problem: Float) -> tuple[Int, npt.NDArray[np.bool_]]:
    """Result codes of inspections with the given chances of finding a problem."""
    k = len(p_problem)
    problem = rng.random(k) < p_problem
    clean = np.where(rng.random(k) < 0.85, 0, 1)
    found = PROBLEM_CODES[pick(rng, k, PROBLEM_MIX)]
    return np.where(problem, found, clean), problem


def inspections(
    rng: np.random.Generator, ch: Chunk, tl: Timeline, complaint_checks: tuple[Int, Int]
) -> pa.Table:
    """Past inspections of every kind, with results driven by latent risk on the day."""
    domain_factor = np.where(np.isin(w.INDUSTRY_DOMAIN[ch.industry], [0, 1, 2, 3]), 2.0, 1.0)
    draws = [
        (draw_events(rng, ch, tl, 0.012, 0.0), 0, 0),  # 双随机, uniform
        (draw_events(rng, ch, tl, 0.008, 0.8), 0, 1),  # 双随机, risk-stratified
        (draw_events(rng, ch, tl, 0.009 * domain_factor, 0.4), 1, 2),  # 专项
        (draw_events(rng, ch, tl, 0.015, 0.5), 2, 2),  # 日常
    ]
    c_rows, c_days = complaint_checks
    c_days = c_days + rng.integers(3, 20, len(c_days))
    ok = (c_days <= tl.as_of) & (c_days < ch.end[c_rows])
    draws.append(((c_rows[ok], c_days[ok]), 3, 2))
    # Tasks drawn from the register still reach enterprises that have just closed.
    gone = np.flatnonzero((ch.end <= tl.as_of - 10) & (rng.random(ch.size) < 0.3))
    g_days = ch.end[gone] + rng.integers(5, 120, len(gone))
    ok = g_days <= tl.as_of
    draws.append(((gone[ok], g_days[ok]), 0, 3))
    rows = np.concatenate([d[0][0] for d in draws])
    days = np.concatenate([d[0][1] for d in draws])
    kind = np.concatenate([np.full(len(d[0][0]), d[1]) for d in draws])
    mode = np.concatenate([np.full(len(d[0][0]), d[2]) for d in draws])
    k = len(rows)
    zt = z_at(ch, tl, rows, np.minimum(days, tl.as_of))
    code, _ = results(rng, w.sigmoid(w.problem_logit(zt)))
    after_end = mode == 3
    code = np.where(after_end, np.where(ch.status[rows] == S_DEREGISTERED, 9, 8), code)
    # Task numbers: a few tasks per kind, district and month; complaint checks get their own.
    month = yyyymm(days)
    task_no = np.where(kind == 3, 10 + np.arange(k), rng.integers(1, 4, k))
    region = np.array([d.code for d in w.DISTRICTS])[ch.district[rows]]
    key = np.unique(np.stack([rows, month, kind, task_no], axis=1), axis=0, return_index=True)[1]
    rows, days, kind, mode, code = rows[key], days[key], kind[key], mode[key], code[key]
    month, task_no, region, zt = month[key], task_no[key], region[key], zt[key]
    k = len(rows)
    task = join(take(PREFIX, kind), text(region), text(month), padded(task_no, 2))
    task = pc.if_else(pa.array(kind == 3), join(task, "-", text(np.full(k, ch.index))), task)
    a = rng.integers(1, INSPECTORS_PER_DISTRICT + 1, k)
    b = (a + rng.integers(0, INSPECTORS_PER_DISTRICT - 1, k)) % INSPECTORS_PER_DISTRICT + 1
    inspectors = join(text(region), padded(a, 5), ";", text(region), padded(b, 5))
    incl = np.where(mode == 1, np.minimum(1.0, UNIFORM_RATIO * np.exp(0.8 * zt)), UNIFORM_RATIO)
    incl = np.round(incl, 4)
    domain_word = take(DOMAINS, w.INDUSTRY_DOMAIN[ch.industry[rows]])
    items = pc.if_else(pa.array(kind == 1), join(domain_word, "专项检查"), take(ITEMS, kind))
    order = np.lexsort((days, rows))
    return pa.table(
        {
            "uscc": ch.uscc.take(pa.array(rows)),
            "task_id": task,
            "inspected_on": dates(days),
            "kind": take(INSPECTION_KINDS, kind),
            "result": take(INSPECTION_RESULTS, code),
            "inspector_ids": inspectors,
            "items": items,
            "inclusion_probability": pa.array(incl, mask=kind != 0),
        }
    ).take(pa.array(order))


def future_inspections(rng: np.random.Generator, ch: Chunk, tl: Timeline) -> pa.Table:
    """A uniform random ~5 % of live enterprises inspected in the six months after as-of."""
    rows = np.flatnonzero(ch.live & (rng.random(ch.size) < FUTURE_SHARE))
    days = tl.as_of + 1 + rng.integers(0, tl.future_end - tl.as_of, len(rows))
    p = w.sigmoid(w.problem_logit(z_at(ch, tl, rows, days)))
    code, problem = results(rng, p)
    return pa.table(
        {
            "uscc": ch.uscc.take(pa.array(rows)),
            "inspected_on": dates(days),
            "result": take(INSPECTION_RESULTS, code),
            "problem": pa.array(problem),
            "p_problem": pa.array(np.round(p, 6)),
        }
    )


def inspectors(rng: np.random.Generator) -> pa.Table:
    """The inspector register: 15 per district, with their domains and whether on duty."""
    per = INSPECTORS_PER_DISTRICT
    n = per * len(w.DISTRICTS)
    district = np.repeat(np.arange(len(w.DISTRICTS)), per)
    seq = np.tile(np.arange(1, per + 1), len(w.DISTRICTS))
    region = np.array([d.code for d in w.DISTRICTS])[district]
    first = rng.integers(0, len(DOMAINS), n)
    second = (first + rng.integers(1, len(DOMAINS), n)) % len(DOMAINS)
    two = rng.random(n) < 0.5
    domains = pc.if_else(
        pa.array(two), join(take(DOMAINS, first), ";", take(DOMAINS, second)), take(DOMAINS, first)
    )
    unit = take(("执法大队", "市场监管所", "登记注册科"), seq % 3)
    return pa.table(
        {
            "inspector_id": join(text(region), padded(seq, 5)),
            "name": pp.person_names(2 * 10**9 + np.arange(n), np.zeros(n, bool)),
            "department": join(
                w.CITY_NAME, take([d.name for d in w.DISTRICTS], district), "市场监督管理局", unit
            ),
            "region_code": text(region),
            "domains": domains,
            "active": pa.array(rng.random(n) < 0.9),
        }
    )
