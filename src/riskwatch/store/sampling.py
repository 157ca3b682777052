"""Storage for random inspection (双随机): warehouse reads and the operational plan tables.

Warehouse (read only): the inspection-object register (live enterprises with region,
industry, entity type, licences and supervision domains), the inspector register, who
inspected an enterprise last, who was drawn this year. Operational store: plans, their
drawn lists with inspectors, results and publication, and recusals. Frozen snapshots
of a plan's population and inspector register live under ``$RISKWATCH_HOME/sampling/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import extract, func, select

from riskwatch.errors import InputError, NotFoundError, StoreError
from riskwatch.settings import Settings
from riskwatch.store.models.sampling import Recusal, SampleDraw, SamplePlan
from riskwatch.store.opdb import session_scope
from riskwatch.store.warehouse import open_warehouse

LIVE_STATUSES = ("存续", "在业")


def _open(settings: Settings) -> Any:
    return open_warehouse(
        settings.warehouse_path,
        read_only=True,
        threads=settings.threads,
        memory_limit=settings.memory_limit,
    )


def object_register(
    settings: Settings, as_of: dt.date, licence_domains: dict[str, str]
) -> pa.Table:
    """Live enterprises on ``as_of`` with their licences and supervision domains.

    Parameters
    ----------
    settings
        Where the warehouse is.
    as_of
        Established on or before this date and registered as 存续/在业.
    licence_domains
        Licence-kind substring → domain (``config/sampling.yaml``).

    Returns
    -------
    pyarrow.Table
        uscc, name, region_code, industry_code, entity_type, licences (list), domains
        (list), ordered by uscc.
    """
    keys = pa.table(
        {
            "needle": pa.array(list(licence_domains), pa.string()),
            "domain": pa.array(list(licence_domains.values()), pa.string()),
        }
    )
    with _open(settings) as con:
        con.register("licence_domain_map", keys)
        try:
            return con.sql(
                """
                WITH lic AS (
                    SELECT uscc, kind FROM licenses
                    WHERE status = '有效' AND issued_on <= $as_of
                      AND (valid_until IS NULL OR valid_until >= $as_of)
                ),
                lic_list AS (
                    SELECT uscc, list_sort(list(DISTINCT kind)) AS licences FROM lic GROUP BY uscc
                ),
                dom AS (
                    SELECT lic.uscc, list_sort(list(DISTINCT m.domain)) AS domains
                    FROM lic JOIN licence_domain_map m ON contains(lic.kind, m.needle)
                    GROUP BY lic.uscc
                )
                SELECT e.uscc, e.name, e.region_code, e.industry_code, e.entity_type,
                       coalesce(l.licences, []::VARCHAR[]) AS licences,
                       coalesce(d.domains, []::VARCHAR[]) AS domains
                FROM enterprises e
                LEFT JOIN lic_list l USING (uscc)
                LEFT JOIN dom d USING (uscc)
                WHERE e.status IN ('存续', '在业')
                  AND (e.established_on IS NULL OR e.established_on <= $as_of)
                  AND (e.deregistered_on IS NULL OR e.deregistered_on > $as_of)
                ORDER BY e.uscc
                """,
                params={"as_of": as_of},
            ).to_arrow_table()
        except duckdb.Error as exc:
            raise StoreError(f"cannot read the inspection-object register: {exc}") from exc


def inspector_register(settings: Settings) -> pa.Table:
    """The inspector register (执法检查人员名录库) from the warehouse ``inspectors`` table."""
    with _open(settings) as con:
        return con.sql(
            """SELECT inspector_id, name, department, region_code,
                      coalesce(domains, []::VARCHAR[]) AS domains, coalesce(active, false) AS active
               FROM inspectors ORDER BY inspector_id"""
        ).to_arrow_table()


def last_inspectors(settings: Settings, usccs: Sequence[str]) -> dict[str, frozenset[str]]:
    """Who inspected each enterprise last time (its latest inspection naming inspectors)."""
    if not usccs:
        return {}
    with _open(settings) as con:
        con.register("wanted", pa.table({"uscc": pa.array(list(usccs), pa.string())}))
        rows = con.execute(
            """SELECT uscc, arg_max(inspector_ids, inspected_on) AS ids
               FROM inspections JOIN wanted USING (uscc)
               WHERE inspector_ids IS NOT NULL AND len(inspector_ids) > 0
               GROUP BY uscc"""
        ).fetchall()
    return {u: frozenset(ids) for u, ids in rows}


def inspected_at_random(settings: Settings, year: int) -> set[str]:
    """Enterprises with a 双随机 inspection recorded in the warehouse in ``year``."""
    with _open(settings) as con:
        rows = con.execute(
            "SELECT DISTINCT uscc FROM inspections "
            "WHERE kind = '双随机' AND year(inspected_on) = ?",
            [year],
        ).fetchall()
    return {r[0] for r in rows}


def plan_inspections(settings: Settings, plan_id: str) -> pa.Table:
    """The warehouse ``inspections`` rows of one plan (task_id = plan id)."""
    with _open(settings) as con:
        return con.sql(
            """SELECT uscc, inspected_on, result, inspector_ids, inclusion_probability
               FROM inspections WHERE task_id = ? ORDER BY uscc""",
            params=[plan_id],
        ).to_arrow_table()


def load_class_frame(settings: Settings, as_of: dt.date, path: Path | None = None) -> pa.Table:
    """Classes (uscc, class) of the month of ``as_of``: from a file or the scoring store.

    Parameters
    ----------
    settings
        Deployment settings.
    as_of
        The month whose classes are read.
    path
        A Parquet or CSV file with ``uscc`` and ``class``; otherwise
        ``riskwatch.store.classes.load_classes(settings, month)``.
    """
    if path is not None:
        if not path.is_file():
            raise InputError(f"{path}: no such classes file")
        if path.suffix.lower() == ".parquet":
            table = pq.read_table(path)
        else:
            with duckdb.connect() as con:
                table = con.sql(
                    "SELECT * FROM read_csv(?, all_varchar = true)", params=[str(path)]
                ).to_arrow_table()
    else:
        try:
            module = importlib.import_module("riskwatch.store.classes")
        except ImportError:
            raise InputError(
                "no classes yet: run the scoring (riskwatch run) or pass --classes FILE"
            ) from None
        month = f"{as_of:%Y-%m}"
        try:
            data = module.load_classes(settings, month, columns=["uscc", "class"])
        except NotFoundError:
            raise InputError(
                f"no classes for {month}: run 'riskwatch run --as-of {as_of}' "
                "or pass --classes FILE"
            ) from None
        table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data)
    name = "class" if "class" in table.column_names else "risk_class"
    if "uscc" not in table.column_names or name not in table.column_names:
        raise InputError("the classes have no uscc and class columns")
    return pa.table(
        {"uscc": table["uscc"].cast(pa.string()), "class": table[name].cast(pa.string())}
    )


# --- snapshots ---------------------------------------------------------------------------


def snapshot_dir(settings: Settings, plan_id: str) -> Path:
    """Where a plan's frozen population and register snapshots live."""
    return settings.home / "sampling" / plan_id


def write_snapshot(settings: Settings, plan_id: str, name: str, table: pa.Table) -> Path:
    """Freeze a table (population, inspector register) next to the plan."""
    path = snapshot_dir(settings, plan_id) / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def read_snapshot(path: Path) -> pa.Table:
    """A frozen snapshot written by :func:`write_snapshot`."""
    if not path.is_file():
        raise NotFoundError(f"the snapshot {path} is missing: the draw cannot be recomputed")
    return pq.read_table(path)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- operational store -------------------------------------------------------------------


def save_plan(settings: Settings, plan: dict[str, Any], draws: Iterable[dict[str, Any]]) -> None:
    """Store a plan and its drawn list in one transaction."""
    with session_scope(settings) as s:
        s.add(SamplePlan(**plan))
        s.flush()
        s.add_all(SampleDraw(plan_id=plan["id"], **d) for d in draws)


def find_plan(settings: Settings, ref: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A plan by id (or by name: the latest of that name) with its drawn rows."""
    with session_scope(settings) as s:
        plan = (
            s.get(SamplePlan, ref)
            or s.scalars(
                select(SamplePlan)
                .where(SamplePlan.name == ref)
                .order_by(SamplePlan.created_at.desc())
            ).first()
        )
        if plan is None:
            raise NotFoundError(f"no sampling plan {ref!r}")
        rows = s.scalars(
            select(SampleDraw).where(SampleDraw.plan_id == plan.id).order_by(SampleDraw.uscc)
        ).all()
        cols = [c.name for c in SamplePlan.__table__.columns]
        dcols = [c.name for c in SampleDraw.__table__.columns]
        return {c: getattr(plan, c) for c in cols}, [
            {c: getattr(r, c) for c in dcols} for r in rows
        ]


def list_plans(settings: Settings) -> list[dict[str, Any]]:
    """Every plan, newest first, with its drawn and inspected counts."""
    with session_scope(settings) as s:
        drawn = func.count(SampleDraw.uscc)
        done = func.count(SampleDraw.result)
        rows = s.execute(
            select(SamplePlan.id, SamplePlan.name, SamplePlan.as_of, drawn, done)
            .outerjoin(SampleDraw, SampleDraw.plan_id == SamplePlan.id)
            .group_by(SamplePlan.id, SamplePlan.name, SamplePlan.as_of)
            .order_by(SamplePlan.as_of.desc(), SamplePlan.id.desc())
        ).all()
    return [
        {"id": r[0], "name": r[1], "as_of": r[2], "drawn": r[3], "inspected": r[4]} for r in rows
    ]


def drawn_this_year(settings: Settings, year: int) -> set[str]:
    """Enterprises drawn by any stored plan whose as-of date falls in ``year``."""
    with session_scope(settings) as s:
        rows = s.scalars(
            select(SampleDraw.uscc)
            .join(SamplePlan, SamplePlan.id == SampleDraw.plan_id)
            .where(extract("year", SamplePlan.as_of) == year)
        ).all()
    return set(rows)


def open_workload(settings: Settings, year: int) -> dict[str, int]:
    """Tasks per inspector in this year's plans that have no result yet."""
    load: dict[str, int] = {}
    with session_scope(settings) as s:
        rows = s.scalars(
            select(SampleDraw.inspectors)
            .join(SamplePlan, SamplePlan.id == SampleDraw.plan_id)
            .where(extract("year", SamplePlan.as_of) == year, SampleDraw.result.is_(None))
        ).all()
    for ids in rows:
        for i in ids or []:
            load[i] = load.get(i, 0) + 1
    return load


def set_assignment(
    settings: Settings,
    plan_id: str,
    inspectors: dict[str, list[str]],
    digest: str,
    inputs: dict[str, Any],
) -> None:
    """Record the inspectors of every drawn enterprise and what the assignment used."""
    with session_scope(settings) as s:
        plan = s.get(SamplePlan, plan_id)
        if plan is None:
            raise NotFoundError(f"no sampling plan {plan_id!r}")
        plan.assignment_sha256 = digest
        plan.assignment_inputs = inputs
        for row in s.scalars(select(SampleDraw).where(SampleDraw.plan_id == plan_id)):
            row.inspectors = inspectors.get(row.uscc, [])


def set_results(settings: Settings, plan_id: str, rows: Sequence[dict[str, Any]]) -> int:
    """Record results (uscc, result, inspected_on, publish_by); returns rows updated."""
    by_uscc = {r["uscc"]: r for r in rows}
    n = 0
    with session_scope(settings) as s:
        for row in s.scalars(select(SampleDraw).where(SampleDraw.plan_id == plan_id)):
            got = by_uscc.get(row.uscc)
            if got is None:
                continue
            row.result = got["result"]
            row.inspected_on = got["inspected_on"]
            row.publish_by = got["publish_by"]
            n += 1
    return n


def mark_published(settings: Settings, plan_id: str, usccs: Sequence[str], on: dt.date) -> int:
    """Mark results as published on the publicity system on ``on``."""
    wanted = set(usccs)
    n = 0
    with session_scope(settings) as s:
        for row in s.scalars(select(SampleDraw).where(SampleDraw.plan_id == plan_id)):
            if row.uscc in wanted and row.published_on is None:
                row.published_on = on
                n += 1
    return n


def add_recusal(settings: Settings, inspector_id: str, uscc: str, reason: str) -> None:
    """List a conflict of interest (idempotent: the reason is updated)."""
    with session_scope(settings) as s:
        row = s.get(Recusal, (inspector_id, uscc))
        if row is None:
            s.add(
                Recusal(
                    inspector_id=inspector_id,
                    uscc=uscc,
                    reason=reason,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
        else:
            row.reason = reason


def recusals(settings: Settings, usccs: Sequence[str] | None = None) -> dict[str, set[str]]:
    """Listed conflicts: inspector ids per uscc (all, or only for ``usccs``)."""
    wanted = None if usccs is None else set(usccs)
    out: dict[str, set[str]] = {}
    with session_scope(settings) as s:
        for row in s.scalars(select(Recusal)):
            if wanted is None or row.uscc in wanted:
                out.setdefault(row.uscc, set()).add(row.inspector_id)
    return out
