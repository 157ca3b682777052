"""Operational-store access for alerts and cases (SQLAlchemy 2).

Bulk paths (a scan raising thousands of alerts) use Core ``insert`` with lists of dicts;
single-case paths use the ORM so the ``version`` column guards every update.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from riskwatch.errors import ConflictError, NotFoundError
from riskwatch.store.models.cases import Alert, Case, CaseEvent

TERMINAL_STATES = ("已办结", "误报")


def known_alert_ids(session: Session, rules: Iterable[str]) -> set[str]:
    """Ids of every alert ever raised by these rules (the incremental memory)."""
    rows = session.execute(select(Alert.alert_id).where(Alert.rule.in_(list(rules))))
    return set(rows.scalars())


def open_keys(session: Session) -> set[str]:
    """``rule:uscc`` of every open alert."""
    rows = session.execute(select(Alert.open_key).where(Alert.open_key.is_not(None)))
    return {k for k in rows.scalars() if k is not None}


def last_closed(session: Session) -> dict[tuple[str, str], dt.date]:
    """(rule, uscc) → the latest day one of its alerts was closed."""
    stmt = (
        select(Alert.rule, Alert.uscc, func.max(Alert.closed_on))
        .where(Alert.closed_on.is_not(None))
        .group_by(Alert.rule, Alert.uscc)
    )
    return {(r, u): d for r, u, d in session.execute(stmt) if d is not None}


def open_cases(session: Session, usccs: Sequence[str] | None = None) -> dict[str, Case]:
    """Unfinished cases by enterprise (the newest if several)."""
    stmt = select(Case).where(Case.state.not_in(TERMINAL_STATES)).order_by(Case.created_at)
    if usccs is None:
        return {c.uscc: c for c in session.execute(stmt).scalars()}
    out: dict[str, Case] = {}
    codes = list(usccs)
    for start in range(0, len(codes), 5000):  # SQLite caps bound parameters per statement
        chunk = stmt.where(Case.uscc.in_(codes[start : start + 5000]))
        out.update((c.uscc, c) for c in session.execute(chunk).scalars())
    return out


def insert_rows(
    session: Session,
    cases: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> None:
    """Insert new cases, alerts and events in bulk (in that order, for the foreign keys)."""
    for model, rows in ((Case, cases), (Alert, alerts), (CaseEvent, events)):
        for start in range(0, len(rows), 5000):
            session.execute(insert(model), rows[start : start + 5000])


def get_case(session: Session, case_id: str) -> Case:
    """One case, or ``NotFoundError``."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError(f"no case {case_id!r}")
    return case


def _case_filters(
    state: str | None = None,
    department: str | None = None,
    assignee: str | None = None,
    uscc: str | None = None,
    overdue_on: dt.date | None = None,
    prefixes: Sequence[str] = (),
    severity: str | None = None,
    deadline_before: dt.date | None = None,
) -> list[Any]:
    where: list[Any] = []
    if state:
        where.append(Case.state == state)
    if department:
        where.append(Case.department == department)
    if assignee:
        where.append(Case.assignee == assignee)
    if uscc:
        where.append(Case.uscc == uscc)
    if overdue_on:
        where += [Case.deadline < overdue_on, Case.state.not_in(TERMINAL_STATES)]
    for prefix in prefixes:  # region scope, and a region filter within it
        where.append(func.coalesce(Case.region_code, "").startswith(prefix))
    if severity:
        where.append(Case.severity == severity)
    if deadline_before:
        where.append(Case.deadline <= deadline_before)
    return where


def list_cases(
    session: Session, *, limit: int = 100, offset: int = 0, **filters: Any
) -> list[Case]:
    """Cases matching the filters (see :func:`_case_filters`), most urgent deadline first."""
    stmt = select(Case).where(*_case_filters(**filters))
    stmt = stmt.order_by(Case.deadline, Case.case_id).limit(limit).offset(offset)
    return list(session.execute(stmt).scalars())


def count_cases(session: Session, **filters: Any) -> int:
    """How many cases match the filters."""
    stmt = select(func.count()).select_from(Case).where(*_case_filters(**filters))
    return int(session.scalar(stmt) or 0)


def case_counts(
    session: Session, prefix: str, since: dt.date, today: dt.date
) -> list[dict[str, Any]]:
    """Cases of a region prefix per (state, severity): how many, opened and closed since
    ``since``, overdue at ``today`` (one aggregate query, whatever the number of cases)."""

    def flag(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    stmt = (
        select(
            Case.state,
            Case.severity,
            func.count().label("n"),
            flag(Case.opened_on >= since).label("opened"),
            flag(Case.closed_on >= since).label("closed"),
            flag((Case.deadline < today) & Case.state.not_in(TERMINAL_STATES)).label("overdue"),
        )
        .where(func.coalesce(Case.region_code, "").startswith(prefix))
        .group_by(Case.state, Case.severity)
    )
    return [dict(r._mapping) for r in session.execute(stmt)]


def case_alerts(session: Session, case_id: str) -> list[Alert]:
    """The alerts of a case, oldest first."""
    stmt = select(Alert).where(Alert.case_id == case_id).order_by(Alert.raised_on, Alert.rule)
    return list(session.execute(stmt).scalars())


def case_events(session: Session, case_id: str) -> list[CaseEvent]:
    """The history of a case, oldest first."""
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    return list(session.execute(stmt).scalars())


def add_event(session: Session, **values: Any) -> None:
    """Append one event to a case's history."""
    session.add(CaseEvent(**values))


def flush(session: Session) -> None:
    """Write pending changes; a stale ``version`` becomes ``ConflictError``."""
    try:
        session.flush()
    except StaleDataError as exc:
        session.rollback()
        raise ConflictError(
            "the case was changed by someone else meanwhile; reload it and try again"
        ) from exc


def close_alerts(session: Session, case_id: str, state: str, on: dt.date) -> int:
    """Close a case's open alerts (``confirmed`` or ``false_positive``)."""
    stmt = (
        update(Alert)
        .where(Alert.case_id == case_id, Alert.open_key.is_not(None))
        .values(state=state, closed_on=on, open_key=None)
    )
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def overdue_cases(session: Session, on: dt.date) -> list[Case]:
    """Unfinished cases past their deadline and not yet escalated since it passed."""
    stmt = select(Case).where(Case.deadline < on, Case.state.not_in(TERMINAL_STATES))
    return list(session.execute(stmt).scalars())


def export_rows(session: Session, rule: str | None = None) -> list[dict[str, Any]]:
    """Alerts with their case state, in raise order (for the export)."""
    stmt = (
        select(
            Alert.alert_id,
            Alert.rule,
            Alert.uscc,
            Alert.severity,
            Alert.raised_on,
            Alert.state.label("alert_state"),
            Case.state.label("case_state"),
            Alert.department,
            Alert.evidence,
            Alert.case_id,
        )
        .join(Case, Case.case_id == Alert.case_id)
        .order_by(Alert.raised_on, Alert.rule, Alert.uscc)
    )
    if rule:
        stmt = stmt.where(Alert.rule == rule)
    return [dict(r._mapping) for r in session.execute(stmt)]


def feedback_rows(session: Session) -> list[dict[str, Any]]:
    """Per alert: rule, state, raised_on and its case's closing time (for rule feedback)."""
    stmt = select(
        Alert.rule, Alert.state, Alert.raised_on, Alert.created_at, Case.closed_at, Case.closed_on
    ).join(Case, Case.case_id == Alert.case_id)
    return [dict(r._mapping) for r in session.execute(stmt)]
