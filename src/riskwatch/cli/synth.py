"""CLI commands: synth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from riskwatch.cli.app import app
from riskwatch.cli.common import console, handle_errors, progress_bar
from riskwatch.errors import InputError


@app.command()
@handle_errors
def synth(
    enterprises: Annotated[
        int, typer.Option("--enterprises", "-n", help="Number of enterprises.")
    ] = 20_000,
    as_of: Annotated[str, typer.Option("--as-of", help="Export date, YYYY-MM-DD.")] = "2025-06-30",
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 7,
    out: Annotated[Path, typer.Option("--out", help="Output folder (new or empty).")] = Path(
        "city"
    ),
    fmt: Annotated[
        str,
        typer.Option("--format", help="mixed (every contract format and quirk), csv or parquet."),
    ] = "mixed",
) -> None:
    """Write a synthetic city with a known truth (truth/ is never read by the platform)."""
    from riskwatch.synth.city import SynthConfig, generate

    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        raise InputError(f"--as-of must be a date like 2025-06-30, not {as_of!r}") from None
    cfg = SynthConfig(enterprises=enterprises, as_of=day, seed=seed, out=out, format=fmt)
    cfg.validate()
    with progress_bar() as progress:
        task = progress.add_task("synth: chunks", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        manifest = generate(cfg, progress=advance)
    console.print(
        f"wrote {manifest['records']:,} records for {enterprises:,} enterprises to {out} "
        f"in {manifest['seconds']:.1f} s ({len(manifest['files'])} files; truth in {out / 'truth'})"
    )
