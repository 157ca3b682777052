"""Planted patterns with a known answer: shell clusters, nominee persons, complaint surges.

Each is rare (together under 1 % of enterprises) yet at least three of each are planted
in every chunk, so small cities carry them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from riskwatch.synth import people as pp
from riskwatch.synth import world as w
from riskwatch.synth.codes import to_fullwidth
from riskwatch.synth.enterprises import Chunk
from riskwatch.synth.timeline import Timeline

Int = npt.NDArray[np.int64]

SHELL_INDUSTRIES = ("L7212", "F5299", "I6513", "L7251", "M7519")
NOMINEE_TYPES = (w.T_LLC, w.T_SOLE, w.T_PARTNERSHIP)


@dataclass
class Planted:
    """Local indices of the planted patterns of one chunk."""

    clusters: list[dict[str, object]] = field(default_factory=list)
    nominees: list[dict[str, object]] = field(default_factory=list)
    surges: list[int] = field(default_factory=list)


def _free(rng: np.random.Generator, ch: Chunk, k: int, mask: npt.NDArray[np.bool_]) -> Int:
    pool = np.flatnonzero(mask & ~ch.planted)
    pick = rng.choice(pool, size=min(k, len(pool)), replace=False)
    ch.planted[pick] = True
    return np.sort(pick)


def address_variants(
    district: str, road: str, number: int, building: str, tower: int, room: int
) -> list[str]:
    """Ways clerks write one address: the canonical form first, then variants of it."""
    rest = f"{road}{number}号({building}){tower}号楼{room}室"
    canonical = f"{w.PROVINCE_NAME}{w.CITY_NAME}{district}{rest}"
    return [
        canonical,
        f"{w.CITY_NAME}{district}{rest}",
        f"{district}{rest}",
        f"{w.PROVINCE_NAME}{w.CITY_NAME}{district}{road}{number}号（{building}）{tower}栋{room}室",
        f"{w.PROVINCE_NAME}{w.CITY_NAME}{district}{to_fullwidth(rest)}",
    ]


def plant(rng: np.random.Generator, ch: Chunk, tl: Timeline, next_person: list[int]) -> Planted:
    """Plant the patterns of one chunk into its attributes (before risk is computed)."""
    out = Planted()
    n = ch.size
    planted_base = pp.person_base(ch.index, ch.chunk_size) + pp.SLOT_PLANTED * ch.chunk_size

    def new_person() -> int:
        next_person[0] += 1
        return planted_base + next_person[0] - 1

    urban = ~np.array([d.county for d in w.DISTRICTS])[ch.district]
    shell_codes = [i for i, ind in enumerate(w.INDUSTRIES) if ind.code in SHELL_INDUSTRIES]
    n_clusters = max(3, round(n * 0.0035 / 17))
    for _ in range(n_clusters):
        size = int(rng.integers(5, 31))
        members = _free(rng, ch, size, urban & (ch.etype != w.T_BRANCH))
        if len(members) < 5:
            break
        window = tl.as_of - int(rng.integers(60, 700))
        reps = [new_person() for _ in range(int(rng.integers(1, 4)))]
        lead = members[0]
        district, road, number = ch.district[lead], ch.road[lead], ch.number[lead]
        building, tower = int(rng.integers(0, len(w.BUILDINGS))), int(rng.integers(1, 13))
        room = int(rng.integers(1, 31)) * 100 + int(rng.integers(1, 21))
        variants = address_variants(
            w.DISTRICTS[district].name,
            w.ROADS[road],
            int(number),
            w.BUILDINGS[building],
            tower,
            room,
        )
        for m in members:
            ch.etype[m] = w.T_LLC
            ch.industry[m] = shell_codes[int(rng.integers(0, len(shell_codes)))]
            ch.established[m] = min(window + int(rng.integers(0, 60)), tl.as_of - 1)
            ch.capital[m] = float(rng.integers(1, 11))
            ch.legal_rep[m] = reps[int(rng.integers(0, len(reps)))]
            ch.holder[m] = reps[int(rng.integers(0, len(reps)))] if len(reps) > 1 else -1
            ch.holder[m] = -1 if ch.holder[m] == ch.legal_rep[m] else ch.holder[m]
            ch.district[m] = district
            ch.corp_holder[m] = -1
            ch.foreign[m] = False
            ch.bonus[m] = 1.6
            ch.address_override[int(m)] = variants[
                0 if rng.random() < 0.5 else int(rng.integers(1, 5))
            ]
        # Neighbours in other rooms of the same building: distinct addresses, not a cluster.
        decoys = _free(rng, ch, int(rng.integers(2, 4)), urban & (ch.etype != w.T_BRANCH))
        decoy_addresses = []
        for j, m in enumerate(decoys):
            ch.district[m] = district
            other = room + 1 + j if room % 100 < 19 else room - 1 - j
            text = address_variants(
                w.DISTRICTS[district].name,
                w.ROADS[road],
                int(number),
                w.BUILDINGS[building],
                tower,
                other,
            )[0]
            ch.address_override[int(m)] = text
            decoy_addresses.append(text)
        out.clusters.append(
            {
                "canonical_address": variants[0],
                "variants": variants,
                "members": members.tolist(),
                "legal_reps": reps,
                "decoys": decoys.tolist(),
                "decoy_addresses": decoy_addresses,
            }
        )
    n_nominees = max(3, round(n * 0.003 / 7))
    recent = ch.established > tl.as_of - 3 * 365  # keep old firms old; pick any candidates
    for _ in range(n_nominees):
        members = _free(
            rng, ch, int(rng.integers(5, 10)), np.isin(ch.etype, NOMINEE_TYPES) | recent
        )
        if len(members) < 5:
            break
        person = new_person()
        as_holder = []
        for m in members:
            ch.etype[m] = NOMINEE_TYPES[int(rng.integers(0, 3))] if rng.random() < 0.2 else w.T_LLC
            ch.established[m] = tl.as_of - int(rng.integers(1, 365))
            ch.foreign[m] = False
            ch.bonus[m] = 1.0
            ch.capital[m] = float(np.round(10 ** rng.normal(1.5, 0.6), 1))
            if rng.random() < 0.7:
                ch.legal_rep[m] = person
            else:
                ch.holder[m] = person
                as_holder.append(int(m))
        out.nominees.append({"person": person, "members": members.tolist(), "as_holder": as_holder})
    old = ch.established < tl.as_of - 2 * 365
    n_surges = max(3, round(n * 0.0015))
    surges = _free(rng, ch, n_surges, old & (ch.etype != w.T_BRANCH))
    ch.bonus[surges] += 0.4
    out.surges = surges.tolist()
    return out
