"""CLI commands: random inspection plans (双随机、一公开) — ``riskwatch sample …``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from riskwatch.cli.app import app
from riskwatch.cli.common import console, err_console, handle_errors, progress_bar
from riskwatch.errors import InputError
from riskwatch.settings import get_settings

sample_app = typer.Typer(help="Random inspection plans (双随机、一公开).", no_args_is_help=True)
results_app = typer.Typer(help="Inspection results of a plan.", no_args_is_help=True)
sample_app.add_typer(results_app, name="results")
app.add_typer(sample_app, name="sample")

Many = Annotated[list[str] | None, typer.Option()]


def _date(text: str | None, what: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what} {text!r} is not a date like 2025-06-30") from None


@sample_app.command("plan")
@handle_errors
def plan(
    as_of: Annotated[str, typer.Option("--as-of", help="classes and register as of YYYY-MM-DD")],
    name: Annotated[str, typer.Option(help="plan name (抽查任务名称)")],
    seed: Annotated[str, typer.Option(help="seed; may be a public value fixed beforehand")],
    out: Annotated[Path | None, typer.Option(help="write the list to .csv or .xlsx")] = None,
    ratios: Annotated[str | None, typer.Option(help="A=0.01,B=0.03,C=0.1,D=0.3")] = None,
    counts: Annotated[str | None, typer.Option(help="per-class counts, e.g. A=5,B=20")] = None,
    seed_source: Annotated[str, typer.Option(help="where the seed comes from")] = "",
    department: Many = None,
    region: Many = None,
    industry: Many = None,
    domain: Many = None,
    entity_type: Many = None,
    item: Many = None,
    start: Annotated[str | None, typer.Option("--from", help="period start")] = None,
    end: Annotated[str | None, typer.Option("--to", help="period end")] = None,
    classes: Annotated[Path | None, typer.Option(help="uscc,class file (else scoring)")] = None,
    include_drawn: Annotated[
        bool, typer.Option(help="also draw enterprises drawn earlier this year")
    ] = False,
    no_assign: Annotated[bool, typer.Option(help="draw only; assign later")] = False,
) -> None:
    """Draw a plan: stratified by class, seeded, verifiable; assign inspectors."""
    from riskwatch.sampling.policy import Scope, make_plan, parse_allocation
    from riskwatch.services import sampling as svc

    spec = make_plan(
        name=name,
        as_of=_date(as_of, "--as-of"),
        seed=seed,
        seed_source=seed_source,
        departments=department or [],
        scope=Scope(
            regions=region or [],
            industries=industry or [],
            domains=domain or [],
            entity_types=entity_type or [],
        ),
        items=item or [],
        period_start=_date(start, "--from"),
        period_end=_date(end, "--to"),
        ratios=parse_allocation(ratios, integer=False) if ratios else None,
        counts=parse_allocation(counts, integer=True) if counts else None,
        exclude_drawn_this_year=not include_drawn,
    )
    service = svc.PlanService(get_settings())
    with progress_bar() as bar:
        bar.add_task("drawing", total=None)
        outcome = service.run(spec, classes_path=classes, out=out, assign_inspectors=not no_assign)
    table = RichTable("class", "N", "drawn", "inclusion probability")
    for s in outcome.strata:
        table.add_row(s.cls, str(s.population), str(s.drawn), f"{s.inclusion_probability:.4f}")
    console.print(table)
    console.print(
        f"plan [bold]{outcome.plan_id}[/] {outcome.name}: {outcome.drawn} drawn; "
        f"{outcome.excluded_drawn_this_year} excluded (drawn this year), "
        f"{outcome.without_class} without a class"
    )
    console.print(f"population SHA-256 {outcome.population_sha256}")
    console.print(f"list SHA-256       {outcome.list_sha256}")
    if outcome.assignment_sha256:
        console.print(f"assignment SHA-256 {outcome.assignment_sha256}")
    for uscc, why in list(outcome.shortfalls.items())[:10]:
        err_console.print(f"[yellow]{uscc}: {why}[/]")
    if len(outcome.shortfalls) > 10:
        err_console.print(f"[yellow]… {len(outcome.shortfalls)} enterprises short of inspectors[/]")
    if outcome.out:
        console.print(f"list: {outcome.out}")


@sample_app.command("verify")
@handle_errors
def verify(ref: Annotated[str, typer.Argument(help="plan id or name, or a list file")]) -> None:
    """Recompute a draw (and its inspectors) and say whether the stored list matches."""
    from riskwatch.services import sampling as svc

    result = svc.verify(get_settings(), ref)
    for check in result.checks:
        mark = "[green]ok[/]" if check.ok else "[bold red]MISMATCH[/]"
        console.print(f"{mark} {check.name}: {check.detail}")
    if not result.ok:
        err_console.print(f"[bold red]plan {result.plan_id}: the list does not match its draw[/]")
        raise typer.Exit(code=1)
    console.print(f"plan {result.plan_id}: verified")


@sample_app.command("assign")
@handle_errors
def assign(ref: Annotated[str, typer.Argument(help="plan id or name")]) -> None:
    """Assign inspectors to a plan drawn with --no-assign (or re-assign before results)."""
    from riskwatch.services import sampling as svc

    result = svc.assign_plan(get_settings(), ref)
    console.print(f"assignment SHA-256 {result.sha256}; {len(result.shortfalls)} short")


@sample_app.command("list")
@handle_errors
def list_plans() -> None:
    """List the stored plans."""
    from riskwatch.services import sampling as svc

    table = RichTable("plan", "name", "as of", "drawn", "inspected")
    for p in svc.list_plans(get_settings()):
        table.add_row(p["id"], p["name"], str(p["as_of"]), str(p["drawn"]), str(p["inspected"]))
    console.print(table)


@sample_app.command("export")
@handle_errors
def export(
    ref: Annotated[str, typer.Argument(help="plan id or name")],
    out: Annotated[Path, typer.Option(help=".csv or .xlsx")],
) -> None:
    """Write a plan's list (uscc, name, class, inclusion_probability, inspectors)."""
    from riskwatch.services import sampling as svc

    n = svc.export_list(get_settings(), ref, out)
    console.print(f"wrote {n} rows to {out}")


@results_app.command("import")
@handle_errors
def results_import(
    ref: Annotated[str, typer.Argument(help="plan id or name")],
    path: Annotated[Path, typer.Argument(help="the list with 检查结果 (and 检查日期) filled in")],
    date: Annotated[str | None, typer.Option(help="inspection date for rows without one")] = None,
) -> None:
    """Load results: they become inspections records (kind 双随机) with their probability."""
    from riskwatch.services import sampling as svc

    out = svc.ResultsService(get_settings()).run(ref, path, _date(date, "--date"))
    console.print(
        f"plan {out.plan_id}: {out.rows_submitted} result(s) of {out.rows_in_file} row(s); "
        f"{out.rows_loaded} loaded, {out.rows_quarantined} quarantined (load {out.load_id}); "
        f"{out.inspected} inspected in all"
    )
    for reason, n in out.by_reason.items():
        err_console.print(f"[yellow]quarantined {n}: {reason}[/]")


@results_app.command("add")
@handle_errors
def results_add(
    ref: Annotated[str, typer.Argument(help="plan id or name")],
    uscc: Annotated[str, typer.Argument(help="统一社会信用代码")],
    result: Annotated[str, typer.Argument(help="result code, e.g. 未发现问题")],
    date: Annotated[str, typer.Option(help="inspection date YYYY-MM-DD")],
    inspectors: Annotated[str, typer.Option(help="inspector ids ;-separated")] = "",
) -> None:
    """Enter one enterprise's result."""
    from riskwatch.services import sampling as svc

    day = _date(date, "--date")
    assert day is not None  # a required option
    out = svc.ResultsService(get_settings()).record(ref, uscc, result, day, inspectors)
    state = "loaded" if out.rows_loaded else f"quarantined: {', '.join(out.by_reason)}"
    console.print(f"plan {out.plan_id}: {uscc} {state}")
    if not out.rows_loaded:
        raise typer.Exit(code=1)


@sample_app.command("publication")
@handle_errors
def publication(
    ref: Annotated[str, typer.Argument(help="plan id or name")],
    out: Annotated[Path | None, typer.Option(help="write to .csv or .xlsx")] = None,
    today: Annotated[str | None, typer.Option(help="judge deadlines on this day")] = None,
) -> None:
    """Show the publication list (一公开) with 20-working-day deadlines."""
    from riskwatch.exports import write_table
    from riskwatch.sampling.results import PUBLICATION_HEADERS
    from riskwatch.services import sampling as svc

    table = svc.publication(get_settings(), ref, _date(today, "--today"))
    if out is not None:
        write_table(table, out, PUBLICATION_HEADERS)
        console.print(f"wrote {table.num_rows} rows to {out}")
    counts: dict[str, int] = {}
    for s in table["status"].to_pylist():
        counts[s] = counts.get(s, 0) + 1
    console.print(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no results yet")


@sample_app.command("publish")
@handle_errors
def publish(
    ref: Annotated[str, typer.Argument(help="plan id or name")],
    out: Annotated[Path, typer.Option(help="file handed to the publicity system")],
    on: Annotated[str | None, typer.Option(help="publication date (default today)")] = None,
) -> None:
    """Write the results not yet published and mark them published."""
    from riskwatch.services import sampling as svc

    n = svc.publish(get_settings(), ref, out, _date(on, "--on"))
    console.print(f"published {n} result(s) to {out}")


@sample_app.command("report")
@handle_errors
def report(ref: Annotated[str, typer.Argument(help="plan id or name")]) -> None:
    """Discovery rate per class and the Horvitz–Thompson population problem rate."""
    from riskwatch.services import sampling as svc

    est = svc.report(get_settings(), ref)
    table = RichTable("class", "N", "drawn", "inspected", "problems", "discovery rate")
    for c in est.by_class:
        rate = "—" if c.discovery_rate is None else f"{c.discovery_rate:.1%}"
        table.add_row(
            c.cls, str(c.population), str(c.drawn), str(c.responses), str(c.problems), rate
        )
    console.print(table)
    if est.rate is None:
        console.print("no results yet")
        return
    console.print(
        f"problem rate in the population (Horvitz–Thompson): {est.rate:.1%} "
        f"[{est.low:.1%}, {est.high:.1%}] at {est.confidence:.0%}; "
        f"≈ {est.total:,.0f} of {est.covered_population:,} enterprises"
    )


@sample_app.command("objects")
@handle_errors
def objects(
    as_of: Annotated[str, typer.Option("--as-of", help="YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help=".csv or .xlsx")],
    region: Many = None,
    industry: Many = None,
    classes: Annotated[Path | None, typer.Option(help="uscc,class file (else scoring)")] = None,
) -> None:
    """Export the inspection-object register (检查对象名录库), filterable."""
    from riskwatch.exports import write_table
    from riskwatch.services import sampling as svc

    day = _date(as_of, "--as-of")
    if day is None:
        raise InputError("give --as-of")
    table, note = svc.object_register(
        get_settings(), day, regions=region, industries=industry, classes_path=classes
    )
    if note:
        err_console.print(f"[yellow]without classes: {note}[/]")
    n = write_table(table, out)
    console.print(f"wrote {n} enterprises to {out}")


@sample_app.command("inspectors")
@handle_errors
def inspectors(out: Annotated[Path, typer.Option(help=".csv or .xlsx")]) -> None:
    """Export the inspector register (执法检查人员名录库)."""
    from riskwatch.exports import write_table
    from riskwatch.services import sampling as svc

    n = write_table(svc.inspector_register(get_settings()), out)
    console.print(f"wrote {n} inspectors to {out}")


@sample_app.command("recuse")
@handle_errors
def recuse(
    inspector_id: Annotated[str, typer.Argument()],
    uscc: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="the conflict of interest")],
) -> None:
    """List a conflict of interest: the inspector is never assigned this enterprise."""
    from riskwatch.services import sampling as svc

    svc.recuse(get_settings(), inspector_id, uscc, reason)
    console.print(f"{inspector_id} recused from {uscc}")
