"""Storage behind early warning: warehouse queries of the detectors (:mod:`.queries`) and
the operational tables of alerts and cases (:mod:`.ops`)."""

from __future__ import annotations
