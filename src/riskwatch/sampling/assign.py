"""Seeded, verifiable inspector assignment (双随机: the inspectors).

The algorithm (``riskwatch-assign-v1``, see docs/sampling.md):

1. Drawn enterprises are handled in the order of ``SHA-256(S || "order|" + uscc)``
   (S the plan's seed digest), so no enterprise is always served first.
2. An inspector qualifies for an enterprise when on duty (active), in the same region
   (the first ``region_digits`` digits of the region code agree) and trained for a
   required domain: the plan's domains that the enterprise falls in, else the plan's
   domains, else the enterprise's own domains (no requirement when none applies).
3. Recused: whoever inspected the enterprise last time, and every listed conflict.
4. Among the remaining, the ``per`` inspectors with the lowest workload so far are taken,
   ties broken by ``SHA-256(S || "assign|" + uscc + "|" + inspector_id)``: random, yet
   balanced. When the region has too few, qualified inspectors of the wider region
   (``wider_digits``, e.g. the city) follow, ranked the same way. An enterprise still
   short of ``per`` candidates is reported, not padded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from riskwatch.sampling.draw import seed_digest

ALGORITHM = "riskwatch-assign-v1"


@dataclass(frozen=True)
class Inspector:
    """One entry of the inspector register (执法检查人员名录库)."""

    inspector_id: str
    region_code: str
    domains: frozenset[str] = frozenset()
    active: bool = True
    department: str = ""


@dataclass(frozen=True)
class Target:
    """A drawn enterprise as the assignment sees it."""

    uscc: str
    region_code: str
    domains: frozenset[str] = frozenset()


@dataclass
class Assignment:
    """Inspectors per drawn enterprise, the shortfalls, and the list's digest."""

    inspectors: dict[str, list[str]]
    shortfalls: dict[str, str] = field(default_factory=dict)
    workload: dict[str, int] = field(default_factory=dict)
    algorithm: str = ALGORITHM

    @property
    def sha256(self) -> str:
        return assignment_digest(self.inspectors)


def assignment_digest(inspectors: Mapping[str, Sequence[str]]) -> str:
    """SHA-256 (hex) of ``uscc,id1;id2\\n`` lines sorted by uscc."""
    lines = sorted(f"{u},{';'.join(ids)}\n" for u, ids in inspectors.items())
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _tie(key: bytes, text: str) -> bytes:
    return hashlib.sha256(key + text.encode()).digest()


def required_domains(target: Target, plan_domains: frozenset[str]) -> frozenset[str]:
    """The domains an inspector must cover (one of) for this enterprise in this plan."""
    if plan_domains and target.domains & plan_domains:
        return target.domains & plan_domains
    if plan_domains:
        return plan_domains
    return target.domains


def assign(
    targets: Sequence[Target],
    register: Sequence[Inspector],
    *,
    seed: str,
    per: int = 2,
    region_digits: int = 6,
    wider_digits: int | None = None,
    plan_domains: frozenset[str] = frozenset(),
    recused: Mapping[str, frozenset[str]] | None = None,
    workload: Mapping[str, int] | None = None,
) -> Assignment:
    """Assign ``per`` inspectors to every drawn enterprise.

    Parameters
    ----------
    targets
        The drawn enterprises.
    register
        The inspector register (inactive ones are skipped).
    seed
        The plan's seed (the same that drew the enterprises).
    per
        Inspectors per enterprise (at least 2 by the rules).
    region_digits
        Leading digits of the region code an inspector must share with the enterprise.
    wider_digits
        When the region has too few candidates, also consider inspectors sharing this
        many digits (4: the whole city), after the local ones.
    plan_domains
        The plan's supervision domains (empty: none).
    recused
        Inspector ids recused per uscc: the last inspectors and listed conflicts.
    workload
        Tasks each inspector already carries (counted into the balance).

    Returns
    -------
    Assignment
        Same inputs and seed → same assignment; verify by recomputing.
    """
    key = seed_digest(seed)
    recused = recused or {}
    load: dict[str, int] = {i.inspector_id: 0 for i in register if i.active}
    for inspector_id, n in (workload or {}).items():
        if inspector_id in load:
            load[inspector_id] = n
    by_region: dict[str, list[Inspector]] = {}
    by_wider: dict[str, list[Inspector]] = {}
    for ins in register:
        if ins.active:
            by_region.setdefault(ins.region_code[:region_digits], []).append(ins)
            if wider_digits:
                by_wider.setdefault(ins.region_code[:wider_digits], []).append(ins)
    out: dict[str, list[str]] = {}
    short: dict[str, str] = {}
    for target in sorted(targets, key=lambda t: _tie(key, f"order|{t.uscc}")):
        need = required_domains(target, plan_domains)
        barred = recused.get(target.uscc, frozenset())
        local = by_region.get(target.region_code[:region_digits], [])
        candidates = _ranked(local, need, barred, load, key, target.uscc)
        if len(candidates) < per and wider_digits:
            wider = by_wider.get(target.region_code[:wider_digits], [])
            local_ids = {i.inspector_id for i in local}
            others = [i for i in wider if i.inspector_id not in local_ids]
            candidates += _ranked(others, need, barred, load, key, target.uscc)
        chosen = [i.inspector_id for i in candidates[:per]]
        for inspector_id in chosen:
            load[inspector_id] += 1
        out[target.uscc] = chosen
        if len(chosen) < per:
            short[target.uscc] = (
                f"{len(chosen)} of {per} inspectors: {len(local)} on duty in region "
                f"{target.region_code[:region_digits]}, {len(candidates)} qualified (region "
                f"and wider) "
                f"for {'/'.join(sorted(need)) or 'any domain'} and not recused"
            )
    return Assignment(out, short, {k: v for k, v in load.items() if v})


def _ranked(
    pool: Sequence[Inspector],
    need: frozenset[str],
    barred: frozenset[str],
    load: Mapping[str, int],
    key: bytes,
    uscc: str,
) -> list[Inspector]:
    """Qualified, not recused inspectors of ``pool``: least loaded first, ties at random."""
    fit = [i for i in pool if (not need or i.domains & need) and i.inspector_id not in barred]
    fit.sort(key=lambda i: (load[i.inspector_id], _tie(key, f"assign|{uscc}|{i.inspector_id}")))
    return fit


def targets_from(table: pa.Table) -> list[Target]:
    """Targets from a drawn list with ``uscc``, ``region_code`` and optional ``domains``."""
    usccs = table["uscc"].to_pylist()
    regions = table["region_code"].to_pylist()
    domains = (
        table["domains"].to_pylist() if "domains" in table.column_names else [None] * len(usccs)
    )
    return [
        Target(u, r or "", frozenset(d or ()))
        for u, r, d in zip(usccs, regions, domains, strict=True)
    ]


def register_from(table: pa.Table) -> list[Inspector]:
    """Inspectors from a register table (inspector_id, region_code, domains, active)."""
    rows = table.to_pylist()
    return [
        Inspector(
            inspector_id=str(r["inspector_id"]),
            region_code=str(r.get("region_code") or ""),
            domains=frozenset(r.get("domains") or ()),
            active=bool(r.get("active")),
            department=str(r.get("department") or ""),
        )
        for r in rows
    ]
