"""Checking a stored plan against its recomputation (``riskwatch sample verify``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from riskwatch.sampling.assign import Assignment
from riskwatch.sampling.draw import Draw


class Check(BaseModel):
    """One verification step."""

    name: str
    ok: bool
    detail: str


class Verification(BaseModel):
    """Whether a stored draw (and a list file) is what the seed and population give."""

    plan_id: str
    ok: bool
    checks: list[Check]


def compare_lists(
    name: str, expected: Mapping[str, tuple[str, float]], got: Mapping[str, tuple[Any, float]]
) -> Check:
    """Compare (class, inclusion probability) per uscc: missing, added and changed rows."""
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    changed = sorted(
        u
        for u in set(expected) & set(got)
        if got[u][0] != expected[u][0] or not abs(float(got[u][1]) - expected[u][1]) < 1e-12
    )
    detail = (
        f"{len(expected)} drawn; {len(missing)} missing, {len(extra)} added, {len(changed)} changed"
    )
    for label, items in (("missing", missing), ("added", extra), ("changed", changed)):
        if items:
            detail += f"; first {label}: {items[0]}"
    return Check(name=name, ok=not (missing or extra or changed), detail=detail)


def _probability(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def check_plan(
    plan: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    redrawn: Draw,
    reassigned: Assignment | None,
    *,
    register_intact: bool = True,
    file_rows: Sequence[Mapping[str, Any]] | None = None,
    file_name: str = "",
) -> Verification:
    """Compare a stored plan (and optionally a list file) with the recomputed draw.

    Parameters
    ----------
    plan
        The stored plan (``population_sha256``, ``list_sha256``, ``assignment_sha256``).
    rows
        Its stored drawn rows (``uscc``, ``risk_class``, ``inclusion_probability``,
        ``inspectors``).
    redrawn
        The draw recomputed from the frozen population and the recorded seed.
    reassigned
        The assignment recomputed from its frozen inputs, if the plan has one.
    register_intact
        Whether the frozen inspector register still has its recorded digest.
    file_rows
        Rows of a list file to check as well.
    file_name
        The file's name, for the messages.
    """
    checks = [
        Check(
            name="population",
            ok=redrawn.population_sha256 == plan["population_sha256"],
            detail=f"snapshot SHA-256 {redrawn.population_sha256[:16]}… "
            f"(recorded {plan['population_sha256'][:16]}…)",
        )
    ]
    expected = {
        r["uscc"]: (r["class"], r["inclusion_probability"]) for r in redrawn.selected.to_pylist()
    }
    stored = {r["uscc"]: (r["risk_class"], r["inclusion_probability"]) for r in rows}
    checks.append(compare_lists("draw (stored list)", expected, stored))
    checks.append(
        Check(
            name="list digest",
            ok=redrawn.list_sha256 == plan["list_sha256"],
            detail=f"recomputed {redrawn.list_sha256[:16]}… (recorded {plan['list_sha256'][:16]}…)",
        )
    )
    if reassigned is not None:
        stored_ins = {r["uscc"]: list(r["inspectors"] or []) for r in rows}
        same = reassigned.sha256 == plan["assignment_sha256"]
        checks.append(
            Check(
                name="assignment",
                ok=register_intact and same and stored_ins == reassigned.inspectors,
                detail=("register snapshot intact" if register_intact else "register altered")
                + ("; recomputed digest matches" if same else "; recomputed digest differs")
                + ("" if stored_ins == reassigned.inspectors else "; stored inspectors edited"),
            )
        )
    if file_rows is not None:
        got = {
            str(r["uscc"]): (r.get("class"), _probability(r.get("inclusion_probability")))
            for r in file_rows
        }
        checks.append(compare_lists(f"file {file_name}", expected, got))
        if reassigned is not None:
            bad = [
                r["uscc"]
                for r in file_rows
                if [i for i in (r.get("inspectors") or "").split(";") if i]
                != reassigned.inspectors.get(r["uscc"])
            ]
            checks.append(
                Check(
                    name=f"file {file_name} inspectors",
                    ok=not bad,
                    detail=f"{len(bad)} row(s) differ" + (f", e.g. {bad[0]}" if bad else ""),
                )
            )
    return Verification(plan_id=str(plan["id"]), ok=all(c.ok for c in checks), checks=checks)
