"""CLI commands: indicators (compute snapshots, regenerate docs, check the catalogue)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from riskwatch.cli.app import app
from riskwatch.cli.common import console, handle_errors, progress_bar
from riskwatch.errors import InputError
from riskwatch.settings import get_settings

indicators_app = typer.Typer(
    help="Indicators per enterprise and month (point-in-time).", invoke_without_command=True
)
app.add_typer(indicators_app, name="indicators")


@indicators_app.callback()
@handle_errors
def indicators(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", help="one as-of date, YYYY-MM-DD")] = None,
    start: Annotated[str | None, typer.Option("--from", help="first month, YYYY-MM")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last month, YYYY-MM")] = None,
    engine: Annotated[str, typer.Option(help="duckdb or spark")] = "duckdb",
    catalogue: Annotated[Path | None, typer.Option(help="catalogue YAML")] = None,
    parquet_input: Annotated[
        Path | None, typer.Option(help="read <table>.parquet files from here, not the warehouse")
    ] = None,
    months_per_batch: Annotated[int, typer.Option(min=1, help="months per pass")] = 12,
) -> None:
    """Compute indicator snapshots: --as-of DATE, or --from YYYY-MM --to YYYY-MM."""
    from riskwatch.indicators.catalogue import load_catalogue
    from riskwatch.indicators.engine import month_ends, run

    if ctx.invoked_subcommand is not None:
        return
    if engine not in ("duckdb", "spark"):
        raise InputError(f"--engine must be duckdb or spark, not {engine!r}")
    if as_of is not None:
        if start or end:
            raise InputError("give either --as-of or --from/--to, not both")
        try:
            dates = [dt.date.fromisoformat(as_of)]
        except ValueError:
            raise InputError(f"--as-of {as_of!r} is not a date like 2025-06-30") from None
    elif start and end:
        dates = month_ends(start, end)
    else:
        raise InputError("give --as-of DATE or --from YYYY-MM --to YYYY-MM")
    settings = get_settings()
    cat = load_catalogue(catalogue)
    with progress_bar() as bar:
        task = bar.add_task("indicators", total=None)

        def note(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        result = run(
            settings.home,
            dates,
            engine="spark" if engine == "spark" else "duckdb",
            catalogue=cat,
            parquet_input=parquet_input,
            months_per_batch=months_per_batch,
            threads=settings.threads,
            memory_limit=settings.memory_limit or settings.indicators_memory_limit,
            progress=note,
        )
    console.print(
        f"run [bold]{result.run_id}[/] ({result.engine}, catalogue {result.catalogue_version}): "
        f"{len(result.months)} month(s), {sum(result.rows.values())} rows in {result.seconds} s"
    )
    for month, ids in result.drifting.items():
        if ids:
            console.print(f"[yellow]{month}: drift (PSI ≥ 0.25) in {', '.join(ids)}[/]")
    console.print(f"manifest: {result.manifest}")


@indicators_app.command("docs")
@handle_errors
def docs(
    out: Annotated[
        Path | None, typer.Option(help="output Markdown file [default: docs/indicators.md]")
    ] = None,
    catalogue: Annotated[Path | None, typer.Option(help="catalogue YAML")] = None,
) -> None:
    """Regenerate docs/indicators.md from the catalogue."""
    from riskwatch.indicators.catalogue import load_catalogue
    from riskwatch.indicators.docs import DOCS_PATH, write_docs

    path = write_docs(load_catalogue(catalogue), out or DOCS_PATH)
    console.print(f"wrote {path}")


@indicators_app.command("check")
@handle_errors
def check(catalogue: Annotated[Path | None, typer.Option(help="catalogue YAML")] = None) -> None:
    """Validate the catalogue and print its size."""
    from riskwatch.indicators.catalogue import load_catalogue

    cat = load_catalogue(catalogue)
    n = sum(1 for _ in cat.all())
    console.print(f"catalogue {cat.config_version}: {n} indicators, {len(cat.outputs())} stored")
