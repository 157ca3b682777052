"""CLI commands: synth."""

from __future__ import annotations
