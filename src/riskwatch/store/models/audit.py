"""The audit log: append-only entries, each holding the hash of the one before."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from riskwatch.store.opdb import Base


class AuditEntry(Base):
    """One access or change: who, what, on which object, chained by hash."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(256))
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last sequence number and hash (locked while appending)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""


def append(
    session: Session,
    makes: Sequence[Callable[[int, str], dict[str, Any]]],
) -> list[int]:
    """Append entries in order: claim their sequence numbers on the head row, build each
    entry (a dict of :class:`AuditEntry`'s columns) on (its seq, the hash before it), store
    them in one statement, move the head's hash; returns the sequence numbers.

    The first UPDATE takes the write lock (SQLite's RESERVED lock, PostgreSQL's row lock)
    and claims every number of the batch at once, so concurrent appenders from any process
    queue up instead of forking the chain. Core statements, not the unit of work: this runs
    for every request.
    """
    n = len(makes)
    if not n:
        return []
    conn = session.connection()  # plain Core: no ORM statement processing
    claimed = conn.execute(_CLAIM, {"n": n}).one_or_none()
    if claimed is None:
        raise RuntimeError("audit head missing: call ensure_head() first")
    seq, prev = int(claimed[0]) - n, str(claimed[1])
    rows = []
    for make in makes:
        seq += 1
        row = make(seq, prev)
        rows.append(row)
        prev = row["hash"]
    conn.execute(_INSERT, rows)
    conn.execute(_MOVE_HEAD, {"head_hash": prev})
    return [int(r["seq"]) for r in rows]


_HEAD = cast(Table, AuditHead.__table__)
_CLAIM = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=_HEAD.c.seq + bindparam("n"))
    .returning(_HEAD.c.seq, _HEAD.c.hash)
)
_INSERT = insert(cast(Table, AuditEntry.__table__))
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("head_hash"))
"""The append's statements, built once (every request appends)."""


def ensure_head(session_factory: Callable[[], Any]) -> None:
    """Create the head row of an empty log (idempotent, safe against a racing process)."""
    with session_factory() as session:
        if session.get(AuditHead, 1) is None:
            session.add(AuditHead(id=1, seq=0, hash=GENESIS))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()


def head(session: Session) -> tuple[int, str]:
    """The head's (seq, hash); (0, GENESIS) for an empty log."""
    row = session.get(AuditHead, 1)
    return (0, GENESIS) if row is None else (row.seq, row.hash)


def entries(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    """Every entry in seq order, streamed."""
    last = -1
    while True:
        rows = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > last)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def page(
    session: Session, limit: int, offset: int, actor: str | None, action: str | None
) -> tuple[int, list[AuditEntry]]:
    """Newest entries first, optionally for one actor or action."""
    query = select(AuditEntry)
    count = select(func.count()).select_from(AuditEntry)
    filters: list[Any] = []
    if actor:
        filters.append(AuditEntry.actor == actor)
    if action:
        filters.append(AuditEntry.action == action)
    for f in filters:
        query = query.where(f)
        count = count.where(f)
    total = int(session.scalar(count) or 0)
    rows = session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset))
    return total, list(rows)


def job_runs(session: Session, limit: int, offset: int, job: str | None) -> tuple[int, list[Any]]:
    """The job history, newest first (admins see it in the web)."""
    from riskwatch.store.models.jobs import JobRun

    query = select(JobRun)
    count = select(func.count()).select_from(JobRun)
    if job:
        query = query.where(JobRun.job == job)
        count = count.where(JobRun.job == job)
    total = int(session.scalar(count) or 0)
    rows = session.scalars(query.order_by(JobRun.id.desc()).limit(limit).offset(offset))
    return total, list(rows)


# -- scoped views of other stages' tables (cases and alerts carry no scope of their own) --


def scoped_cases(
    session: Session, prefix: str, state: str | None, limit: int, offset: int
) -> tuple[int, list[Any]]:
    """Cases whose enterprise lies in the region prefix, most urgent deadline first."""
    from riskwatch.store.models.cases import Case

    where = [Case.region_code.startswith(prefix)] if prefix else []
    if state:
        where.append(Case.state == state)
    total = int(session.scalar(select(func.count()).select_from(Case).where(*where)) or 0)
    rows = session.scalars(
        select(Case).where(*where).order_by(Case.deadline, Case.case_id).limit(limit).offset(offset)
    )
    return total, list(rows)


def scoped_alerts(
    session: Session,
    prefix: str,
    state: str | None,
    rule: str | None,
    limit: int,
    offset: int,
    uscc: str | None = None,
) -> tuple[int, list[Any]]:
    """Alerts on enterprises in the region prefix (one enterprise's when given), newest first."""
    from riskwatch.store.models.cases import Alert, Case

    where: list[Any] = [Case.region_code.startswith(prefix)] if prefix else []
    if uscc:
        where.append(Alert.uscc == uscc)
    if state:
        where.append(Alert.state == state)
    if rule:
        where.append(Alert.rule == rule)
    base = select(Alert).join(Case, Case.case_id == Alert.case_id).where(*where)
    rows = list(
        session.scalars(
            base.order_by(Alert.raised_on.desc(), Alert.alert_id).limit(limit).offset(offset)
        )
    )
    if offset == 0 and len(rows) < limit:  # the whole list fits the page: no count
        return len(rows), rows
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    return total, rows


def enterprise_alerts(
    session: Session, prefix: str, uscc: str, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """One enterprise's alerts in the region prefix, newest first, as plain rows (``alert_id,
    rule, severity, raised_on, state, case_id, department``; no evidence): what a profile
    lists, read with Core statements built once (every profile asks)."""
    conn = session.connection()
    params = {"uscc": uscc, "prefix": prefix, "limit": limit}
    page, count = _alert_statements()
    rows = [dict(r._mapping) for r in conn.execute(page, params)]
    if len(rows) < limit:  # all of them: no count
        return len(rows), rows
    return int(conn.execute(count, params).scalar() or 0), rows


@functools.cache
def _alert_statements() -> tuple[Select[Any], Select[Any]]:
    from riskwatch.store.models.cases import Alert, Case

    base = (
        select(Alert.alert_id, Alert.rule, Alert.severity, Alert.raised_on, Alert.state,
               Alert.case_id, Alert.department)
        .join(Case, Case.case_id == Alert.case_id)
        .where(Alert.uscc == bindparam("uscc"),
               Case.region_code.startswith(bindparam("prefix")))  # digits only
    )  # fmt: skip
    page = base.order_by(Alert.raised_on.desc(), Alert.alert_id).limit(bindparam("limit"))
    count = select(func.count()).select_from(base.subquery())
    return cast("Select[Any]", page), cast("Select[Any]", count)


def case_region(session: Session, case_id: str) -> str | None:
    """The region code of a case ('' when it has none, None when there is no such case)."""
    from riskwatch.store.models.cases import Case

    case = session.get(Case, case_id)
    return None if case is None else case.region_code or ""
