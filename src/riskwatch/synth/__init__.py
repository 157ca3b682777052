"""Synthetic city generator: a contract-conforming export of Zhengzhou with a known truth.

``generate(SynthConfig(...))`` writes every contract table (mixed formats and the quirks of
real exports, or all CSV, or all Parquet) plus ``truth/`` — latent risk, planted patterns,
future inspections, the deliberately bad rows — which the platform never reads.
"""

from __future__ import annotations

from riskwatch.synth.city import SynthConfig, generate

__all__ = ["SynthConfig", "generate"]
