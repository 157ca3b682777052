"""Vectorised fast paths for the common, clean case of high-cardinality columns.

Most codes in real exports are already clean (upper-case ASCII, no spaces). Those are
recognised with one Arrow regex over the whole column and checked with numpy; only the
quirky rest goes through the per-value parsers of :mod:`riskwatch.ingest.normalize`.
Both paths give the same answer (a property test holds them equal, with python-stdnum as
the oracle for check characters).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.ingest.normalize import USCC_ALPHABET, USCC_FORM, USCC_WEIGHTS

_LUT = np.full(256, 0, dtype=np.int64)
for _i, _c in enumerate(USCC_ALPHABET):
    _LUT[ord(_c)] = _i
_WEIGHTS = np.asarray(USCC_WEIGHTS, dtype=np.int64)

# A code needs the slow path when it has white space, full-width forms, or an Excel tail.
_NEEDS_CARE = r"[\s\x{3000}\x{FF01}-\x{FF5E}]|^[0-9]+\.0$"


def clean_uscc(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Values already in normal form (returned as is) and the mask of those rows."""
    ok = pc.fill_null(pc.match_substring_regex(arr, USCC_FORM), False)
    mask = ok.to_numpy(zero_copy_only=False)
    return pc.if_else(ok, arr, None), mask


def clean_code(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Identifier cells that need no folding (no spaces, no full-width forms, no ``.0``)."""
    care = pc.match_substring_regex(arr, _NEEDS_CARE)
    empty = pc.equal(pc.utf8_length(arr), 0)
    ok = pc.fill_null(pc.and_(pc.invert(care), pc.invert(empty)), False)
    return pc.if_else(ok, arr, None), ok.to_numpy(zero_copy_only=False)


def uscc_check_mask(codes: pa.Array) -> np.ndarray:
    """For well-formed USCCs (no nulls), whether each check character is right."""
    if len(codes) == 0:
        return np.zeros(0, dtype=bool)
    raw = np.asarray(codes.to_numpy(zero_copy_only=False), dtype="S18")
    chars = raw.view(np.uint8).reshape(-1, 18)
    values = _LUT[chars]
    total = values[:, :17] @ _WEIGHTS
    check = (31 - total % 31) % 31
    return np.asarray(values[:, 17] == check)
