"""Use cases of random inspection (双随机、一公开), shared by the CLI and the API.

- :class:`PlanService`: validate a plan, build its population (live enterprises with
  their class, in scope, not drawn this year), draw, freeze the snapshot, assign inspectors.
- :func:`verify`: recompute a stored draw and assignment (and compare a list file).
- :class:`ResultsService`: results per enterprise → ``inspections`` rows through ingest.
- :func:`publication`, :func:`publish`: the 一公开 list with 20-working-day deadlines.
- :func:`report`: discovery rate per class and the Horvitz–Thompson estimate.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, Field

from riskwatch.errors import InputError
from riskwatch.exports import write_table
from riskwatch.ingest.contract import INSPECTION_RESULTS
from riskwatch.sampling.assign import ALGORITHM as ASSIGN_ALGORITHM
from riskwatch.sampling.assign import assign, register_from, targets_from
from riskwatch.sampling.draw import ALGORITHM, draw
from riskwatch.sampling.estimate import Estimate, estimate
from riskwatch.sampling.frame import apply_scope, exclude, filter_prefix, with_classes
from riskwatch.sampling.listfile import read_list, write_list
from riskwatch.sampling.policy import PlanSpec, Policy, load_policy
from riskwatch.sampling.results import PUBLICATION_HEADERS, inspection_rows, publication_table
from riskwatch.sampling.verify import Verification, check_plan
from riskwatch.sampling.workdays import add_working_days
from riskwatch.services.ingest import IngestService
from riskwatch.settings import Settings
from riskwatch.store import sampling as store

POPULATION_COLUMNS = ("uscc", "class", "name", "region_code", "industry_code", "entity_type")


class StratumOut(BaseModel):
    """N_h and k_h of one class."""

    cls: str
    population: int
    drawn: int
    inclusion_probability: float


class PlanOutcome(BaseModel):
    """What a draw produced."""

    plan_id: str
    name: str
    strata: list[StratumOut]
    drawn: int
    excluded_drawn_this_year: int
    without_class: int
    population_sha256: str
    list_sha256: str
    assignment_sha256: str | None = None
    shortfalls: dict[str, str] = Field(default_factory=dict)
    out: str | None = None


def _population(settings: Settings, spec: PlanSpec, policy: Policy, classes: pa.Table) -> Any:
    register = store.object_register(settings, spec.as_of, policy.licence_domains)
    joined = with_classes(register, classes)
    joined = joined.filter(pc.is_valid(joined["class"]))
    without = register.num_rows - joined.num_rows
    joined = apply_scope(joined, spec.scope)
    excluded = 0
    if spec.exclude_drawn_this_year:
        year = spec.as_of.year
        seen = store.drawn_this_year(settings, year) | store.inspected_at_random(settings, year)
        joined, excluded = exclude(joined, seen)
    return joined.select([*POPULATION_COLUMNS, "domains"]), without, excluded


class PlanService:
    """Draws a plan: ``validate(spec)`` then ``run(spec)``."""

    def __init__(self, settings: Settings, policy: Policy | None = None) -> None:
        self.settings = settings
        self.policy = policy or load_policy()

    def validate(self, spec: PlanSpec) -> None:
        """Refuse a plan that cannot be drawn (no warehouse, an impossible allocation)."""
        if not self.settings.warehouse_path.exists():
            raise InputError(f"no warehouse at {self.settings.warehouse_path}: ingest first")
        if spec.ratios is None and spec.counts is None:
            spec.ratios = dict(self.policy.ratios)

    def run(
        self,
        spec: PlanSpec,
        *,
        classes: pa.Table | None = None,
        classes_path: Path | None = None,
        out: Path | None = None,
        assign_inspectors: bool = True,
        actor: str = "",
    ) -> PlanOutcome:
        """Draw, freeze the population, store the plan, assign inspectors, write the list."""
        self.validate(spec)
        if classes is None:
            classes = store.load_class_frame(self.settings, spec.as_of, classes_path)
        population, without, excluded = _population(self.settings, spec, self.policy, classes)
        result = draw(population, seed=spec.seed, ratios=spec.ratios, counts=spec.counts)
        plan_id = f"SJ{spec.as_of:%Y%m%d}-{secrets.token_hex(3)}"
        pop_path = store.write_snapshot(self.settings, plan_id, "population", population)
        sel = result.selected
        strata = {s.cls: [s.size, s.drawn] for s in result.strata}
        store.save_plan(
            self.settings,
            {
                "id": plan_id,
                "name": spec.name,
                "as_of": spec.as_of,
                "spec": spec.model_dump(mode="json"),
                "seed": spec.seed,
                "seed_source": spec.seed_source,
                "algorithm": ALGORITHM,
                "strata": strata,
                "population_sha256": result.population_sha256,
                "population_path": str(pop_path),
                "list_sha256": result.list_sha256,
                "created_at": dt.datetime.now(dt.UTC),
                "created_by": actor,
            },
            [
                {
                    "uscc": r["uscc"],
                    "name": r["name"] or "",
                    "risk_class": r["class"],
                    "region_code": r["region_code"] or "",
                    "draw_rank": r["draw_rank"],
                    "inclusion_probability": r["inclusion_probability"],
                }
                for r in sel.to_pylist()
            ],
        )
        outcome = PlanOutcome(
            plan_id=plan_id,
            name=spec.name,
            strata=[
                StratumOut(
                    cls=s.cls,
                    population=s.size,
                    drawn=s.drawn,
                    inclusion_probability=float(s.probability),
                )
                for s in result.strata
            ],
            drawn=sel.num_rows,
            excluded_drawn_this_year=excluded,
            without_class=without,
            population_sha256=result.population_sha256,
            list_sha256=result.list_sha256,
        )
        if assign_inspectors:
            assignment = assign_plan(self.settings, plan_id, self.policy)
            outcome.assignment_sha256 = assignment.sha256
            outcome.shortfalls = assignment.shortfalls
        if out is not None:
            export_list(self.settings, plan_id, out)
            outcome.out = str(out)
        return outcome


def _run_assignment(plan: dict[str, Any], population: pa.Table, inputs: dict[str, Any]) -> Any:
    drawn = set(inputs["targets"])
    rows = population.filter(pc.is_in(population["uscc"], pa.array(sorted(drawn), pa.string())))
    register = register_from(store.read_snapshot(Path(inputs["register_path"])))
    recused = {
        u: frozenset(inputs["last"].get(u, [])) | frozenset(inputs["conflicts"].get(u, []))
        for u in drawn
    }
    return assign(
        targets_from(rows),
        register,
        seed=plan["seed"],
        per=int(inputs["per"]),
        region_digits=int(inputs["region_digits"]),
        wider_digits=inputs.get("wider_digits"),
        plan_domains=frozenset(inputs["plan_domains"]),
        recused=recused,
        workload=inputs["workload"],
    )


def assign_plan(settings: Settings, ref: str, policy: Policy | None = None) -> Any:
    """Assign inspectors to a stored plan's list, freeze the inputs and record the result."""
    policy = policy or load_policy()
    plan, rows = store.find_plan(settings, ref)
    if any(r["result"] for r in rows):
        raise InputError(f"plan {plan['id']} already has results: its inspectors stay as drawn")
    usccs = [r["uscc"] for r in rows]
    register = store.inspector_register(settings)
    reg_path = store.write_snapshot(settings, plan["id"], "inspectors", register)
    inputs = {
        "algorithm": ASSIGN_ALGORITHM,
        "targets": usccs,
        "register_path": str(reg_path),
        "register_sha256": store.file_sha256(reg_path),
        "last": {u: sorted(v) for u, v in store.last_inspectors(settings, usccs).items()},
        "conflicts": {u: sorted(v) for u, v in store.recusals(settings, usccs).items()},
        "workload": store.open_workload(settings, plan["as_of"].year),
        "per": policy.inspectors_per_enterprise,
        "region_digits": policy.inspector_region_digits,
        "wider_digits": policy.inspector_wider_digits,
        "plan_domains": sorted(plan["spec"].get("scope", {}).get("domains", [])),
    }
    population = store.read_snapshot(Path(plan["population_path"]))
    assignment = _run_assignment(plan, population, inputs)
    store.set_assignment(settings, plan["id"], assignment.inspectors, assignment.sha256, inputs)
    return assignment


def export_list(settings: Settings, ref: str, out: Path) -> int:
    """Write a plan's list (uscc, name, class, inclusion_probability, inspectors …)."""
    plan, rows = store.find_plan(settings, ref)
    table = pa.table(
        {
            "plan_id": [plan["id"]] * len(rows),
            "uscc": [r["uscc"] for r in rows],
            "name": [r["name"] for r in rows],
            "class": [r["risk_class"] for r in rows],
            "inclusion_probability": pa.array(
                [r["inclusion_probability"] for r in rows], pa.float64()
            ),
            "inspectors": pa.array([r["inspectors"] or [] for r in rows], pa.list_(pa.string())),
            "region_code": [r["region_code"] for r in rows],
            "draw_rank": pa.array([r["draw_rank"] for r in rows], pa.int64()),
        }
    )
    return write_list(table, out)


def verify(settings: Settings, ref: str) -> Verification:
    """Recompute a plan's draw and assignment; ``ref`` is a plan id/name or a list file."""
    file_rows: list[dict[str, Any]] | None = None
    file_name = ""
    path = Path(ref)
    if path.suffix.lower() in (".csv", ".xlsx"):
        table = read_list(path)
        ids = set()
        if "plan_id" in table.column_names:
            ids = {v for v in table["plan_id"].to_pylist() if v}
        if len(ids) != 1:
            raise InputError(f"{path}: the plan_id column must name exactly one plan")
        ref = ids.pop()
        file_rows = table.to_pylist()
        file_name = path.name
    plan, rows = store.find_plan(settings, ref)
    population = store.read_snapshot(Path(plan["population_path"]))
    spec = PlanSpec.model_validate(plan["spec"])
    redrawn = draw(population, seed=plan["seed"], ratios=spec.ratios, counts=spec.counts)
    reassigned = None
    register_intact = True
    if plan["assignment_sha256"]:
        inputs = dict(plan["assignment_inputs"] or {})
        register_intact = (
            store.file_sha256(Path(inputs["register_path"])) == inputs["register_sha256"]
        )
        reassigned = _run_assignment(plan, population, inputs)
    return check_plan(
        plan,
        rows,
        redrawn,
        reassigned,
        register_intact=register_intact,
        file_rows=file_rows,
        file_name=file_name,
    )


class ResultsOutcome(BaseModel):
    """What a results import did."""

    plan_id: str
    rows_in_file: int
    rows_submitted: int
    rows_loaded: int
    rows_quarantined: int
    by_reason: dict[str, int] = Field(default_factory=dict)
    inspected: int
    load_id: str


class ResultsService:
    """Results per enterprise → ``inspections`` (through ingest: quarantine, lineage)."""

    def __init__(self, settings: Settings, policy: Policy | None = None) -> None:
        self.settings = settings
        self.policy = policy or load_policy()

    def validate(
        self, ref: str, source: Path | pa.Table, default_date: dt.date | None = None
    ) -> tuple[dict[str, Any], pa.Table, int]:
        """Read the entries (a file, or a table of text columns) and build contract rows;
        refuse enterprises the plan did not draw and results without a date."""
        plan, rows = store.find_plan(self.settings, ref)
        entered = read_list(source) if isinstance(source, Path) else source
        if "result" not in entered.column_names:
            raise InputError(
                f"{source}: no result column (检查结果); codes: {', '.join(INSPECTION_RESULTS)}"
            )
        draws = {r["uscc"]: r for r in rows}
        items = plan["spec"].get("items", [])
        table = inspection_rows(plan["id"], items, draws, entered, default_date)
        return plan, table, entered.num_rows

    def record(
        self, ref: str, uscc: str, result: str, inspected_on: dt.date, inspectors: str = ""
    ) -> ResultsOutcome:
        """Enter one enterprise's result (the same path as a file: ingest, quarantine)."""
        entry = pa.table(
            {
                "uscc": [uscc],
                "result": [result],
                "inspected_on": [inspected_on.isoformat()],
                "inspectors": [inspectors],
            }
        )
        return self.run(ref, entry)

    def run(
        self, ref: str, source: Path | pa.Table, default_date: dt.date | None = None
    ) -> ResultsOutcome:
        """Load the results and record them (with publication deadlines) on the plan."""
        plan, table, n_file = self.validate(ref, source, default_date)
        with tempfile.TemporaryDirectory(prefix="riskwatch-results-") as tmp:
            folder = Path(tmp)
            # Named after the contract table so ingest treats it as any bureau export.
            write_table(table, folder / f"inspections-{plan['id']}.csv")
            report = IngestService(self.settings).run(folder)
        loaded = store.plan_inspections(self.settings, plan["id"])
        days = self.policy.publication_working_days
        store.set_results(
            self.settings,
            plan["id"],
            [
                {
                    "uscc": r["uscc"],
                    "result": r["result"],
                    "inspected_on": r["inspected_on"],
                    "publish_by": add_working_days(r["inspected_on"], days).due,
                }
                for r in loaded.to_pylist()
            ],
        )
        t = report.tables.get("inspections")
        return ResultsOutcome(
            plan_id=plan["id"],
            rows_in_file=n_file,
            rows_submitted=table.num_rows,
            rows_loaded=t.rows_loaded + t.rows_unchanged if t else 0,
            rows_quarantined=t.rows_quarantined if t else 0,
            by_reason=dict(t.by_reason) if t else {},
            inspected=loaded.num_rows,
            load_id=report.load_id,
        )


def publication(settings: Settings, ref: str, today: dt.date | None = None) -> pa.Table:
    """The publication list (一公开) of a plan's results with deadlines and status."""
    plan, rows = store.find_plan(settings, ref)
    return publication_table(rows, plan["name"], today or dt.date.today())


def publish(settings: Settings, ref: str, out: Path, on: dt.date | None = None) -> int:
    """Write the results not yet published to ``out`` and mark them published ``on``."""
    on = on or dt.date.today()
    plan, rows = store.find_plan(settings, ref)
    pending = [r for r in rows if r["result"] and not r["published_on"]]
    table = publication_table(pending, plan["name"], on).drop_columns(
        ["published_on", "status", "working_days_left"]
    )
    write_table(table, out, PUBLICATION_HEADERS)
    return store.mark_published(settings, plan["id"], [r["uscc"] for r in pending], on)


def report(settings: Settings, ref: str, confidence: float | None = None) -> Estimate:
    """Discovery rate per class and the Horvitz–Thompson population problem rate."""
    plan, rows = store.find_plan(settings, ref)
    level = confidence or load_policy().confidence
    strata = {c: (int(v[0]), int(v[1])) for c, v in plan["strata"].items()}
    return estimate([(r["risk_class"], r["result"]) for r in rows], strata, confidence=level)


def overdue(settings: Settings, ref: str, today: dt.date | None = None) -> int:
    """Results past their publication deadline and not yet published."""
    table = publication(settings, ref, today)
    return sum(1 for s in table["status"].to_pylist() if s == "已逾期")


def object_register(
    settings: Settings,
    as_of: dt.date,
    *,
    regions: list[str] | None = None,
    industries: list[str] | None = None,
    classes_path: Path | None = None,
) -> tuple[pa.Table, str | None]:
    """The inspection-object register, filtered, with classes when they exist."""
    table = store.object_register(settings, as_of, load_policy().licence_domains)
    table = filter_prefix(table, "region_code", regions or [])
    table = filter_prefix(table, "industry_code", industries or [])
    try:
        cls = store.load_class_frame(settings, as_of, classes_path)
    except InputError as exc:
        return table, exc.message
    return with_classes(table, cls), None


def inspector_register(settings: Settings) -> pa.Table:
    """The inspector register (执法检查人员名录库)."""
    return store.inspector_register(settings)


def recuse(settings: Settings, inspector_id: str, uscc: str, reason: str) -> None:
    """List a conflict of interest between an inspector and an enterprise."""
    if not reason.strip():
        raise InputError("give the reason of the conflict")
    store.add_recusal(settings, inspector_id.strip(), uscc.strip().upper(), reason.strip())


def list_plans(settings: Settings) -> list[dict[str, Any]]:
    """Stored plans, newest first, with drawn and inspected counts."""
    return store.list_plans(settings)


__all__ = [
    "PlanOutcome",
    "PlanService",
    "ResultsOutcome",
    "ResultsService",
    "Verification",
    "assign_plan",
    "export_list",
    "inspector_register",
    "list_plans",
    "object_register",
    "overdue",
    "publication",
    "publish",
    "recuse",
    "report",
    "verify",
]
