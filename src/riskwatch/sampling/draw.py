"""Seeded, verifiable stratified draws (双随机: the enterprises).

The algorithm (``riskwatch-draw-v1``, documented for third parties in docs/sampling.md):

1. Canonical population: one line ``uscc,class`` per enterprise, sorted by class then
   uscc (byte order), each line ending in ``\\n``; its SHA-256 is the population digest.
2. Seed digest: ``S = SHA-256("riskwatch-draw-v1|" + seed)`` (UTF-8).
3. Per class stratum h of size N_h, k_h from :func:`~riskwatch.sampling.policy.stratum_counts`.
4. A partial Fisher–Yates shuffle of the stratum's positions 0..N_h-1 (canonical order):
   for step j = 0..k_h-1, m = N_h - j, draw r uniformly in [0, m) and swap positions j and
   j + r; the enterprise that lands on position j is drawn j-th. The uniform integer is
   ``x = first 8 bytes (big-endian) of SHA-256(S || "h|j|c")`` for attempts c = 0, 1, …,
   accepted when x < 2^64 - (2^64 mod m) (rejection removes modulo bias), r = x mod m.
5. Inclusion probability of every enterprise of stratum h: k_h / N_h.

Only the k_h drawn positions are hashed, so a draw over millions of enterprises costs a
sort and a few hundred thousand hashes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.errors import InputError
from riskwatch.sampling.policy import CLASSES, stratum_counts

ALGORITHM = "riskwatch-draw-v1"
_TWO64 = 1 << 64


def as_frame(data: Any) -> pa.Table:
    """A population frame as an Arrow table with unique ``uscc`` and a valid ``class``.

    Parameters
    ----------
    data
        A :class:`pyarrow.Table` or a pandas DataFrame with at least ``uscc`` and
        ``class``; other columns (region_code, industry_code, entity_type, domains, name)
        are carried along.
    """
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    missing = [c for c in ("uscc", "class") if c not in table.column_names]
    if missing:
        raise InputError(f"the population frame lacks column(s) {', '.join(missing)}")
    table = table.set_column(
        table.column_names.index("uscc"), "uscc", table.column("uscc").cast(pa.string())
    )
    table = table.set_column(
        table.column_names.index("class"), "class", table.column("class").cast(pa.string())
    )
    if table.column("uscc").null_count or table.column("class").null_count:
        raise InputError("the population frame has empty uscc or class values")
    bad = pc.unique(
        pc.filter(table["class"], pc.invert(pc.is_in(table["class"], pa.array(CLASSES))))
    )
    if len(bad):
        raise InputError(f"unknown class value(s) {bad.to_pylist()[:5]}; classes are A–D")
    return table


def _class_codes(frame: pa.Table) -> np.ndarray:
    codes = pc.index_in(frame["class"], pa.array(CLASSES))
    return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int8)


def _uscc_bytes(frame: pa.Table) -> np.ndarray | None:
    """The uscc column as an (N, 18) byte matrix when every code is 18 ASCII bytes."""
    arr = pa.concat_arrays(frame["uscc"].chunks) if frame.num_rows else pa.array([], pa.string())
    n = len(arr)
    if n == 0 or pc.any(pc.not_equal(pc.binary_length(arr), 18)).as_py():
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    return data[int(offsets[0]) : int(offsets[-1])].reshape(n, 18)


def canonical_order(frame: pa.Table) -> np.ndarray:
    """Row indices of ``frame`` in canonical order: by class, then uscc (byte order).

    Refuses a frame that lists an enterprise twice.
    """
    codes = _class_codes(frame)
    raw = _uscc_bytes(frame)
    if raw is None:
        by_uscc = np.asarray(pc.sort_indices(frame["uscc"]).to_numpy(), dtype=np.int64)
        ordered = frame["uscc"].take(pa.array(by_uscc)).to_numpy(zero_copy_only=False)
        dup = bool(len(ordered) > 1 and (ordered[1:] == ordered[:-1]).any())
    else:
        # Three big-endian integers compare like the 18 bytes and sort far faster than text.
        k1 = np.ascontiguousarray(raw[:, :8]).view(">u8").ravel().astype(np.uint64)
        k2 = np.ascontiguousarray(raw[:, 8:16]).view(">u8").ravel().astype(np.uint64)
        k3 = np.ascontiguousarray(raw[:, 16:]).view(">u2").ravel().astype(np.uint16)
        keys = pa.table({"k1": k1, "k2": k2, "k3": k3})
        sort = [(name, "ascending") for name in ("k1", "k2", "k3")]
        by_uscc = np.asarray(pc.sort_indices(keys, sort_keys=sort).to_numpy(), dtype=np.int64)
        s1, s2, s3 = k1[by_uscc], k2[by_uscc], k3[by_uscc]
        dup = bool(((s1[1:] == s1[:-1]) & (s2[1:] == s2[:-1]) & (s3[1:] == s3[:-1])).any())
    if dup:
        raise InputError("the population frame lists an enterprise twice")
    # A stable sort on the one-byte class keeps uscc order inside each class (radix sort).
    return by_uscc[np.argsort(codes[by_uscc], kind="stable")]


def canonical(frame: pa.Table) -> pa.Table:
    """The frame sorted by class then uscc (the canonical population order)."""
    return frame.take(pa.array(canonical_order(frame)))


def population_digest(frame: pa.Table, order: np.ndarray | None = None) -> str:
    """SHA-256 (hex) of the canonical population text (``uscc,class\\n`` per line).

    Parameters
    ----------
    frame
        The population frame.
    order
        Its canonical order when already computed.
    """
    order = canonical_order(frame) if order is None else order
    raw = _uscc_bytes(frame)
    if raw is not None:
        letters = np.frombuffer("".join(CLASSES).encode(), dtype=np.uint8)
        text = np.empty((len(order), 21), dtype=np.uint8)
        text[:, :18] = raw[order]
        text[:, 18] = ord(",")
        text[:, 19] = letters[_class_codes(frame)[order]]
        text[:, 20] = ord("\n")
        return hashlib.sha256(text.tobytes()).hexdigest()
    canon = frame.select(["uscc", "class"]).take(pa.array(order))
    lines = pc.binary_join_element_wise(canon["uscc"], canon["class"], ",")
    digest = hashlib.sha256()
    for chunk in lines.chunks:
        digest.update(_contiguous(chunk))
    return digest.hexdigest()


def _contiguous(chunk: pa.Array) -> memoryview:
    """The values of a string array, each followed by ``\\n``, as one buffer (no copy)."""
    with_nl = pc.binary_join_element_wise(chunk, pa.scalar(""), "\n")
    offsets = np.frombuffer(with_nl.buffers()[1], dtype=np.int32)[
        with_nl.offset : with_nl.offset + len(with_nl) + 1
    ]
    data = with_nl.buffers()[2]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]


def seed_digest(seed: str) -> bytes:
    """``S = SHA-256("riskwatch-draw-v1|" + seed)``, the key of every random choice."""
    return hashlib.sha256(f"{ALGORITHM}|{seed}".encode()).digest()


def uniform_int(key: bytes, label: str, m: int) -> int:
    """A uniform integer in [0, m) from SHA-256(key || label || "|" || attempt).

    Parameters
    ----------
    key
        The seed digest ``S``.
    label
        What is being drawn (``"B|17"``: stratum B, step 17).
    m
        The range; must be positive.
    """
    limit = _TWO64 - (_TWO64 % m)
    attempt = 0
    base = hashlib.sha256(key)
    while True:
        h = base.copy()
        h.update(f"{label}|{attempt}".encode())
        x = int.from_bytes(h.digest()[:8], "big")
        if x < limit:
            return x % m
        attempt += 1


def draw_positions(key: bytes, stratum: str, size: int, k: int) -> list[int]:
    """Positions (0-based, canonical order) drawn from a stratum, in draw order.

    A partial Fisher–Yates shuffle kept in a sparse map, so the cost is O(k), not O(N).
    """
    if not 0 <= k <= size:
        raise InputError(f"cannot draw {k} of {size} enterprises in stratum {stratum}")
    moved: dict[int, int] = {}
    out: list[int] = []
    for j in range(k):
        t = j + uniform_int(key, f"{stratum}|{j}", size - j)
        picked = moved.get(t, t)
        moved[t] = moved.get(j, j)
        out.append(picked)
    return out


@dataclass(frozen=True)
class Stratum:
    """One class stratum of a draw: its size N_h and the number drawn k_h."""

    cls: str
    size: int
    drawn: int

    @property
    def probability(self) -> Fraction:
        return Fraction(self.drawn, self.size) if self.size else Fraction(0)


@dataclass(frozen=True)
class Draw:
    """The outcome of a draw.

    Attributes
    ----------
    selected
        Drawn enterprises: the frame's columns plus ``draw_rank`` (1-based within the
        stratum) and ``inclusion_probability`` (k_h / N_h).
    population_sha256
        Digest of the canonical population.
    list_sha256
        Digest of the drawn list (see :func:`list_digest`).
    strata
        N_h and k_h per class.
    seed, algorithm
        What a verifier needs besides the population.
    """

    selected: pa.Table
    population_sha256: str
    list_sha256: str
    strata: tuple[Stratum, ...]
    seed: str
    algorithm: str = ALGORITHM


def draw(
    data: Any,
    *,
    seed: str,
    ratios: dict[str, float] | None = None,
    counts: dict[str, int] | None = None,
) -> Draw:
    """Draw a stratified random sample from a population frame.

    Parameters
    ----------
    data
        The population frame (see :func:`as_frame`), already limited to the plan's scope
        and without the enterprises excluded (drawn earlier this year).
    seed
        The recorded seed (may be a public value fixed before the draw).
    ratios, counts
        The allocation per class (see :func:`~riskwatch.sampling.policy.stratum_counts`).

    Returns
    -------
    Draw
        Same seed and same population always give the same list, whatever the row order.
    """
    frame = as_frame(data)
    order = canonical_order(frame)
    key = seed_digest(seed)
    counts_by_code = np.bincount(_class_codes(frame), minlength=len(CLASSES))
    sizes = {c: int(counts_by_code[i]) for i, c in enumerate(CLASSES)}
    starts = dict(zip(CLASSES, np.concatenate([[0], np.cumsum(counts_by_code)[:-1]]), strict=True))
    ks = stratum_counts(sizes, ratios=ratios, counts=counts)
    rows: list[np.ndarray] = []
    ranks: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    strata: list[Stratum] = []
    for cls in CLASSES:
        n, k = sizes[cls], ks[cls]
        strata.append(Stratum(cls, n, k))
        pos = np.asarray(draw_positions(key, cls, n, k), dtype=np.int64)
        rows.append(order[pos + int(starts[cls])])
        ranks.append(np.arange(1, k + 1, dtype=np.int64))
        probs.append(np.full(k, k / n if n else 0.0))
    selected = frame.take(pa.array(np.concatenate(rows), pa.int64()))
    selected = selected.append_column("draw_rank", pa.array(np.concatenate(ranks)))
    selected = selected.append_column("inclusion_probability", pa.array(np.concatenate(probs)))
    return Draw(
        selected=selected,
        population_sha256=population_digest(frame, order),
        list_sha256=list_digest(selected["uscc"].to_pylist(), selected["class"].to_pylist()),
        strata=tuple(strata),
        seed=seed,
    )


def list_digest(usccs: list[str], classes: list[str]) -> str:
    """SHA-256 (hex) of a drawn list: ``uscc,class\\n`` lines sorted by uscc."""
    lines = sorted(f"{u},{c}\n" for u, c in zip(usccs, classes, strict=True))
    return hashlib.sha256("".join(lines).encode()).hexdigest()
