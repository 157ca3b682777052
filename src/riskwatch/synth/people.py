"""Persons behind enterprises: stable indices, ID numbers, names, and a hidden risk trait.

A person is an integer.  Chunk ``c`` owns indices ``[c·S, (c+1)·S)`` with
``S = PERSON_SLOTS · chunk_size``, cut into slots: fresh legal representatives,
supervisors, managers, second shareholders, a small pool of serial entrepreneurs (who
appear behind several enterprises) and the planted nominee / shell-company persons.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from riskwatch.synth.codes import make_passports, make_resident_ids
from riskwatch.synth.world import FOREIGN_NAMES, GIVEN_CHARS, SURNAMES

Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

PERSON_SLOTS = 6
SLOT_LEGAL, SLOT_SUPERVISOR, SLOT_MANAGER, SLOT_HOLDER, SLOT_SERIAL, SLOT_PLANTED = range(6)


def person_base(chunk: int, chunk_size: int) -> int:
    """First person index owned by a chunk."""
    return chunk * PERSON_SLOTS * chunk_size


def slot_of(person: Int, chunk_size: int) -> Int:
    """Which slot a person index falls in."""
    return (person % (PERSON_SLOTS * chunk_size)) // chunk_size


def _mix(person: Int) -> Int:
    """A cheap integer hash (splitmix-like), stable across runs."""
    x = (person.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)) * np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(31)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(29)
    return (x >> np.uint64(8)).astype(np.int64)


def person_risk(person: Int, chunk_size: int) -> npt.NDArray[np.float64]:
    """Hidden risk trait of persons: a few are habitual offenders, more so among serial ones."""
    slot = slot_of(person, chunk_size)
    h = _mix(person) % 1000
    threshold = np.select([slot == SLOT_SERIAL, slot == SLOT_PLANTED], [250, 700], 30)
    return np.where(h < threshold, 1.0, 0.0)


def person_ids(person: Int, foreign: Bool) -> pa.Array:
    """ID numbers: resident IDs, or passports for foreign persons."""
    ids = make_resident_ids(person)
    if not foreign.any():
        return ids
    return pc.if_else(pa.array(foreign), make_passports(person), ids)


def person_names(person: Int, foreign: Bool) -> pa.Array:
    """Names: a surname and one or two given characters (Latin names for foreigners)."""
    h = _mix(person + 77)
    surname = pa.array(list(SURNAMES)).take(pa.array(h % len(SURNAMES)))
    g1 = pa.array(list(GIVEN_CHARS)).take(pa.array((h // 131) % len(GIVEN_CHARS)))
    g2 = pa.array(list(GIVEN_CHARS)).take(pa.array((h // 70001) % len(GIVEN_CHARS)))
    two = pa.array((h // 9_000_001) % 10 < 7)
    given = pc.if_else(two, pc.binary_join_element_wise(g1, g2, ""), g1)
    names = pc.binary_join_element_wise(surname, given, "")
    if not foreign.any():
        return names
    latin = pa.array(list(FOREIGN_NAMES)).take(pa.array(h % len(FOREIGN_NAMES)))
    return pc.if_else(pa.array(foreign), latin, names)
