"""CLI commands: ingest, quarantine list|export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from riskwatch.cli.app import app
from riskwatch.cli.common import console, err_console, handle_errors, progress_bar
from riskwatch.settings import get_settings

if TYPE_CHECKING:
    from riskwatch.services.ingest import LoadReport

quarantine_app = typer.Typer(help="Rows rejected at load, with file, line, column and reason.")
app.add_typer(quarantine_app, name="quarantine")


def print_report(report: LoadReport) -> None:
    """The load report as a table (the same figures as --report-json)."""
    table = RichTable(title=f"load {report.load_id}")
    for col in ("table", "read", "loaded", "unchanged", "quarantined", "reasons", "notes"):
        table.add_column(
            col,
            justify="right" if col in ("read", "loaded", "unchanged", "quarantined") else "left",
        )
    for name, t in report.tables.items():
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(t.by_reason.items()))
        notes = ", ".join(f"{k} {v}" for k, v in sorted(t.warnings.items()))
        table.add_row(
            name,
            f"{t.rows_read:,}",
            f"{t.rows_loaded:,}",
            f"{t.rows_unchanged:,}",
            f"{t.rows_quarantined:,}",
            reasons,
            notes,
        )
    console.print(table)
    for f in report.files:
        if f.status == "skipped":
            console.print(f"[dim]skipped {Path(f.path).name}: {f.error}[/]")
    for f in report.rejected_files:
        err_console.print(f"[bold red]rejected[/] {f.error}")
    if report.ignored_files:
        console.print(
            f"[yellow]ignored (no contract table in the name):[/] {', '.join(report.ignored_files)}"
        )


@app.command()
@handle_errors
def ingest(
    folder: Annotated[
        Path, typer.Argument(help="folder of contract files", exists=True, file_okay=False)
    ],
    report_json: Annotated[Path | None, typer.Option(help="write the load report here")] = None,
    force: Annotated[bool, typer.Option(help="re-apply files already loaded unchanged")] = False,
) -> None:
    """Load every contract file of FOLDER into the warehouse (idempotent, atomic per file)."""
    from riskwatch.services.ingest import IngestService

    service = IngestService(get_settings())
    with progress_bar() as bar:
        task = bar.add_task("ingest", total=None)

        def progress(name: str, done: int, total: int) -> None:
            bar.update(task, description=f"ingest {name}", completed=done, total=total)

        report = service.run(folder, progress=progress, force=force)
    if report_json is not None:
        report_json.parent.mkdir(parents=True, exist_ok=True)
        report_json.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    print_report(report)
    if report.rejected_files:
        raise typer.Exit(code=1)


@quarantine_app.command("list")
@handle_errors
def quarantine_list(
    table: Annotated[str | None, typer.Option(help="only this table")] = None,
    load: Annotated[str | None, typer.Option(help="only this load id")] = None,
    reason: Annotated[str | None, typer.Option(help="only this reason")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="include rows a fixed file superseded")
    ] = False,
    limit: Annotated[int, typer.Option(help="rows to show")] = 50,
) -> None:
    """Show quarantined rows."""
    from riskwatch.store.loads import quarantine_rows
    from riskwatch.store.warehouse import open_warehouse

    settings = get_settings()
    with open_warehouse(settings.warehouse_path, read_only=True) as con:
        rows = quarantine_rows(
            con, table=table, load_id=load, reason=reason, include_superseded=all_, limit=limit
        )
        total = quarantine_rows(
            con, table=table, load_id=load, reason=reason, include_superseded=all_
        ).num_rows
    out = RichTable(
        title=f"quarantine: {total:,} rows" + (f" (first {limit})" if total > limit else "")
    )
    for col in ("table", "file", "line", "column", "reason"):
        out.add_column(col, no_wrap=True)
    out.add_column("detail", overflow="fold", ratio=1)
    for r in rows.to_pylist():
        out.add_row(
            r["table_name"],
            r["file_name"],
            str(r["line"] or ""),
            r["column_name"] or "",
            r["reason"],
            r["detail"] or "",
        )
    console.print(out)


@quarantine_app.command("export")
@handle_errors
def quarantine_export(
    out: Annotated[Path, typer.Option(help="target .csv or .xlsx")],
    table: Annotated[str | None, typer.Option(help="only this table")] = None,
    load: Annotated[str | None, typer.Option(help="only this load id")] = None,
    all_: Annotated[bool, typer.Option("--all", help="include superseded rows")] = False,
) -> None:
    """Export quarantined rows to CSV or Excel, for the data's source to fix."""
    from riskwatch.exports import write_table
    from riskwatch.store.loads import quarantine_rows
    from riskwatch.store.warehouse import open_warehouse

    settings = get_settings()
    with open_warehouse(settings.warehouse_path, read_only=True) as con:
        rows = quarantine_rows(con, table=table, load_id=load, include_superseded=all_)
    n = write_table(
        rows,
        out,
        headers={
            "load_id": "批次 load_id",
            "table_name": "表 table",
            "file_name": "文件 file",
            "line": "行 line",
            "column_name": "列 column",
            "value": "值 value",
            "reason": "原因 reason",
            "detail": "说明 detail",
            "row_json": "原始行 row",
            "superseded_by": "已被替代 superseded_by",
        },
    )
    console.print(f"wrote {n:,} rows to {out}")
