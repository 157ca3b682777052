"""Scheduled jobs with a history: the monthly classification run and the daily alert scan.

Each attempt is a ``job_runs`` row (start, end, status, run id, counts). A failed attempt
is retried (``retries`` times, after ``backoff`` seconds) and reported in the history; the
jobs themselves apply their results atomically, so a failure never leaves half a result.

Scheduling: ``riskwatch serve --schedule`` runs an APScheduler background scheduler in the
service (cron expressions below, Asia/Shanghai). Without it, use the host's timers, e.g. a
systemd timer or cron line calling ``riskwatch jobs run alert-scan`` — same history.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
import traceback
from collections.abc import Callable
from typing import Any

from riskwatch.auth.tokens import now, utc
from riskwatch.errors import InputError
from riskwatch.settings import Settings
from riskwatch.store.models import audit as audit_store
from riskwatch.store.models.jobs import JobRun
from riskwatch.store.models.users import service_session

JobFn = Callable[[Settings, dt.date], dict[str, Any]]

SCHEDULES: dict[str, str] = {
    "classify": "0 2 1 * *",  # 02:00 on the 1st: classify the month just ended
    "alert-scan": "30 3 * * *",  # 03:30 every day
}


def _alert_scan(settings: Settings, as_of: dt.date) -> dict[str, Any]:
    alerts = importlib.import_module("riskwatch.services.alerts")
    service = alerts.ScanService(settings)
    result = service.run(as_of)
    counts = getattr(result, "counts", None) or {}
    return {"run_id": getattr(result, "run_id", None), "counts": dict(counts)}


def _classify(settings: Settings, as_of: dt.date) -> dict[str, Any]:
    # Classify the month just ended (the job runs early in the next month).
    month_end = as_of.replace(day=1) - dt.timedelta(days=1)
    scoring = importlib.import_module("riskwatch.services.scoring")
    result = scoring.ScoringService(settings).run(month_end)
    return {"run_id": getattr(result, "run_id", None),
            "counts": dict(getattr(result, "counts", {}) or {})}  # fmt: skip


JOBS: dict[str, JobFn] = {"alert-scan": _alert_scan, "classify": _classify}


def run_job(
    settings: Settings,
    name: str,
    as_of: dt.date | None = None,
    retries: int = 2,
    backoff: float = 30.0,
    fn: JobFn | None = None,
) -> list[dict[str, Any]]:
    """Run a job with retries, recording every attempt; the attempts' records."""
    job = fn or JOBS.get(name)
    if job is None:
        raise InputError(f"unknown job {name!r}; jobs: {sorted(JOBS)}")
    day = as_of or dt.date.today()
    attempts = []
    for attempt in range(1, retries + 2):
        with service_session(settings) as s:
            row = JobRun(job=name, started_at=now(), status="running", attempt=attempt)
            s.add(row)
            s.flush()
            row_id = row.id
        try:
            out = job(settings, day)
            status, error, counts, run_id = "done", None, out.get("counts"), out.get("run_id")
        except Exception as exc:  # a job failure is recorded, retried, then reported
            status, error, counts, run_id = "failed", _short(exc), None, None
        with service_session(settings) as s:
            done = s.get(JobRun, row_id)
            assert done is not None
            done.status, done.error, done.counts = status, error, counts
            done.run_id = None if run_id is None else str(run_id)
            done.finished_at = now()
        attempts.append({"id": row_id, "attempt": attempt, "status": status, "error": error})
        if status == "done":
            break
        if attempt <= retries:
            time.sleep(backoff)
    return attempts


def _short(exc: BaseException) -> str:
    lines = traceback.format_exception_only(type(exc), exc)
    return "".join(lines).strip()[:2000]


def history(
    settings: Settings, limit: int = 50, offset: int = 0, job: str | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """The job history, newest first."""
    with service_session(settings) as s:
        total, rows = audit_store.job_runs(s, limit, offset, job)
        return total, [
            {"id": r.id, "job": r.job, "run_id": r.run_id, "status": r.status,
             "attempt": r.attempt, "counts": r.counts, "error": r.error,
             "started_at": utc(r.started_at).isoformat(),
             "finished_at": utc(r.finished_at).isoformat() if r.finished_at else None}
            for r in rows
        ]  # fmt: skip


def start_scheduler(settings: Settings) -> Any:
    """Start APScheduler in this process with :data:`SCHEDULES`; returns the scheduler."""
    from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
        BackgroundScheduler,
    )
    from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    for name, cron in SCHEDULES.items():
        scheduler.add_job(
            run_job, CronTrigger.from_crontab(cron, timezone="Asia/Shanghai"),
            args=[settings, name], id=name, max_instances=1, coalesce=True,
        )  # fmt: skip
    scheduler.start()
    return scheduler
