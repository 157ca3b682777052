"""Inspection results of a plan: from a clerk's file to contract ``inspections`` rows, and
the publication list (一公开) with its working-day deadlines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from riskwatch.errors import InputError
from riskwatch.ingest.normalize import BadValue, normalize_uscc
from riskwatch.sampling.workdays import working_days_between

INSPECTION_HEADERS: tuple[str, ...] = (
    "uscc",
    "task_id",
    "inspected_on",
    "kind",
    "result",
    "inspector_ids",
    "items",
    "inclusion_probability",
)


def _uscc(raw: str) -> str:
    try:
        return normalize_uscc(raw)
    except BadValue:
        return raw.strip().upper()


def inspection_rows(
    plan_id: str,
    items: Sequence[str],
    draws: Mapping[str, Mapping[str, Any]],
    entered: pa.Table,
    default_date: dt.date | None = None,
) -> pa.Table:
    """Contract ``inspections`` rows (text, as a file would carry them) for entered results.

    Parameters
    ----------
    plan_id
        Becomes ``task_id`` (抽查任务编号).
    items
        The plan's inspection items, used when a row names none.
    draws
        The plan's drawn rows by uscc (``inclusion_probability``, ``inspectors``).
    entered
        The clerk's rows (``uscc``, ``result``, optional ``inspected_on``, ``inspectors``,
        ``items``); rows without a result are skipped (not inspected yet).
    default_date
        Inspection date for rows that give none.

    Returns
    -------
    pyarrow.Table
        Columns :data:`INSPECTION_HEADERS`; ``inclusion_probability`` always comes from the
        stored draw, never from the file, and ``kind`` is 双随机.
    """
    out: dict[str, list[str]] = {h: [] for h in INSPECTION_HEADERS}
    strangers: list[str] = []
    undated: list[int] = []
    for row in entered.to_pylist():
        uscc = _uscc(row.get("uscc") or "")
        result = (row.get("result") or "").strip()
        if not uscc or not result:
            continue
        draw = draws.get(uscc)
        if draw is None:
            strangers.append(uscc)
            continue
        when = (row.get("inspected_on") or "").strip()
        if not when:
            if default_date is None:
                undated.append(int(row.get("_line") or 0))
                continue
            when = default_date.isoformat()
        inspectors = (row.get("inspectors") or "").strip() or ";".join(draw.get("inspectors") or [])
        out["uscc"].append(uscc)
        out["task_id"].append(plan_id)
        out["inspected_on"].append(when)
        out["kind"].append("双随机")
        out["result"].append(result)
        out["inspector_ids"].append(inspectors)
        out["items"].append((row.get("items") or "").strip() or "；".join(items))
        out["inclusion_probability"].append(repr(float(draw["inclusion_probability"])))
    if strangers:
        raise InputError(
            f"{len(strangers)} enterprise(s) in the file were not drawn by plan {plan_id}, "
            f"e.g. {strangers[0]}: enter results only for the drawn list"
        )
    if undated:
        raise InputError(
            f"{len(undated)} row(s) have a result but no inspection date (line {undated[0]}); "
            "fill 检查日期 or pass a default date"
        )
    return pa.table({h: pa.array(v, pa.string()) for h, v in out.items()})


def publication_table(
    rows: Sequence[Mapping[str, Any]], task_name: str, today: dt.date
) -> pa.Table:
    """The 一公开 list: each result with its deadline and where it stands on ``today``.

    Parameters
    ----------
    rows
        Drawn rows with ``result``, ``inspected_on``, ``publish_by``, ``published_on``.
    task_name
        The plan's name (抽查任务名称).
    today
        The day the status is judged on.
    """
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "uscc",
            "name",
            "task",
            "inspected_on",
            "result",
            "publish_by",
            "published_on",
            "status",
            "working_days_left",
        )
    }
    for r in rows:
        if not r.get("result"):
            continue
        due = r["publish_by"]
        if r.get("published_on"):
            status = "已公示" if r["published_on"] <= due else "逾期公示"
            left = None
        else:
            left = working_days_between(today, due)
            status = "待公示" if left >= 0 else "已逾期"
        cols["uscc"].append(r["uscc"])
        cols["name"].append(r.get("name") or "")
        cols["task"].append(task_name)
        cols["inspected_on"].append(r["inspected_on"])
        cols["result"].append(r["result"])
        cols["publish_by"].append(due)
        cols["published_on"].append(r.get("published_on"))
        cols["status"].append(status)
        cols["working_days_left"].append(left)
    return pa.table(
        {
            "uscc": pa.array(cols["uscc"], pa.string()),
            "name": pa.array(cols["name"], pa.string()),
            "task": pa.array(cols["task"], pa.string()),
            "inspected_on": pa.array(cols["inspected_on"], pa.date32()),
            "result": pa.array(cols["result"], pa.string()),
            "publish_by": pa.array(cols["publish_by"], pa.date32()),
            "published_on": pa.array(cols["published_on"], pa.date32()),
            "status": pa.array(cols["status"], pa.string()),
            "working_days_left": pa.array(cols["working_days_left"], pa.int64()),
        }
    )


PUBLICATION_HEADERS: dict[str, str] = {
    "uscc": "统一社会信用代码",
    "name": "企业名称",
    "task": "抽查任务",
    "inspected_on": "检查日期",
    "result": "检查结果",
    "publish_by": "公示截止日期",
    "published_on": "公示日期",
    "status": "公示状态",
    "working_days_left": "剩余工作日",
}
