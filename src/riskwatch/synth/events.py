"""Risk-driven enforcement records: penalties, licences, court cases."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.ingest.contract import DOMAINS, JUDICIAL_ROLES
from riskwatch.synth import world as w
from riskwatch.synth.enterprises import Chunk
from riskwatch.synth.filings import authority
from riskwatch.synth.rates import (
    dates,
    draw_events,
    join,
    opt_dates,
    padded,
    pick,
    take,
    text,
    z_at,
)
from riskwatch.synth.timeline import Timeline, add_months, year_of

Int = npt.NDArray[np.int64]

MINOR = ("警告", "罚款", "警告;罚款", "通报批评")
MODERATE = ("罚款", "罚款;没收违法所得", "没收违法所得;罚款", "罚款;没收非法财物")
SERIOUS = (
    "罚款;没收违法所得;吊销许可证",
    "责令停产停业;罚款",
    "罚款;限制从业",
    "吊销许可证",
    "责令关闭;没收非法财物",
    "暂扣许可证;罚款",
)
PENALTY_TEXTS = MINOR + MODERATE + SERIOUS
SEVERITY_START = (0, len(MINOR), len(MINOR) + len(MODERATE))
SEVERITY_SIZE = (len(MINOR), len(MODERATE), len(SERIOUS))
VIOLATIONS = {
    "食品": (
        "经营超过保质期的食品",
        "未取得食品经营许可从事食品经营活动",
        "食品经营者未按规定查验进货",
    ),
    "药品": ("销售劣药", "未按规定储存药品"),
    "医疗器械": ("经营未经注册的医疗器械", "未按规定建立进货查验记录"),
    "特种设备": ("使用未经定期检验的特种设备", "特种设备作业人员无证上岗"),
    "工业产品": ("销售不合格产品", "生产者未取得生产许可证生产产品"),
    "广告": ("发布虚假广告", "广告使用绝对化用语"),
    "价格": ("不明码标价", "价格欺诈"),
    "知识产权": ("侵犯注册商标专用权", "销售侵犯注册商标专用权的商品"),
    "计量": ("使用不合格计量器具", "计量器具未按规定检定"),
    "其他": ("无照经营", "未按规定公示即时信息", "虚假登记", "不正当竞争"),
}
OTHER_LICENSES = (
    "户外广告设施设置许可",
    "特种设备使用登记证",
    "排污许可证",
    "卫生许可证",
    "烟草专卖零售许可证",
    "酒类商品零售许可证",
)
CIVIL_CASES = (
    "买卖合同纠纷",
    "劳动争议",
    "民间借贷纠纷",
    "租赁合同纠纷",
    "服务合同纠纷",
    "建设工程施工合同纠纷",
    "侵害商标权纠纷",
)


def _seq(chunk: int, n: int, width: int) -> pa.Array:
    """Unique serials: the chunk number then a zero-padded counter."""
    return padded(np.arange(n, dtype=np.int64) + (chunk + 1) * 10**width, width + 3)


def penalties(
    rng: np.random.Generator, ch: Chunk, tl: Timeline
) -> tuple[pa.Table, tuple[Int, Int]]:
    """Administrative penalties and the heavy ones that lead to the serious list."""
    rows, days = draw_events(rng, ch, tl, 0.027, 1.1)
    k = len(rows)
    zt = z_at(ch, tl, rows, days)
    u = rng.random(k)
    p_serious = w.sigmoid(-3.6 + 0.9 * zt)
    p_moderate = w.sigmoid(-0.9 + 0.5 * zt)
    sev = np.where(u < p_serious, 2, np.where(u < p_serious + p_moderate * (1 - p_serious), 1, 0))
    size = np.array(SEVERITY_SIZE)[sev]
    kind = np.array(SEVERITY_START)[sev] + (rng.random(k) * size).astype(np.int64)
    kinds = take(PENALTY_TEXTS, kind)
    sep = pick(rng, k, (0.7, 0.2, 0.1))
    kinds = pc.if_else(pa.array(sep == 1), pc.replace_substring(kinds, ";", "、"), kinds)
    kinds = pc.if_else(pa.array(sep == 2), pc.replace_substring(kinds, ";", "，"), kinds)
    warning_only = np.isin(kind, [0, 3])
    fine_mu = np.array([np.log(0.2), np.log(3.0), np.log(40.0)])[sev]
    fine = np.round(rng.lognormal(fine_mu, 0.7), 2)
    months = np.select([sev == 0, sev == 1], [3, rng.integers(3, 13, k)], rng.integers(12, 37, k))
    until = add_months(days, months)
    repair_share = np.array([0.0, 0.3, 0.2])[sev] * w.sigmoid(-zt)
    repaired = days + np.where(sev == 2, 365, 90) + rng.integers(0, 200, k)
    has_repair = (rng.random(k) < 2 * repair_share) & (repaired < until) & (repaired <= tl.as_of)
    domain = np.where(
        rng.random(k) < 0.75, w.INDUSTRY_DOMAIN[ch.industry[rows]], rng.integers(0, len(DOMAINS), k)
    )
    offsets = np.cumsum([0] + [len(VIOLATIONS[d]) for d in DOMAINS])
    counts = np.array([len(VIOLATIONS[d]) for d in DOMAINS])
    violation = offsets[domain] + (rng.random(k) * counts[domain]).astype(np.int64)
    short = take([d.name[:2] for d in w.DISTRICTS], ch.district[rows])
    year = year_of(days)
    table = pa.table(
        {
            "decision_no": join(
                "郑", short, "市监罚〔", text(year), "〕", _seq(ch.index, k, 6), "号"
            ),
            "uscc": ch.uscc.take(pa.array(rows)),
            "decided_on": dates(days),
            "authority": authority(ch, rows),
            "violation": take([v for d in DOMAINS for v in VIOLATIONS[d]], violation),
            "penalty_kinds": kinds,
            "fine": pa.array(fine, mask=warning_only),
            "domain": take(DOMAINS, domain),
            "publicity_until": opt_dates(until, ~warning_only),
            "repaired_on": opt_dates(repaired, has_repair),
            "_part": text(year),
        }
    )
    heavy = (sev == 2) & np.isin(kind, [SEVERITY_START[2] + i for i in (0, 1, 3, 4)])
    # only the gravest cases of the riskiest reach the serious list (≈ 1 % of enterprises)
    heavy &= rng.random(k) < w.sigmoid(-8.0 + 2.6 * zt)
    listed = days + rng.integers(5, 40, k)
    heavy &= (listed <= tl.as_of) & (listed < ch.end[rows])
    return table, (rows[heavy], listed[heavy])


def licenses(rng: np.random.Generator, ch: Chunk, tl: Timeline) -> pa.Table:
    """Licences: the industry's licence renewed every five years, and occasional others."""
    needs = np.array([bool(i.license) for i in w.INDUSTRIES])[ch.industry]
    row = np.flatnonzero(needs & (ch.established + 100 <= tl.as_of))
    issued = ch.established[row] + rng.integers(10, 90, len(row))
    parts_row, parts_day, parts_kind = [], [], []
    kind_of = np.arange(len(w.INDUSTRIES))[ch.industry]
    while len(row):
        parts_row.append(row)
        parts_day.append(issued)
        parts_kind.append(kind_of[row])
        nxt = add_months(issued, 60) - rng.integers(0, 60, len(row))
        zt = z_at(ch, tl, row, np.minimum(nxt, tl.as_of))
        go = (nxt <= tl.as_of) & (nxt < ch.end[row]) & (rng.random(len(row)) > w.sigmoid(-3 + zt))
        row, issued = row[go], nxt[go]
    o_rows, o_days = draw_events(rng, ch, tl, 0.035, 0.2)
    rows = np.concatenate([*parts_row, o_rows])
    days = np.concatenate([*parts_day, o_days])
    n_ind = len(w.INDUSTRIES)
    kind = np.concatenate([*parts_kind, n_ind + rng.integers(0, len(OTHER_LICENSES), len(o_rows))])
    order = np.lexsort((days, rows))
    rows, days, kind = rows[order], days[order], kind[order]
    k = len(rows)
    valid = add_months(days, np.where(kind < n_ind, 60, rng.integers(36, 61, k)))
    zt = z_at(ch, tl, rows, np.minimum(days, tl.as_of))
    u = rng.random(k)
    superseded = np.zeros(k, bool)
    superseded[:-1] = (rows[1:] == rows[:-1]) & (kind[1:] == kind[:-1])
    ended = ch.end[rows] <= tl.as_of
    status = np.select(
        [
            u < w.sigmoid(-6.5 + 1.2 * zt),
            (u < w.sigmoid(-4.5 + 1.2 * zt)) | (ch.status[rows] == 2),
            superseded | ended | ((valid < tl.as_of) & (u > 0.4)),
        ],
        [3, 2, 1],
        0,
    )
    names = [i.license for i in w.INDUSTRIES] + list(OTHER_LICENSES)
    prefix = np.where(
        np.isin(kind, [i for i, x in enumerate(names) if x == "食品经营许可证"]), 0, 1
    )
    return pa.table(
        {
            "license_no": join(
                take(("JY1", "XK1"), prefix),
                take([str(d.code) for d in w.DISTRICTS], ch.district[rows]),
                _seq(ch.index, k, 7),
            ),
            "uscc": ch.uscc.take(pa.array(rows)),
            "kind": take(names, kind),
            "issued_on": dates(days),
            "valid_until": dates(valid),
            "status": take(("有效", "注销", "吊销", "撤销"), status),
        }
    )


def judicial(rng: np.random.Generator, ch: Chunk, tl: Timeline) -> pa.Table:
    """Court cases; judgment debtors and dishonest debtors (失信被执行人) are the risky ones."""
    rows, days = draw_events(rng, ch, tl, 0.06, 0.8)
    k = len(rows)
    zt = z_at(ch, tl, rows, days)
    u = rng.random(k)
    # 失信被执行人 is rare (≈ 2 % of live enterprises at a time) and a mark of the riskiest:
    # most debtors pay up and leave the list; the riskiest stay on it.
    p_dis = w.sigmoid(-11.0 + 3.2 * zt)
    p_exe = w.sigmoid(-2.6 + 1.0 * zt)
    other = pick(rng, k, (0.35, 0.55, 0.10))  # 原告, 被告, 第三人
    role = np.where(u < p_dis, 4, np.where(u < p_dis + p_exe, 3, other))
    execution = role >= 3
    code4 = take([f"{d.code % 10000:04d}" for d in w.DISTRICTS], ch.district[rows])
    kind = pc.if_else(pa.array(execution), "执", "民初")
    closes = np.where(role == 4, w.sigmoid(2.5 - 1.2 * zt), 0.75)
    closed = days + np.where(role == 4, rng.integers(60, 540, k), rng.integers(30, 400, k))
    has_close = (rng.random(k) < closes) & (closed <= tl.as_of)
    amount = np.round(rng.lognormal(1.5, 1.2, k), 2)
    return pa.table(
        {
            "case_no": join(
                "（", text(year_of(days)), "）豫", code4, kind, _seq(ch.index, k, 6), "号"
            ),
            "uscc": ch.uscc.take(pa.array(rows)),
            "filed_on": dates(days),
            "role": take(JUDICIAL_ROLES, role),
            "case_type": take(CIVIL_CASES, rng.integers(0, len(CIVIL_CASES), k)),
            "amount": pa.array(amount, mask=rng.random(k) < 0.1),
            "closed_on": opt_dates(closed, has_close),
        }
    )
