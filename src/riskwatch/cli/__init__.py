"""The ``riskwatch`` command line (Typer + Rich).

Each command module registers its commands on :data:`riskwatch.cli.app.app`.
"""

from __future__ import annotations

import sys

from riskwatch.cli import alerts, common, db, indicators, ingest, sampling, scoring, service, synth
from riskwatch.cli.app import app

__all__ = ["app", "main"]

_ = (
    alerts,
    common,
    db,
    indicators,
    ingest,
    sampling,
    scoring,
    service,
    synth,
)  # imported for their command registrations


def main() -> None:
    """Entry point of the ``riskwatch`` script."""
    sys.exit(app())
