"""The Typer application object shared by the command modules."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="riskwatch",
    help="riskwatch — 企业信用风险分类管理: classify, warn, sample, serve.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)

export_app = typer.Typer(help="Export lists to .csv or .xlsx.")
app.add_typer(export_app, name="export")
