"""Risk-driven event draws and small Arrow helpers shared by the record generators."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.synth.enterprises import Chunk
from riskwatch.synth.timeline import Timeline

Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]


def draw_events(
    rng: np.random.Generator,
    ch: Chunk,
    tl: Timeline,
    monthly: Float | float,
    beta: float,
) -> tuple[Int, Int]:
    """Draw dated events whose monthly rate is ``monthly · exp(beta · z(month))``.

    Only months where the enterprise is registered and days up to as-of count, so a
    record is never dated before its enterprise exists, after it ends, or after as-of.

    Returns
    -------
    rows, days
        Local enterprise index and day number of each event, sorted by enterprise.
    """
    m = tl.history_months
    rate = np.exp(np.float32(beta) * ch.z[:, :m])
    rate *= np.asarray(monthly, dtype=np.float32).reshape(-1, 1)
    alive = (tl.starts[None, 1 : m + 1] > ch.established[:, None]) & (
        tl.starts[None, :m] < ch.end[:, None]
    )
    rate *= alive
    # Draw each enterprise's total, then place its events by inverting the cumulative
    # rate: the same law as a Poisson draw per month, at a fraction of the cost.
    cum = np.cumsum(rate.ravel(), dtype=np.float64)
    ends = cum[m - 1 :: m]
    starts = np.concatenate([[0.0], ends[:-1]])
    counts = rng.poisson(ends - starts)
    rows = np.repeat(np.arange(len(counts)), counts)
    target = starts[rows] + rng.random(len(rows)) * (ends - starts)[rows]
    flat = np.minimum(np.searchsorted(cum, target, side="right"), len(cum) - 1)
    rows, months = np.divmod(flat, m)
    days = tl.day_in_month(months, rng.random(len(flat)))
    keep = (days >= ch.established[rows]) & (days < ch.end[rows]) & (days <= tl.as_of)
    return rows[keep].astype(np.int64), days[keep].astype(np.int64)


def z_at(ch: Chunk, tl: Timeline, rows: Int, days: Int) -> Float:
    """Latent risk of enterprises on given days."""
    return ch.z[rows, tl.month_of(days)].astype(np.float64)


def dates(days: Int) -> pa.Array:
    """Day numbers as an Arrow date32 array."""
    return pa.array(days.astype(np.int32), type=pa.int32()).cast(pa.date32())


def opt_dates(days: Int, present: Bool) -> pa.Array:
    """Day numbers as date32, null where ``present`` is false."""
    return pa.array(days.astype(np.int32), type=pa.int32(), mask=~present).cast(pa.date32())


def take(values: Sequence[str], idx: Int) -> pa.Array:
    """``values[idx]`` as an Arrow string array."""
    return pa.array(list(values), type=pa.string()).take(pa.array(idx))


def pick(rng: np.random.Generator, n: int, probs: Sequence[float]) -> Int:
    """Draw ``n`` category indices with the given (unnormalised) probabilities."""
    p = np.asarray(probs, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1)


def text(values: Int | Float) -> pa.Array:
    """Numbers as strings."""
    return pc.cast(pa.array(values), pa.string())


def padded(values: Int, width: int) -> pa.Array:
    """Non-negative integers as zero-padded strings."""
    return pc.utf8_lpad(text(values), width=width, padding="0")


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and constants."""
    return pc.binary_join_element_wise(*parts, "")


def sample_rows(rng: np.random.Generator, n: int, share: float) -> Bool:
    """A random mask selecting about ``share`` of ``n`` rows."""
    return rng.random(n) < share
