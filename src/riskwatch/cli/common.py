"""Shared CLI helpers: console, error handling, progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from riskwatch import __version__
from riskwatch.cli.app import app
from riskwatch.errors import RiskwatchError

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn riskwatch errors into a clear message and exit code 2 (no traceback)."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except RiskwatchError as exc:
            err_console.print(f"[bold red]error:[/] {exc.message}")
            raise typer.Exit(code=2) from None

    return wrapper


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A Rich progress bar for long steps (transient on a terminal, quiet otherwise)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        yield progress


@app.command()
def version() -> None:
    """Print the riskwatch version."""
    console.print(__version__)
