"""CLI commands: train, run, evaluate, models list|promote, export classes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from riskwatch.cli.app import app, export_app
from riskwatch.cli.common import console, handle_errors, progress_bar
from riskwatch.errors import InputError
from riskwatch.settings import get_settings

models_app = typer.Typer(help="The model registry: list, promote.", no_args_is_help=True)
app.add_typer(models_app, name="models")


AsOf = Annotated[str, typer.Option("--as-of", help="as-of date, YYYY-MM-DD")]
ModelsOpt = Annotated[
    Path | None, typer.Option("--models-config", help="models YAML (default config/models.yaml)")
]
ClassesOpt = Annotated[
    Path | None, typer.Option("--classes-config", help="class policy YAML (config/classes.yaml)")
]


def _bar() -> Any:
    return progress_bar()


@app.command()
@handle_errors
def train(
    as_of: AsOf,
    no_promote: Annotated[bool, typer.Option("--no-promote", help="do not promote")] = False,
    models_config: ModelsOpt = None,
) -> None:
    """Train every model family on history before as-of; promote the best."""
    from riskwatch.services.scoring import ScoringService, parse_day

    svc = ScoringService(get_settings(), models_config)
    with _bar() as bar:
        task = bar.add_task("train", total=None)
        res = svc.train(
            parse_day(as_of),
            promote=not no_promote,
            progress=lambda s, d, t: bar.update(task, description=s, completed=d, total=t),
        )
    table = Table("version", "family", "AUC", "KS", "Brier", "labels")
    for mdl in res.models:
        mt = mdl["metrics"]
        table.add_row(
            mdl["version"],
            mdl["family"],
            f"{mt['auc']:.3f}",
            f"{mt['ks']:.3f}",
            f"{mt['brier']:.3f}",
            str(mdl["labels"]),
        )
    console.print(table)
    console.print(f"champion: {res.champion}" + (" (promoted)" if res.promoted else ""))


@app.command()
@handle_errors
def run(
    as_of: AsOf,
    engine: Annotated[str, typer.Option(help="duckdb or spark")] = "duckdb",
    model: Annotated[str | None, typer.Option(help="model version (default: champion)")] = None,
    models_config: ModelsOpt = None,
    classes_config: ClassesOpt = None,
) -> None:
    """Monthly job: indicators → (train if no champion) → score → classes → stored."""
    from riskwatch.services.scoring import ScoringService, parse_day

    if engine not in ("duckdb", "spark"):
        raise InputError(f"--engine must be duckdb or spark, not {engine!r}")
    svc = ScoringService(get_settings(), models_config, classes_config)
    with _bar() as bar:
        task = bar.add_task("run", total=None)
        res = svc.run(
            parse_day(as_of),
            engine="spark" if engine == "spark" else "duckdb",
            model_version=model,
            progress=lambda s, d, t: bar.update(task, description=s, completed=d, total=t),
        )
    console.print(
        f"run {res.run_id}: {res.rows} enterprises classed for {res.month} "
        f"with {res.model_version} on {res.engine} in {res.seconds} s"
    )
    console.print("class mix: " + ", ".join(f"{k} {v}" for k, v in res.class_mix.items()))


@app.command()
@handle_errors
def evaluate(
    as_of: AsOf,
    truth: Annotated[Path | None, typer.Option(help="synthetic city truth/ folder")] = None,
    horizon: Annotated[int, typer.Option(min=1, help="months of later checks to grade on")] = 6,
    out: Annotated[Path | None, typer.Option(help="report folder")] = None,
) -> None:
    """Grade classes and model families on later spot checks (HTML + JSON report)."""
    from riskwatch.services.evaluation import evaluate as run_evaluation
    from riskwatch.services.scoring import parse_day

    data = run_evaluation(get_settings(), parse_day(as_of), truth, horizon, out)
    table = Table("family", "AUC", "KS", "precision@5%")
    for k, f in data["families"].items():
        table.add_row(k, f"{f['auc']:.3f}", f"{f['ks']:.3f}", f"{f['precision_at_capacity']:.3f}")
    console.print(table)
    if "oracle_auc" in data:
        console.print(f"oracle AUC {data['oracle_auc']:.3f}")
    ladder = data["classes"]["discovery"]
    console.print(
        "discovery: " + ", ".join(f"{k} {v['rate']:.1%} (n={v['n']})" for k, v in ladder.items())
    )
    console.print(f"report: {data['report']}")


@models_app.command("list")
@handle_errors
def models_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List stored models with their metrics and champions."""
    from riskwatch.scoring import registry

    home = get_settings().home
    rows = [registry.describe(m) for m in registry.list_models(home)]
    champs = registry.champions(home)
    if as_json:
        console.print_json(json.dumps({"models": rows, "champions": champs}, ensure_ascii=False))
        return
    table = Table("version", "family", "as-of", "AUC", "labels", "champion of")
    for r in rows:
        months = ", ".join(k for k, v in champs.items() if v == r["version"])
        table.add_row(
            r["version"],
            r["family"],
            r["as_of"],
            f"{r['metrics'].get('auc', float('nan')):.3f}",
            str(r["labels"]),
            months,
        )
    console.print(table)


@models_app.command("promote")
@handle_errors
def models_promote(version: str, month: Annotated[str, typer.Option(help="YYYY-MM")]) -> None:
    """Make a model the champion of a month."""
    from riskwatch.scoring import registry

    registry.promote(get_settings().home, version, month)
    console.print(f"{version} is the champion of {month}")


@export_app.command("classes")
@handle_errors
def export_classes_cmd(
    as_of: AsOf, out: Annotated[Path, typer.Option(help=".csv or .xlsx")]
) -> None:
    """Export a month's classes: uscc, name, region, industry, class, score, reasons."""
    from riskwatch.services.scoring import export_classes, parse_day

    n = export_classes(get_settings(), parse_day(as_of), out)
    console.print(f"wrote {n} rows to {out}")
