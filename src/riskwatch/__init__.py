"""riskwatch: enterprise credit-risk classification for market-regulation bureaus.

The flow: records → ingest → warehouse → indicators → scoring → classes A/B/C/D →
alerts and cases · random inspection plans · analysis → API / web / CLI.
"""

from __future__ import annotations

__version__ = "0.1.0"
