"""Access to the monthly classes A/B/C/D, which the scoring issue stores.

The scoring issue stores them (``riskwatch.store.classes.load_classes(settings, month,
columns)``); it is imported lazily because it pulls pandas, which a scan without classes
does not need. When a month has no classes the functions here return ``None`` and the
callers (related-party risk, ``class_deterioration``, ``related_party_risk``) say so.
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.errors import NotFoundError
from riskwatch.settings import Settings

CLASS_COLUMNS = ("risk_class", "class", "klass", "grade")
SEED = {"D": 1.0, "C": 0.5}
LEVEL = {"A": 0, "B": 1, "C": 2, "D": 3}


def month_of(day: dt.date) -> str:
    """``YYYY-MM`` of a date."""
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(month: str) -> str:
    """The month before ``YYYY-MM``."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


def load_classes(settings: Settings, month: str) -> pa.Table | None:
    """``uscc, risk_class`` of a month, or ``None`` when the month has no classes."""
    try:
        mod = importlib.import_module("riskwatch.store.classes")
    except ImportError:
        return None
    loader: Any = getattr(mod, "load_classes", None)
    if loader is None or not mod.list_class_months(settings.home):
        return None
    table: pa.Table | None = None
    for col in CLASS_COLUMNS:
        try:
            table = loader(settings, month, columns=["uscc", col])
        except NotFoundError:
            return None
        except (KeyError, ValueError, pa.ArrowInvalid):
            continue  # not this column name
        break
    if table is None or table.num_rows == 0:
        return None
    col = next(c for c in table.column_names if c in CLASS_COLUMNS)
    return pa.table(
        {"uscc": table.column("uscc"), "risk_class": pc.cast(table.column(col), pa.string())}
    )


def risky_classes(settings: Settings, as_of: dt.date) -> pa.Table | None:
    """``uscc, seed``: C-class (0.5) and D-class (1.0) enterprises of ``as_of``'s month."""
    table = load_classes(settings, month_of(as_of))
    if table is None:
        return None
    cls = table.column("risk_class").to_pylist()
    seeds = [SEED.get(str(c), 0.0) for c in cls]
    return pa.table({"uscc": table.column("uscc"), "seed": pa.array(seeds, pa.float64())})
