"""Use cases of the case workflow (闭环管理), shared by the CLI and the web service.

Plain typed functions; the actor is passed in (no HTTP assumptions).  Every change goes
through :func:`transition`, which checks the transition table
(:data:`riskwatch.alerts.workflow.TRANSITIONS`), the optimistic-locking version and the
action's requirements, then stores an event with actor, time and note.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from riskwatch.alerts.workflow import (
    ACTION_LABELS,
    ACTIONS,
    DEADLINE_WORKING_DAYS,
    TERMINAL,
    CaseState,
    add_working_days,
    next_state,
)
from riskwatch.errors import ConflictError, InputError
from riskwatch.settings import Settings
from riskwatch.store.alerts import ops
from riskwatch.store.opdb import session_scope


class CaseView(BaseModel):
    """A case as shown in lists."""

    model_config = ConfigDict(from_attributes=True)

    case_id: str
    uscc: str
    state: str
    severity: str
    department: str
    assignee: str | None
    opened_on: dt.date
    deadline: dt.date
    escalation_level: int
    actions: list[str] | None
    closed_on: dt.date | None
    version: int
    region_code: str | None = None


class EventView(BaseModel):
    """One step in a case's history."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    note: str | None


class AlertView(BaseModel):
    """An alert of a case, with its evidence."""

    model_config = ConfigDict(from_attributes=True)

    alert_id: str
    rule: str
    severity: str
    raised_on: dt.date
    state: str
    evidence: dict[str, Any]


class CaseDetail(BaseModel):
    """A case with its alerts and history."""

    case: CaseView
    alerts: list[AlertView]
    events: list[EventView]


class RuleFeedback(BaseModel):
    """How one rule performs in handling: for tuning noisy rules."""

    rule: str
    raised: int
    open: int
    confirmed: int
    false_positive: int
    precision: float | None
    median_days_to_closure: float | None


def _now() -> datetime:
    return datetime.now(UTC)


def _filters(
    state: str | None = None,
    department: str | None = None,
    assignee: str | None = None,
    uscc: str | None = None,
    overdue_on: dt.date | None = None,
    prefixes: tuple[str, ...] = (),
    severity: str | None = None,
    deadline_before: dt.date | None = None,
) -> dict[str, Any]:
    if state is not None:
        state = CaseState(state).value if state in CaseState._value2member_map_ else _bad(state)
    return {
        "state": state, "department": department, "assignee": assignee, "uscc": uscc,
        "overdue_on": overdue_on, "prefixes": prefixes, "severity": severity,
        "deadline_before": deadline_before,
    }  # fmt: skip


def list_cases(
    settings: Settings,
    *,
    state: str | None = None,
    department: str | None = None,
    assignee: str | None = None,
    uscc: str | None = None,
    overdue_on: dt.date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[CaseView]:
    """Cases matching the filters, most urgent deadline first."""
    filters = _filters(state, department, assignee, uscc, overdue_on)
    with session_scope(settings) as s:
        rows = ops.list_cases(s, limit=limit, offset=offset, **filters)
        return [CaseView.model_validate(c) for c in rows]


def case_page(
    settings: Settings, *, limit: int, offset: int, **filters: Any
) -> tuple[int, list[CaseView]]:
    """A page of the cases matching the filters (of :func:`_filters`; ``prefixes``: region
    codes every case's region must start with), most urgent first, and how many match."""
    where = _filters(**filters)
    with session_scope(settings) as s:
        rows = ops.list_cases(s, limit=limit, offset=offset, **where)
        return ops.count_cases(s, **where), [CaseView.model_validate(c) for c in rows]


def case_summary(settings: Settings, prefix: str, today: dt.date) -> dict[str, Any]:
    """Cases of a region prefix: total, by state and severity, opened and closed in the
    last 30 days, overdue (counted in the database)."""
    since = today - dt.timedelta(days=30)
    with session_scope(settings) as s:
        rows = ops.case_counts(s, prefix, since, today)
    by_state: dict[str, int] = defaultdict(int)
    by_severity: dict[str, int] = defaultdict(int)
    for r in rows:
        by_state[str(r["state"])] += int(r["n"])
        by_severity[str(r["severity"])] += int(r["n"])
    return {
        "total": sum(int(r["n"]) for r in rows),
        "by_state": dict(by_state),
        "opened_30d": sum(int(r["opened"] or 0) for r in rows),
        "closed_30d": sum(int(r["closed"] or 0) for r in rows),
        "overdue": sum(int(r["overdue"] or 0) for r in rows),
        "by_severity": dict(by_severity),
    }


def _bad(state: str) -> str:
    raise InputError(f"unknown case state {state!r}; one of {', '.join(CaseState)}")


def get_case(settings: Settings, case_id: str) -> CaseDetail:
    """A case with its alerts and its full history."""
    with session_scope(settings) as s:
        case = ops.get_case(s, case_id)
        return CaseDetail(
            case=CaseView.model_validate(case),
            alerts=[AlertView.model_validate(a) for a in ops.case_alerts(s, case_id)],
            events=[EventView.model_validate(e) for e in ops.case_events(s, case_id)],
        )


def transition(
    settings: Settings,
    case_id: str,
    action: str,
    *,
    actor: str,
    note: str | None = None,
    expected_version: int | None = None,
    assignee: str | None = None,
    measures: list[str] | None = None,
    on: dt.date | None = None,
) -> CaseView:
    """Move a case by ``action`` (assign, start, return, dispose, close, false_positive).

    Parameters
    ----------
    expected_version
        The version the caller saw; if the case has changed since, ``ConflictError``.
    assignee
        Required by ``assign``.
    measures
        Required by ``dispose``: one or more of 提醒、警示、约谈、检查、立案.
    on
        The business date of the step (default: today); closing dates use it.

    Raises
    ------
    ConflictError
        The transition is not in the table, or the case changed meanwhile.
    InputError
        A required argument is missing or wrong.
    """
    if not actor:
        raise InputError("an actor is required")
    if action == "assign" and not assignee:
        raise InputError("assign needs an assignee")
    if action == "dispose":
        bad = [m for m in measures or [] if m not in ACTIONS]
        if not measures or bad:
            raise InputError(f"dispose needs measures from {'、'.join(ACTIONS)}")
    if action in ("return", "false_positive") and not note:
        raise InputError(f"{ACTION_LABELS[action]} needs a note saying why")
    day = on or dt.date.today()
    with session_scope(settings) as s:
        case = ops.get_case(s, case_id)
        if expected_version is not None and case.version != expected_version:
            raise ConflictError(
                f"case {case_id} is at version {case.version}, not {expected_version}: "
                "someone changed it meanwhile; reload it"
            )
        try:
            target = next_state(case.state, action)
        except ValueError as exc:
            raise ConflictError(f"case {case_id}: {exc}") from None
        before = case.state
        case.state = target.value
        case.updated_at = _now()
        if action == "assign":
            case.assignee = assignee
        if action == "dispose":
            case.actions = sorted(set((case.actions or []) + list(measures or [])))
        if target in TERMINAL:
            case.closed_on = day
            case.closed_at = case.updated_at
            ops.close_alerts(
                s,
                case_id,
                "confirmed" if target == CaseState.CLOSED else "false_positive",
                day,
            )
        ops.add_event(
            s,
            case_id=case_id,
            at=case.updated_at,
            actor=actor,
            action=action,
            from_state=before,
            to_state=target.value,
            note=note,
            data={"assignee": assignee, "measures": measures} if assignee or measures else None,
        )
        ops.flush(s)
        return CaseView.model_validate(case)


def assign(
    settings: Settings,
    case_id: str,
    assignee: str,
    *,
    actor: str,
    note: str | None = None,
    expected_version: int | None = None,
) -> CaseView:
    """Assign (or reassign) a case to a person or desk."""
    return transition(
        settings,
        case_id,
        "assign",
        actor=actor,
        note=note,
        assignee=assignee,
        expected_version=expected_version,
    )


def escalate_overdue(
    settings: Settings,
    on: dt.date,
    *,
    actor: str = "system",
    deadlines: dict[str, int] | None = None,
) -> list[str]:
    """Escalate every unfinished case past its deadline; return their ids.

    Each escalation raises ``escalation_level`` by one, records an event and sets a new
    deadline one more period (the severity's working days) ahead, so a case that stays
    overdue escalates again.
    """
    days = deadlines or DEADLINE_WORKING_DAYS
    out = []
    with session_scope(settings) as s:
        for case in ops.overdue_cases(s, on):
            case.escalation_level += 1
            case.escalated_on = on
            old = case.deadline
            case.deadline = add_working_days(on, days.get(case.severity, 10))
            case.updated_at = _now()
            ops.add_event(
                s,
                case_id=case.case_id,
                at=case.updated_at,
                actor=actor,
                action="escalate",
                from_state=case.state,
                to_state=case.state,
                note=f"逾期(期限{old.isoformat()})，升级至第{case.escalation_level}级",
                data={"level": case.escalation_level, "old_deadline": old.isoformat()},
            )
            out.append(case.case_id)
        ops.flush(s)
    return out


def feedback(settings: Settings) -> list[RuleFeedback]:
    """Per rule: alerts raised, open, confirmed, false positives, median days to closure."""
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with session_scope(settings) as s:
        for row in ops.feedback_rows(s):
            per[row["rule"]].append(row)
    out = []
    for rule, rows in sorted(per.items()):
        confirmed = sum(r["state"] == "confirmed" for r in rows)
        false_pos = sum(r["state"] == "false_positive" for r in rows)
        days = [
            (r["closed_on"] - r["raised_on"]).days
            for r in rows
            if r["state"] != "open" and r["closed_on"] is not None
        ]
        out.append(
            RuleFeedback(
                rule=rule,
                raised=len(rows),
                open=sum(r["state"] == "open" for r in rows),
                confirmed=confirmed,
                false_positive=false_pos,
                precision=round(confirmed / (confirmed + false_pos), 3)
                if confirmed + false_pos
                else None,
                median_days_to_closure=float(statistics.median(days)) if days else None,
            )
        )
    return out
