"""The case workflow on a real operational store (SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from riskwatch.errors import ConflictError, InputError, NotFoundError
from riskwatch.services import cases
from riskwatch.settings import Settings
from riskwatch.store import opdb
from riskwatch.store.alerts import ops
from riskwatch.store.opdb import session_scope

DAY = dt.date(2025, 6, 30)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        yield Settings(home=tmp_path / "home", database_url=url)
    else:
        yield Settings(home=tmp_path / "home")
    opdb.dispose_engines()


def open_case(settings: Settings, case_id: str, rule: str = "person_cluster", **kw: object) -> str:
    now = datetime.now(UTC)
    case = {
        "case_id": case_id, "uscc": "91410105MA0000001X", "state": "待分派", "severity": "high",
        "department": "410105 登记注册科", "region_code": "410105", "assignee": None,
        "opened_on": DAY, "deadline": dt.date(2025, 7, 7), "escalation_level": 0,
        "escalated_on": None, "actions": None, "closed_on": None, "closed_at": None,
        "created_at": now, "updated_at": now, "version": 1,
    } | kw  # fmt: skip
    alert = {
        "alert_id": f"A{case_id}", "rule": rule, "uscc": case["uscc"], "severity": "high",
        "raised_on": DAY, "department": case["department"], "fingerprint": "p1",
        "evidence": {"person_id": "p1", "recent_enterprises": 7},
        "open_key": f"{rule}:{case_id}", "state": "open", "closed_on": None,
        "case_id": case_id, "rules_version": "1.0.0+test", "scan_id": "s1", "created_at": now,
    }  # fmt: skip
    with session_scope(settings) as s:
        ops.insert_rows(s, [case], [alert], [])
    return case_id


def test_a_case_followed_to_closure(store: Settings) -> None:
    cid = open_case(store, "C1")
    v = cases.assign(store, cid, "王科员", actor="科长", expected_version=1)
    assert (v.state, v.assignee, v.version) == ("已分派", "王科员", 2)
    cases.transition(store, cid, "start", actor="王科员")
    cases.transition(store, cid, "dispose", actor="王科员", measures=["约谈", "检查"])
    cases.transition(store, cid, "return", actor="科长", note="未附检查记录")
    cases.transition(store, cid, "dispose", actor="王科员", measures=["警示"])
    done = cases.transition(store, cid, "close", actor="科长", on=dt.date(2025, 7, 4))
    assert done.state == "已办结" and done.closed_on == dt.date(2025, 7, 4)
    assert done.actions == ["检查", "约谈", "警示"]
    detail = cases.get_case(store, cid)
    steps = [(e.action, e.from_state, e.to_state, e.actor) for e in detail.events]
    assert steps == [
        ("assign", "待分派", "已分派", "科长"),
        ("start", "已分派", "核查中", "王科员"),
        ("dispose", "核查中", "已处置", "王科员"),
        ("return", "已处置", "核查中", "科长"),
        ("dispose", "核查中", "已处置", "王科员"),
        ("close", "已处置", "已办结", "科长"),
    ]
    assert detail.events[3].note == "未附检查记录"
    assert [a.state for a in detail.alerts] == ["confirmed"]
    assert detail.alerts[0].evidence["recent_enterprises"] == 7
    [fb] = cases.feedback(store)
    assert (fb.rule, fb.confirmed, fb.false_positive, fb.median_days_to_closure) == (
        "person_cluster", 1, 0, 4.0,
    )  # fmt: skip


def test_false_positives_and_feedback_per_rule(store: Settings) -> None:
    for i, rule in enumerate(["negative_opinion", "negative_opinion", "complaint_surge"]):
        cid = open_case(store, f"F{i}", rule=rule)
        cases.assign(store, cid, "赵", actor="科长")
        cases.transition(store, cid, "false_positive", actor="赵", note="正面报道", on=DAY)
    fb = {f.rule: f for f in cases.feedback(store)}
    assert fb["negative_opinion"].false_positive == 2
    assert fb["negative_opinion"].precision == 0.0
    assert fb["complaint_surge"].median_days_to_closure == 0.0
    assert cases.list_cases(store, state="误报", limit=10)[0].state == "误报"


def test_no_transition_outside_the_table(store: Settings) -> None:
    cid = open_case(store, "X1")
    with pytest.raises(ConflictError, match="'close' is not allowed from 待分派"):
        cases.transition(store, cid, "close", actor="科长")
    cases.assign(store, cid, "王", actor="科长")
    cases.transition(store, cid, "start", actor="王")
    with pytest.raises(InputError, match="measures"):
        cases.transition(store, cid, "dispose", actor="王")
    with pytest.raises(InputError, match="measures"):
        cases.transition(store, cid, "dispose", actor="王", measures=["罚酒三杯"])
    with pytest.raises(InputError, match="note"):
        cases.transition(store, cid, "return", actor="王")
    with pytest.raises(NotFoundError):
        cases.transition(store, "nope", "start", actor="王")
    with pytest.raises(InputError, match="unknown case state"):
        cases.list_cases(store, state="done")
    assert len(cases.get_case(store, cid).events) == 2  # refused steps leave no trace


def test_a_stale_update_never_wins(store: Settings) -> None:
    cid = open_case(store, "L1")
    cases.assign(store, cid, "王", actor="科长", expected_version=1)
    with pytest.raises(ConflictError, match="version 2, not 1"):
        cases.assign(store, cid, "李", actor="副科长", expected_version=1)
    # Two clerks load the case at once; the second write to land must fail, not overwrite.
    first = opdb.session_factory(store)()
    second = opdb.session_factory(store)()
    try:
        a, b = ops.get_case(first, cid), ops.get_case(second, cid)
        a.assignee, b.assignee = "甲", "乙"
        ops.flush(first)
        first.commit()
        with pytest.raises(ConflictError, match="changed by someone else"):
            ops.flush(second)
    finally:
        first.close()
        second.close()
    case = cases.get_case(store, cid).case
    assert (case.assignee, case.version) == ("甲", 3)


def test_overdue_cases_escalate(store: Settings) -> None:
    cid = open_case(store, "E1", deadline=dt.date(2025, 7, 7))
    open_case(store, "E2", deadline=dt.date(2025, 7, 31))
    assert cases.escalate_overdue(store, dt.date(2025, 7, 7)) == []
    assert cases.list_cases(store, overdue_on=dt.date(2025, 7, 8))[0].case_id == cid
    assert cases.escalate_overdue(store, dt.date(2025, 7, 8)) == [cid]
    case = cases.get_case(store, cid)
    assert case.case.escalation_level == 1
    assert case.case.deadline == dt.date(2025, 7, 15)  # five more working days
    assert case.events[-1].action == "escalate" and "升级" in (case.events[-1].note or "")
    assert cases.escalate_overdue(store, dt.date(2025, 7, 9)) == []
