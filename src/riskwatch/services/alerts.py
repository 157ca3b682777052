"""Use cases of early warning: scan, export, rules; and the relationship graph build.

``ScanService(settings).validate(as_of)`` checks the rules file and that a warehouse exists;
``run(as_of)`` raises the new alerts, opens or joins cases and escalates overdue cases; the
scheduled job (``services/jobs.py``) records it in the job history.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from riskwatch.alerts.engine import ScanReport, scan
from riskwatch.alerts.rules import RuleSet, load_rules
from riskwatch.errors import InputError, StoreError
from riskwatch.exports import write_table
from riskwatch.graph.build import BuildResult, build
from riskwatch.services.cases import escalate_overdue
from riskwatch.settings import Settings
from riskwatch.store.alerts import ops
from riskwatch.store.opdb import session_scope

EXPORT_COLUMNS = (
    "alert_id",
    "rule",
    "uscc",
    "severity",
    "raised_on",
    "state",
    "department",
    "evidence",
)
EXPORT_HEADERS = {
    "alert_id": "预警编号 alert_id",
    "rule": "规则 rule",
    "uscc": "统一社会信用代码 uscc",
    "severity": "等级 severity",
    "raised_on": "预警日期 raised_on",
    "state": "状态 state",
    "department": "承办部门 department",
    "evidence": "依据 evidence",
}


@dataclass
class ScanService:
    """Scan the warehouse for alerts at a date."""

    settings: Settings
    rules_path: Path | None = None

    def validate(self, as_of: dt.date) -> tuple[RuleSet, str]:
        """Check the rules and that there is a warehouse; return the rules and their hash."""
        rules, digest = load_rules(self.rules_path)
        if not self.settings.warehouse_path.exists():
            raise StoreError(
                f"no warehouse at {self.settings.warehouse_path}: run 'riskwatch ingest DIR'"
            )
        if as_of > dt.date.today() + dt.timedelta(days=1):
            raise InputError(f"--as-of {as_of} is in the future")
        return rules, digest

    def run(
        self,
        as_of: dt.date,
        *,
        only: list[str] | None = None,
        note: Callable[[str], None] | None = None,
    ) -> ScanResult:
        """Raise the new alerts of ``as_of``, then escalate overdue cases."""
        rules, digest = self.validate(as_of)
        unknown = [r for r in only or [] if r not in {x.id for x in rules.rules}]
        if unknown:
            raise InputError(f"unknown rules: {', '.join(unknown)}")
        report = scan(self.settings, as_of, rules, digest, only=only, note=note)
        escalated = escalate_overdue(
            self.settings, as_of, deadlines=dict(rules.deadlines_working_days)
        )
        return ScanResult(report, escalated)


@dataclass
class ScanResult:
    """A scan's report and the cases it escalated (``run_id``/``counts`` for job history)."""

    report: ScanReport
    escalated: list[str]

    @property
    def run_id(self) -> str:
        """The scan id."""
        return self.report.scan_id

    @property
    def counts(self) -> dict[str, int]:
        """Headline counts of the scan."""
        return {
            "raised": self.report.total_raised,
            "cases_opened": self.report.cases_opened,
            "cases_joined": self.report.cases_joined,
            "escalated": len(self.escalated),
        }


def export_alerts(settings: Settings, out: Path, rule: str | None = None) -> int:
    """Write every alert (``alert_id, rule, uscc, severity, raised_on, state, department,
    evidence``) to ``out`` (.csv or .xlsx); the state is the case's (待分派 … 已办结, 误报)."""
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"{out}: export to .csv or .xlsx")
    with session_scope(settings) as s:
        rows = ops.export_rows(s, rule)
    cols: dict[str, list[Any]] = {c: [] for c in EXPORT_COLUMNS}
    for r in rows:
        for c in EXPORT_COLUMNS:
            if c == "state":
                cols[c].append(r["case_state"])
            elif c == "evidence":
                cols[c].append(json.dumps(r["evidence"], ensure_ascii=False, sort_keys=True))
            elif c == "raised_on":
                cols[c].append(r[c].isoformat())
            else:
                cols[c].append(r[c])
    table = pa.table({c: pa.array(v, pa.string()) for c, v in cols.items()})
    return write_table(table, out)


def rules_summary(rules_path: Path | None = None) -> tuple[RuleSet, str]:
    """The validated rules and their hash (for ``riskwatch alerts rules``)."""
    return load_rules(rules_path)


def build_graph(settings: Settings, as_of: dt.date) -> BuildResult:
    """Build the relationship graph at ``as_of`` (links, clusters, related-party risk)."""
    if not settings.warehouse_path.exists():
        raise StoreError(f"no warehouse at {settings.warehouse_path}: run 'riskwatch ingest DIR'")
    return build(settings, as_of)
