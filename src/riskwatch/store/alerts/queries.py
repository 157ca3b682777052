"""Warehouse queries behind the alert detectors (DuckDB SQL, one function per detector).

Each returns an Arrow table ``uscc, region_code, fingerprint, evidence`` where
``fingerprint`` names the situation that triggered the hit (an address, a person, a
decision number …) and ``evidence`` is a JSON object with the records and figures.
Parameters are validated numbers (``riskwatch.alerts.rules``) and go in as SQL parameters
or integer literals; the date is always a parameter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa

from riskwatch.store.graph import address_key_sql

ALIVE = """established_on <= $as_of AND (deregistered_on IS NULL OR deregistered_on > $as_of)
  AND status NOT IN ('注销', '吊销', '迁出')"""

OUT = "uscc, region_code, fingerprint, CAST(to_json(evidence) AS VARCHAR) AS evidence"


def run(con: duckdb.DuckDBPyConnection, sql: str, as_of: dt.date, **params: Any) -> pa.Table:
    """Run one detector query with ``$as_of`` and named parameters."""
    return con.sql(sql, params={"as_of": as_of, **params}).to_arrow_table()


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Per-scan helper tables (temporary, so a read-only warehouse is fine): the normalised
    address key of every enterprise, computed once for the rules that need it."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE addr_keys AS "
        f"SELECT uscc, {address_key_sql()} AS k FROM enterprises"
    )


def address_cluster(lookback_days: int, window_days: int) -> str:
    """Enterprises registered at one normalised address, many within ``window_days``."""
    return f"""
    WITH e AS (
      SELECT uscc, region_code, established_on, address, a.k
      FROM enterprises JOIN addr_keys a USING (uscc) WHERE {ALIVE}),
    recent AS (SELECT * FROM e WHERE k IS NOT NULL
               AND established_on > $as_of - INTERVAL {int(lookback_days)} DAY),
    burst AS (
      SELECT k, max(n) AS burst FROM (
        SELECT k, count(*) OVER (PARTITION BY k ORDER BY established_on
          RANGE BETWEEN CURRENT ROW AND INTERVAL {int(window_days)} DAY FOLLOWING) AS n
        FROM recent) GROUP BY k HAVING max(n) >= $min_n),
    grp AS (
      SELECT r.k, count(*) AS n, list(DISTINCT r.address ORDER BY r.address) AS written,
             list(r.uscc ORDER BY r.established_on, r.uscc)[1:30] AS members,
             min(r.established_on) AS first_on, max(r.established_on) AS last_on
      FROM recent r JOIN burst USING (k) GROUP BY r.k)
    SELECT r.uscc, r.region_code, g.k AS fingerprint,
      struct_pack(address_key := g.k, address := r.address, enterprises_at_address := g.n,
        max_registered_within_window := b.burst, window_days := {int(window_days)},
        first_registered := g.first_on, last_registered := g.last_on,
        address_forms := g.written, members := g.members) AS evidence
    FROM recent r JOIN grp g USING (k) JOIN burst b USING (k)"""


def person_cluster(lookback_days: int) -> str:
    """Recently registered enterprises of a person behind many of them."""
    return f"""
    WITH e AS (SELECT uscc, region_code, established_on, legal_rep_id FROM enterprises
               WHERE {ALIVE} AND established_on > $as_of - INTERVAL {int(lookback_days)} DAY),
    links AS (
      SELECT DISTINCT uscc, person, role FROM (
        SELECT uscc, legal_rep_id AS person, '法定代表人' AS role FROM e
        UNION ALL
        SELECT i.uscc, i.holder_id, '股东' FROM investments i JOIN e USING (uscc)
          WHERE i.holder_type = '自然人')
      WHERE person IS NOT NULL),
    per AS (SELECT person, count(DISTINCT uscc) AS n,
                   list(DISTINCT uscc ORDER BY uscc)[1:30] AS members
            FROM links GROUP BY person HAVING count(DISTINCT uscc) >= $min_n),
    hits AS (
      SELECT l.uscc, p.person, p.n, p.members, list(l.role ORDER BY l.role) AS roles,
             row_number() OVER (PARTITION BY l.uscc ORDER BY p.n DESC, p.person) AS rn
      FROM links l JOIN per p USING (person) GROUP BY l.uscc, p.person, p.n, p.members)
    SELECT h.uscc, e.region_code, h.person AS fingerprint,
      struct_pack(person_id := h.person, roles := h.roles, recent_enterprises := h.n,
        lookback_days := {int(lookback_days)}, registered_on := e.established_on,
        members := h.members) AS evidence
    FROM hits h JOIN e USING (uscc) WHERE h.rn = 1"""


def complaint_surge(window_days: int, baseline_days: int) -> str:
    """Complaints in the window far above the enterprise's own baseline and its peers'.

    "Far above" is three tests: at least ``$own_ratio`` times the enterprise's own rate over
    the baseline period before the window (at least one a window), at least ``$peer_ratio``
    times its peers' mean (same industry group), and improbable as a Poisson count at the
    higher of those two rates (upper tail ``P(X >= recent) <= $max_p``), so that a jump from
    a small baseline is not called a surge on ratio alone.
    """
    w, b = int(window_days), int(baseline_days)
    return f"""
    WITH e AS (SELECT uscc, region_code, industry_code FROM enterprises WHERE {ALIVE}),
    c AS (
      SELECT uscc,
        count(*) FILTER (WHERE received_on > $as_of - INTERVAL {w} DAY) AS recent,
        count(*) FILTER (WHERE received_on <= $as_of - INTERVAL {w} DAY
                         AND received_on > $as_of - INTERVAL {w + b} DAY) AS before,
        list(complaint_id ORDER BY received_on DESC, complaint_id)
          FILTER (WHERE received_on > $as_of - INTERVAL {w} DAY) AS ids
      FROM complaints WHERE uscc IS NOT NULL AND received_on <= $as_of
        AND received_on > $as_of - INTERVAL {w + b} DAY
      GROUP BY uscc),
    x AS (SELECT e.*, coalesce(c.recent, 0) AS recent, coalesce(c.before, 0) AS before, c.ids
          FROM e LEFT JOIN c USING (uscc)),
    peers AS (SELECT left(industry_code, 3) AS peer, avg(recent) AS peer_mean
              FROM x GROUP BY 1),
    cand AS (
      SELECT x.*, p.peer, p.peer_mean, x.before * {w} / {b} AS baseline,
        greatest(x.before * {w} / {b}, p.peer_mean, 0.1) AS expected
      FROM x JOIN peers p ON p.peer = left(x.industry_code, 3)
      WHERE x.recent >= $min_count
        AND x.recent >= $own_ratio * greatest(x.before * {w} / {b}, 1.0)
        AND x.recent >= $peer_ratio * p.peer_mean),
    tested AS (
      SELECT *, greatest(0.0, 1.0 - list_sum(list_transform(range(recent),
        lambda i: exp(i * ln(expected) - expected - lgamma(i + 1))))) AS p_value
      FROM cand)
    SELECT uscc, region_code, strftime($as_of, '%Y-%m-%d') AS fingerprint,
      struct_pack(last_days := {w}, complaints := recent,
        baseline_per_window := round(baseline, 2),
        peer_mean_per_window := round(peer_mean, 3), peer_group := peer,
        poisson_p := p_value, complaint_ids := ids[1:20]) AS evidence
    FROM tested WHERE p_value <= $max_p"""


def frequent_changes(window_days: int) -> str:
    """Repeated changes of the watched items within the window."""
    return f"""
    WITH e AS (SELECT uscc, region_code FROM enterprises WHERE {ALIVE}),
    ch AS (SELECT uscc, changed_on, item FROM changes
           WHERE changed_on <= $as_of AND changed_on > $as_of - INTERVAL {int(window_days)} DAY
             AND list_contains($items, item))
    SELECT uscc, e.region_code, strftime(max(changed_on), '%Y-%m-%d') AS fingerprint,
      struct_pack(changes := count(*), window_days := {int(window_days)},
        records := list(struct_pack(changed_on := changed_on, item := item)
                        ORDER BY changed_on, item)) AS evidence
    FROM ch JOIN e USING (uscc) GROUP BY uscc, e.region_code HAVING count(*) >= $min_n"""


def abnormal_registration(window_days: int, predecessor_days: int) -> str:
    """New enterprises: tiny capital + shared address + a person with a history, or a
    successor at the address of one deregistered shortly before."""
    return f"""
    WITH allent AS (SELECT * FROM enterprises JOIN addr_keys USING (uscc)),
    e AS (SELECT * FROM allent WHERE {ALIVE}
          AND established_on > $as_of - INTERVAL {int(window_days)} DAY),
    shared AS (SELECT k, count(*) AS n FROM allent WHERE k IN (SELECT k FROM e)
               AND established_on <= $as_of GROUP BY k HAVING count(*) > 1),
    bad AS (  -- enterprises with a history: gone, or ever on a list
      SELECT uscc, '注销/吊销' AS why FROM allent
        WHERE status IN ('注销', '吊销') OR deregistered_on <= $as_of
      UNION SELECT uscc, '严重违法失信名单' FROM serious_violations WHERE listed_on <= $as_of
      UNION SELECT uscc, '经营异常名录' FROM abnormal_listings WHERE listed_on <= $as_of),
    persons AS (
      SELECT uscc, legal_rep_id AS person FROM enterprises WHERE legal_rep_id IS NOT NULL
      UNION ALL SELECT uscc, holder_id FROM investments WHERE holder_type = '自然人'),
    new_persons AS (  -- only the persons of new tiny-capital enterprises need a history
      SELECT DISTINCT p.person FROM persons p JOIN e USING (uscc)
      WHERE e.registered_capital <= $tiny),
    history AS (SELECT p.person, b.uscc AS firm, b.why FROM persons p JOIN bad b USING (uscc)
                WHERE p.person IN (SELECT person FROM new_persons)),
    a AS (
      SELECT e.uscc, e.region_code, 'tiny_capital_shared_address_person_history' AS fingerprint,
        struct_pack(kind := '小额注册资本+共用地址+人员有不良历史',
          registered_capital := e.registered_capital, address := e.address,
          enterprises_at_address := s.n, person_id := min(h.person),
          person_history := list(DISTINCT h.why ORDER BY h.why),
          person_firms := list(DISTINCT h.firm ORDER BY h.firm)[1:10],
          predecessor := CAST(NULL AS VARCHAR),
          predecessor_deregistered_on := CAST(NULL AS DATE)) AS evidence
      FROM e JOIN shared s USING (k)
      JOIN (SELECT DISTINCT uscc, person FROM persons) p ON p.uscc = e.uscc
      JOIN history h ON h.person = p.person AND h.firm <> e.uscc
      WHERE e.registered_capital <= $tiny
      GROUP BY e.uscc, e.region_code, e.registered_capital, e.address, s.n),
    b AS (
      SELECT e.uscc, e.region_code, 'successor_of_deregistered' AS fingerprint,
        struct_pack(kind := '注销企业原址新设企业',
          registered_capital := e.registered_capital, address := e.address,
          enterprises_at_address := NULL::BIGINT, person_id := NULL::VARCHAR,
          person_history := NULL::VARCHAR[], person_firms := NULL::VARCHAR[],
          predecessor := d.uscc, predecessor_deregistered_on := d.deregistered_on) AS evidence
      FROM e JOIN allent d ON d.k = e.k AND d.uscc <> e.uscc
      WHERE d.deregistered_on IS NOT NULL AND d.deregistered_on <= e.established_on
        AND d.deregistered_on > e.established_on - INTERVAL {int(predecessor_days)} DAY)
    SELECT * FROM (
      SELECT *, row_number() OVER (PARTITION BY uscc
        ORDER BY fingerprint, CAST(evidence AS VARCHAR)) AS rn
      FROM (SELECT * FROM a UNION ALL SELECT * FROM b)) WHERE rn = 1
    ORDER BY uscc"""


def annual_report_missing() -> str:
    """The last annual report due (30 June) not submitted by as-of (branches file none)."""
    return f"""
    WITH y AS (SELECT CASE WHEN month($as_of) > 6 THEN year($as_of) - 1
                           ELSE year($as_of) - 2 END AS due_year),
    e AS (SELECT uscc, region_code, established_on FROM enterprises, y
          WHERE {ALIVE} AND entity_type <> '分公司' AND year(established_on) <= y.due_year)
    SELECT e.uscc, e.region_code, CAST(y.due_year AS VARCHAR) AS fingerprint,
      struct_pack(year := y.due_year, deadline := make_date(y.due_year + 1, 6, 30),
        established_on := e.established_on) AS evidence
    FROM e, y WHERE NOT EXISTS (
      SELECT 1 FROM annual_reports r WHERE r.uscc = e.uscc AND r.year = y.due_year
        AND r.submitted_on IS NOT NULL AND r.submitted_on <= $as_of)"""


def penalty_publicity_ending(horizon_days: int) -> str:
    """Penalties whose publicity ends within the horizon and that are not repaired."""
    return f"""
    SELECT p.uscc, e.region_code, p.decision_no AS fingerprint,
      struct_pack(decision_no := p.decision_no, decided_on := p.decided_on,
        violation := p.violation, penalty_kinds := p.penalty_kinds, fine := p.fine,
        publicity_until := p.publicity_until,
        days_left := date_diff('day', $as_of, p.publicity_until)) AS evidence
    FROM penalties p JOIN enterprises e USING (uscc)
    WHERE p.decided_on <= $as_of AND p.publicity_until > $as_of
      AND p.publicity_until <= $as_of + INTERVAL {int(horizon_days)} DAY
      AND (p.repaired_on IS NULL OR p.repaired_on > $as_of)"""


def licence_expired_operating(lookback_days: int) -> str:
    """A licence expired (not renewed, not cancelled) while the enterprise still operates:
    complaints, opinions or a working inspection after the expiry."""
    return f"""
    WITH e AS (SELECT uscc, region_code FROM enterprises WHERE {ALIVE}),
    lic AS (
      SELECT l.* FROM licenses l JOIN e USING (uscc)
      WHERE l.status = '有效' AND l.valid_until < $as_of
        AND l.valid_until >= $as_of - INTERVAL {int(lookback_days)} DAY
        AND NOT EXISTS (SELECT 1 FROM licenses n WHERE n.uscc = l.uscc AND n.kind = l.kind
          AND n.issued_on <= $as_of AND (n.valid_until IS NULL OR n.valid_until >= $as_of)
          AND n.status = '有效')),
    act AS (
      SELECT uscc, received_on AS on_day, '投诉举报' AS what FROM complaints
        WHERE uscc IS NOT NULL AND received_on <= $as_of
      UNION ALL SELECT uscc, published_on, '舆情' FROM opinions
        WHERE uscc IS NOT NULL AND published_on <= $as_of
      UNION ALL SELECT uscc, inspected_on, '检查:' || result FROM inspections
        WHERE inspected_on <= $as_of AND result NOT IN
          ('未发现开展本次抽查涉及的经营活动', '已关闭停业或正在组织清算', '企业已注销'))
    SELECT l.uscc, e.region_code, l.license_no AS fingerprint,
      struct_pack(license_no := l.license_no, kind := l.kind, valid_until := l.valid_until,
        activity_after_expiry := list(struct_pack(on_day := a.on_day, what := a.what)
                                      ORDER BY a.on_day, a.what)[1:10]) AS evidence
    FROM lic l JOIN e USING (uscc) JOIN act a ON a.uscc = l.uscc AND a.on_day > l.valid_until
    GROUP BY l.uscc, e.region_code, l.license_no, l.kind, l.valid_until"""


def negative_opinions(window_days: int) -> str:
    """Opinions in the window with their sentiment (may be empty: computed by the caller)."""
    return f"""
    SELECT o.uscc, e.region_code, o.opinion_id, o.published_on, o.source, o.title,
           o.content, o.sentiment
    FROM opinions o JOIN enterprises e USING (uscc)
    WHERE o.uscc IS NOT NULL AND o.published_on <= $as_of
      AND o.published_on > $as_of - INTERVAL {int(window_days)} DAY
      AND (o.sentiment IS NULL OR o.sentiment = '负面')"""


def judicial_dishonest(lookback_days: int) -> str:
    """Enterprises newly listed as 失信被执行人 (open cases filed in the lookback)."""
    return f"""
    SELECT j.uscc, e.region_code, j.case_no AS fingerprint,
      struct_pack(case_no := j.case_no, filed_on := j.filed_on, case_type := j.case_type,
        amount := j.amount) AS evidence
    FROM judicial j JOIN enterprises e USING (uscc)
    WHERE j.role = '失信被执行人' AND j.filed_on <= $as_of
      AND j.filed_on > $as_of - INTERVAL {int(lookback_days)} DAY
      AND (j.closed_on IS NULL OR j.closed_on > $as_of)"""


def region_codes(con: duckdb.DuckDBPyConnection, usccs: list[str]) -> pa.Table:
    """``uscc, region_code`` of the given enterprises."""
    sql = "SELECT uscc, region_code FROM enterprises WHERE list_contains($u, uscc)"
    return con.sql(sql, params={"u": usccs}).to_arrow_table()


def finish(sql: str) -> str:
    """Wrap a detector query so it returns exactly the hit columns."""
    return f"SELECT {OUT} FROM ({sql})"
