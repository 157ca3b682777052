"""Social signals: complaints and reports (投诉举报) and public opinion (舆情)."""

from __future__ import annotations

from typing import cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.ingest.contract import (
    COMPLAINT_CATEGORIES,
    COMPLAINT_CHANNELS,
    COMPLAINT_KINDS,
    SENTIMENTS,
)
from riskwatch.synth import world as w
from riskwatch.synth.enterprises import Chunk, brands
from riskwatch.synth.events import _seq
from riskwatch.synth.rates import dates, draw_events, join, opt_dates, pick, take, z_at
from riskwatch.synth.timeline import Timeline

Int = npt.NDArray[np.int64]
NO_USCC_SHARE = 0.08
UNMATCHED_SHARE = 0.005
SURGE_WINDOW = 30
SURGE_BASELINE = 365
SURGE_FACTOR = 5.0
SURGE_MIN = 8

NEGATIVE = (
    "被曝光存在质量问题",
    "遭消费者集中投诉",
    "因违规经营被处罚",
    "涉嫌虚假宣传被查处",
    "拖欠货款引发纠纷",
    "卫生问题被曝光",
)
NEUTRAL = ("举办开业活动", "发布新品", "参加行业交流会", "召开年度总结会", "开展业务培训")
POSITIVE = (
    "荣获诚信经营示范单位",
    "受到市场监管部门表彰",
    "获评消费者满意单位",
    "热心公益获社会好评",
    "荣获优秀企业称号",
)
TAILS = (
    "多名消费者反映相关问题，监管部门已介入调查。",
    "活动吸引了众多市民参与。",
    "该企业多年来坚持诚信经营，赢得广泛赞誉。",
)
SOURCES = ("微博", "微信公众号", "今日头条", "大河网", "河南日报", "抖音", "百度贴吧", "郑州晚报")


def _surge_events(
    rng: np.random.Generator, ch: Chunk, tl: Timeline, surges: Int
) -> tuple[Int, Int, list[dict[str, object]]]:
    """A steady baseline of about one complaint a month, then a several-fold jump at the end."""
    rows: list[Int] = []
    days: list[Int] = []
    info: list[dict[str, object]] = []
    for s in surges:
        start = max(int(ch.established[s]), tl.start)
        span = tl.as_of - SURGE_WINDOW - start
        base = rng.poisson(span / 30.0)
        burst = int(rng.poisson(rng.uniform(5, 10))) + 4
        rows.append(np.full(base + burst, s))
        days.append(
            np.concatenate(
                [
                    start + rng.integers(0, span, base),
                    tl.as_of - rng.integers(0, SURGE_WINDOW, burst),
                ]
            )
        )
        info.append(
            {"row": int(s), "baseline_per_30d": round(base * 30.0 / span, 2), "last_30d": burst}
        )
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), info
    return np.concatenate(rows), np.concatenate(days), info


def _top_up_surges(
    rng: np.random.Generator, tl: Timeline, rows: Int, days: Int, info: list[dict[str, object]]
) -> tuple[Int, Int]:
    """Make every planted surge unmistakable against the enterprise's whole baseline.

    A surge enterprise also has the ordinary complaints every enterprise draws, so its real
    baseline can be several times the planted one. Its last 30 days are topped up to at least
    ``SURGE_FACTOR`` times its real rate over the year before (and ``SURGE_MIN``), and the
    truth records the real figures.
    """
    if not info:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    planted = np.array([cast(int, s["row"]) for s in info], np.int64)
    mine = np.isin(rows, planted)
    r, d = rows[mine], days[mine]
    recent_from = tl.as_of - SURGE_WINDOW
    add_rows: list[Int] = []
    add_days: list[Int] = []
    for s in info:
        row = cast(int, s["row"])
        own = d[r == row]
        recent = int(np.count_nonzero((own > recent_from) & (own <= tl.as_of)))
        before = int(np.count_nonzero((own <= recent_from) & (own > recent_from - SURGE_BASELINE)))
        base = before * SURGE_WINDOW / SURGE_BASELINE
        target = max(recent, SURGE_MIN, int(np.ceil(SURGE_FACTOR * base)))
        extra = target - recent
        add_rows.append(np.full(extra, row, np.int64))
        add_days.append(tl.as_of - rng.integers(0, SURGE_WINDOW, extra))
        s["baseline_per_30d"] = round(base, 2)
        s["last_30d"] = target
    return np.concatenate(add_rows), np.concatenate(add_days)


def complaints(
    rng: np.random.Generator, ch: Chunk, tl: Timeline, surges: Int
) -> tuple[pa.Table, tuple[Int, Int], list[dict[str, object]], int]:
    """Complaints and reports, some naming the enterprise without its code.

    Returns
    -------
    table, checks, surge_info, unmatched
        The table; (enterprise, day) of complaints verified on site (投诉核查); the
        planted surges; how many rows name an enterprise that does not exist.
    """
    intensity = np.array([i.complaints for i in w.INDUSTRIES])[ch.industry]
    rows, days = draw_events(rng, ch, tl, 0.29 * intensity, 0.7)
    s_rows, s_days, info = _surge_events(rng, ch, tl, surges)
    rows, days = np.concatenate([rows, s_rows]), np.concatenate([days, s_days])
    t_rows, t_days = _top_up_surges(rng, tl, rows, days, info)
    rows, days = np.concatenate([rows, t_rows]), np.concatenate([days, t_days])
    order = np.lexsort((days, rows))
    rows, days = rows[order], days[order]
    k = len(rows)
    zt = z_at(ch, tl, rows, days)
    kind = pick(rng, k, (0.7, 0.2, 0.1))
    food = w.INDUSTRY_DOMAIN[ch.industry[rows]] == 0
    category = np.where(
        food & (rng.random(k) < 0.5),
        1,
        pick(rng, k, (0.2, 0.05, 0.15, 0.15, 0.05, 0.15, 0.15, 0.1)),
    )
    closed = days + rng.integers(1, 60, k)
    is_closed = closed <= tl.as_of
    subst = rng.random(k) < w.sigmoid(-0.8 + 0.9 * zt)
    has_subst = is_closed & (kind != 2)
    no_uscc = rng.random(k) < NO_USCC_SHARE
    named = no_uscc | (rng.random(k) < 0.04)
    seconds = rng.integers(8 * 3600, 20 * 3600, k)
    # Complaints naming an enterprise that is not registered here (kept and reported).
    m = max(1, int(k * UNMATCHED_SHARE))
    # No registered name ends in 商行, so these can never match one.
    fake_names = join(
        "郑州",
        brands(rng.integers(0, w.BRAND_SPACE, m)),
        take([i.word for i in w.INDUSTRIES], rng.integers(0, len(w.INDUSTRIES), m)),
        "商行",
    )
    fake_days = tl.start + rng.integers(0, tl.as_of - tl.start, m)
    n_all = k + m
    table = pa.table(
        {
            "complaint_id": join("TS", _seq(ch.index, n_all, 7)),
            "uscc": pa.concat_arrays(
                [
                    pc.if_else(
                        pa.array(no_uscc),
                        pa.scalar(None, pa.string()),
                        ch.uscc.take(pa.array(rows)),
                    ),
                    pa.nulls(m, pa.string()),
                ]
            ),
            "enterprise_name": pa.concat_arrays(
                [
                    pc.if_else(
                        pa.array(named), ch.name.take(pa.array(rows)), pa.scalar(None, pa.string())
                    ),
                    fake_names,
                ]
            ),
            "received_on": dates(np.concatenate([days, fake_days])),
            "channel": take(COMPLAINT_CHANNELS, pick(rng, n_all, (0.55, 0.25, 0.05, 0.05, 0.10))),
            "kind": take(COMPLAINT_KINDS, np.concatenate([kind, np.zeros(m, np.int64)])),
            "category": take(
                COMPLAINT_CATEGORIES, np.concatenate([category, np.zeros(m, np.int64)])
            ),
            "substantiated": pa.array(
                np.concatenate([subst, np.zeros(m, bool)]),
                mask=~np.concatenate([has_subst, np.zeros(m, bool)]),
            ),
            "closed_on": opt_dates(
                np.concatenate([closed, fake_days]), np.concatenate([is_closed, np.zeros(m, bool)])
            ),
            "_seconds": pa.array(np.concatenate([seconds, rng.integers(8 * 3600, 20 * 3600, m)])),
        }
    )
    check = (kind != 2) & (rng.random(k) < 0.05)
    return table, (rows[check], days[check]), info, m


def opinions(rng: np.random.Generator, ch: Chunk, tl: Timeline) -> pa.Table:
    """Public-opinion items whose words reveal their sentiment; a third left unlabelled."""
    rows, days = draw_events(rng, ch, tl, 0.2, 0.5)
    k = len(rows)
    zt = z_at(ch, tl, rows, days)
    u = rng.random(k)
    p_neg = w.sigmoid(-1.7 + 1.0 * zt)
    p_pos = w.sigmoid(-1.0 - 0.8 * zt) * (1 - p_neg)
    sentiment = np.where(u < p_neg, 2, np.where(u < p_neg + p_pos, 0, 1))
    sizes = np.array([len(POSITIVE), len(NEUTRAL), len(NEGATIVE)])
    starts = np.array([0, len(POSITIVE), len(POSITIVE) + len(NEUTRAL)])
    template = starts[sentiment] + (rng.random(k) * sizes[sentiment]).astype(np.int64)
    phrase = take(POSITIVE + NEUTRAL + NEGATIVE, template)
    name = ch.name.take(pa.array(rows))
    source = rng.integers(0, len(SOURCES), k)
    no_uscc = rng.random(k) < 0.05
    named = no_uscc | (rng.random(k) < 0.5)
    tail = take(TAILS, np.array([2, 1, 0])[sentiment])
    return pa.table(
        {
            "opinion_id": join("YQ", _seq(ch.index, k, 7)),
            "uscc": pc.if_else(
                pa.array(no_uscc), pa.scalar(None, pa.string()), ch.uscc.take(pa.array(rows))
            ),
            "enterprise_name": pc.if_else(pa.array(named), name, pa.scalar(None, pa.string())),
            "published_on": dates(days),
            "source": take(SOURCES, source),
            "title": join(name, phrase),
            "content": join("据", take(SOURCES, source), "消息，", name, phrase, "。", tail),
            "sentiment": pa.array(np.array(SENTIMENTS)[sentiment], mask=rng.random(k) < 0.3),
            "_seconds": pa.array(rng.integers(0, 86400, k)),
        }
    )
