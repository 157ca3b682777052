"""The scan: run every enabled rule at a date, keep what is new, open or join cases.

Incremental and deduplicated by construction:

- an alert's id is a hash of (rule, enterprise, fingerprint) — the fingerprint names the
  situation (an address, a person, a decision number, a month) — so a re-run finds every
  id already stored and raises nothing;
- one open alert per (rule, enterprise): ``alerts.open_key`` is unique in the database;
- after an alert is closed, the rule's suppression period must pass before it fires again.

Each new alert joins its enterprise's unfinished case, or opens one (待分派) with a deadline
in working days by severity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from riskwatch.alerts.detectors import DETECTORS, Context
from riskwatch.alerts.rules import Rule, RuleSet
from riskwatch.alerts.workflow import SEVERITIES, CaseState, add_working_days, max_severity
from riskwatch.settings import Settings
from riskwatch.store.alerts import ops
from riskwatch.store.alerts.queries import prepare
from riskwatch.store.opdb import session_scope
from riskwatch.store.warehouse import open_warehouse

Progress = Callable[[str], None]


@dataclass
class ScanReport:
    """What a scan found and did, per rule."""

    scan_id: str
    as_of: dt.date
    rules_version: str
    hits: dict[str, int] = field(default_factory=dict)
    raised: dict[str, int] = field(default_factory=dict)
    already_known: dict[str, int] = field(default_factory=dict)
    deduplicated: dict[str, int] = field(default_factory=dict)
    suppressed: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    cases_opened: int = 0
    cases_joined: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total_raised(self) -> int:
        """New alerts over all rules."""
        return sum(self.raised.values())


def alert_id(rule: str, uscc: str, fingerprint: str) -> str:
    """The stable id of an alert: the same situation always gets the same id."""
    return hashlib.sha256(f"{rule}|{uscc}|{fingerprint}".encode()).hexdigest()[:24]


def department(rules: RuleSet, rule: Rule, region_code: str | None) -> str:
    """谁审批、谁监管: the rule's domain desk at the enterprise's registering district."""
    return f"{region_code or '000000'} {rules.departments[rule.domain]}"


def detect(
    settings: Settings, as_of: dt.date, rules: RuleSet, only: list[str] | None, note: Progress
) -> tuple[dict[str, list[dict[str, Any]]], Context, dict[str, float]]:
    """Run the detectors; hits by rule id (a rule that cannot run yields none, with a note)."""
    hits: dict[str, list[dict[str, Any]]] = {}
    seconds: dict[str, float] = {}
    with open_warehouse(settings.warehouse_path, read_only=True) as con:
        prepare(con)
        ctx = Context(settings=settings, as_of=as_of, con=con)
        for rule in rules.rules:
            if not rule.enabled or (only and rule.id not in only):
                continue
            note(rule.id)
            t0 = time.perf_counter()
            table = DETECTORS[rule.detector].fn(ctx, rules.params(rule))
            seconds[rule.id] = round(time.perf_counter() - t0, 3)
            hits[rule.id] = [] if table is None else table.to_pylist()
    return hits, ctx, seconds


def scan(
    settings: Settings,
    as_of: dt.date,
    rules: RuleSet,
    rules_version: str,
    *,
    only: list[str] | None = None,
    note: Progress | None = None,
) -> ScanReport:
    """Raise the alerts of ``as_of`` that are new; open or join cases; return a report."""
    report = ScanReport(
        scan_id=f"{as_of:%Y%m%d}-{uuid.uuid4().hex[:8]}",
        as_of=as_of,
        rules_version=f"{rules.config_version}+{rules_version}",
    )
    hits, ctx, report.seconds = detect(settings, as_of, rules, only, note or (lambda _: None))
    report.notes.extend(ctx.notes)
    now = datetime.now(UTC)
    with session_scope(settings) as s:
        known = ops.known_alert_ids(s, hits)
        open_keys = ops.open_keys(s)
        closed = ops.last_closed(s)
        new: list[dict[str, Any]] = []
        for rule_id, rows in hits.items():
            rule = rules.rule(rule_id)
            counts = dict.fromkeys(("raised", "known", "dedup", "suppressed"), 0)
            for row in sorted(rows, key=lambda r: (r["uscc"], r["fingerprint"] or "")):
                aid = alert_id(rule_id, row["uscc"], row["fingerprint"] or "")
                key = f"{rule_id}:{row['uscc']}"
                last = closed.get((rule_id, row["uscc"]))
                if aid in known:
                    counts["known"] += 1
                elif key in open_keys:
                    counts["dedup"] += 1
                elif last is not None and (as_of - last).days < rule.suppression_days:
                    counts["suppressed"] += 1
                else:
                    counts["raised"] += 1
                    open_keys.add(key)
                    known.add(aid)
                    new.append(_alert_row(rules, rule, row, aid, key, as_of, report, now))
            report.hits[rule_id] = len(rows)
            report.raised[rule_id] = counts["raised"]
            report.already_known[rule_id] = counts["known"]
            report.deduplicated[rule_id] = counts["dedup"]
            report.suppressed[rule_id] = counts["suppressed"]
        cases, events = _attach_cases(s, rules, new, as_of, now, report)
        ops.insert_rows(s, cases, new, events)
    return report


def _alert_row(
    rules: RuleSet,
    rule: Rule,
    row: dict[str, Any],
    aid: str,
    key: str,
    as_of: dt.date,
    report: ScanReport,
    now: datetime,
) -> dict[str, Any]:
    return {
        "alert_id": aid,
        "rule": rule.id,
        "uscc": row["uscc"],
        "severity": rule.severity,
        "raised_on": as_of,
        "department": department(rules, rule, row["region_code"]),
        "fingerprint": (row["fingerprint"] or "")[:255],
        "evidence": json.loads(row["evidence"]) if row["evidence"] else {},
        "open_key": key,
        "state": "open",
        "closed_on": None,
        "case_id": "",
        "rules_version": report.rules_version,
        "scan_id": report.scan_id,
        "created_at": now,
        "_region": row["region_code"],
    }


def _attach_cases(
    s: Any,
    rules: RuleSet,
    new: list[dict[str, Any]],
    as_of: dt.date,
    now: datetime,
    report: ScanReport,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Join each new alert to its enterprise's unfinished case or open one."""
    by_uscc: dict[str, list[dict[str, Any]]] = {}
    for a in new:
        by_uscc.setdefault(a["uscc"], []).append(a)
    existing = ops.open_cases(s, list(by_uscc))
    deadline: dict[str, dt.date] = {
        sev: add_working_days(as_of, days) for sev, days in rules.deadlines_working_days.items()
    }
    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for uscc, alerts in by_uscc.items():
        alerts.sort(key=lambda a: -SEVERITIES.index(a["severity"]))
        case = existing.get(uscc)
        names = "、".join(rules.rule(a["rule"]).name_zh for a in alerts)
        if case is not None:
            report.cases_joined += 1
            case_id = case.case_id
            sev = max_severity([case.severity, alerts[0]["severity"]])
            if sev != case.severity:  # a graver alert tightens the deadline
                case.severity = sev
                case.deadline = min(case.deadline, deadline[sev])
                case.updated_at = now
            events.append(
                _event(case_id, "join", case.state, case.state, f"并入预警: {names}", now)
            )
        else:
            report.cases_opened += 1
            case_id = f"C{as_of:%Y%m%d}{uuid.uuid4().hex[:12].upper()}"
            sev = alerts[0]["severity"]
            cases.append(
                {
                    "case_id": case_id,
                    "uscc": uscc,
                    "state": CaseState.PENDING.value,
                    "severity": sev,
                    "department": alerts[0]["department"],
                    "region_code": alerts[0]["_region"],
                    "assignee": None,
                    "opened_on": as_of,
                    "deadline": deadline[sev],
                    "escalation_level": 0,
                    "escalated_on": None,
                    "actions": None,
                    "closed_on": None,
                    "closed_at": None,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
            events.append(_event(case_id, "open", None, CaseState.PENDING.value, names, now))
        for a in alerts:
            a["case_id"] = case_id
            a.pop("_region", None)
    return cases, events


def _event(
    case_id: str, action: str, before: str | None, after: str, note: str, now: datetime
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "at": now,
        "actor": "system",
        "action": action,
        "from_state": before,
        "to_state": after,
        "note": note,
        "data": None,
    }
