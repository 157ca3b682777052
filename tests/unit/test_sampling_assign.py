"""Properties of inspector assignment: recusal never violated, qualified and local
inspectors only, at least two where possible, balanced workload, reproducible."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from riskwatch.sampling import Inspector, Target, assign, assignment_digest

DOMAINS = ("食品", "药品", "特种设备", "其他")
REGIONS = ("410102", "410103", "410104")


@st.composite
def scenes(draw: st.DrawFn) -> tuple[list[Target], list[Inspector], dict[str, frozenset[str]]]:
    n_ins = draw(st.integers(2, 25))
    register = [
        Inspector(
            inspector_id=f"I{i:03d}",
            region_code=draw(st.sampled_from(REGIONS)),
            domains=frozenset(draw(st.sets(st.sampled_from(DOMAINS), min_size=1, max_size=2))),
            active=draw(st.booleans().map(lambda b: b or draw(st.booleans()))),
        )
        for i in range(n_ins)
    ]
    n_t = draw(st.integers(1, 40))
    targets = [
        Target(
            uscc=f"91{draw(st.sampled_from(REGIONS))}MA{i:08d}",
            region_code="",
            domains=frozenset(draw(st.sets(st.sampled_from(DOMAINS), max_size=1))),
        )
        for i in range(n_t)
    ]
    targets = [Target(t.uscc, t.uscc[2:8], t.domains) for t in targets]
    ids = [i.inspector_id for i in register]
    recused = {t.uscc: frozenset(draw(st.sets(st.sampled_from(ids), max_size=3))) for t in targets}
    return targets, register, recused


@given(scene=scenes(), seed=st.text(min_size=1, max_size=10), wider=st.sampled_from([None, 4]))
def test_recusal_qualification_and_region_are_never_violated(
    scene: tuple[list[Target], list[Inspector], dict[str, frozenset[str]]],
    seed: str,
    wider: int | None,
) -> None:
    targets, register, recused = scene
    by_id = {i.inspector_id: i for i in register}
    result = assign(targets, register, seed=seed, recused=recused, wider_digits=wider)
    again = assign(
        list(reversed(targets)), register, seed=seed, recused=recused, wider_digits=wider
    )
    assert result.inspectors == again.inspectors  # input order does not matter
    for t in targets:
        chosen = result.inspectors[t.uscc]
        assert len(chosen) == len(set(chosen)) <= 2
        assert not set(chosen) & recused[t.uscc]
        for i in chosen:
            ins = by_id[i]
            assert ins.active
            assert ins.region_code[: wider or 6] == t.region_code[: wider or 6]
            assert not t.domains or ins.domains & t.domains
        if len(chosen) < 2:
            assert t.uscc in result.shortfalls
    assert result.sha256 == assignment_digest(again.inspectors)


def test_at_least_two_and_balanced_when_everyone_qualifies() -> None:
    register = [Inspector(f"I{i}", "410102", frozenset({"食品"})) for i in range(7)]
    targets = [Target(f"9141010200000000{i:02d}", "410102") for i in range(35)]
    result = assign(targets, register, seed="s", per=2)
    assert all(len(v) == 2 for v in result.inspectors.values())
    loads = Counter(i for v in result.inspectors.values() for i in v)
    assert max(loads.values()) - min(loads.values()) <= 1
    assert result.shortfalls == {}
    other = assign(targets, register, seed="t", per=2)
    assert other.inspectors != result.inspectors  # the seed matters


def test_last_inspector_is_recused_and_shortfall_is_reported() -> None:
    register = [
        Inspector("I1", "410102", frozenset({"食品"})),
        Inspector("I2", "410102", frozenset({"食品"})),
        Inspector("I3", "410102", frozenset({"药品"})),
        Inspector("I4", "410103", frozenset({"食品"})),
        Inspector("I5", "410102", frozenset({"食品"}), active=False),
    ]
    t = Target("914101020000000001", "410102", frozenset({"食品"}))
    result = assign([t], register, seed="s", recused={t.uscc: frozenset({"I1"})})
    assert result.inspectors[t.uscc] == ["I2"]
    assert "1 of 2" in result.shortfalls[t.uscc]
    wider = assign([t], register, seed="s", recused={t.uscc: frozenset({"I1"})}, wider_digits=4)
    assert wider.inspectors[t.uscc] == ["I2", "I4"]  # local first, then the city
    plan = assign([t], register, seed="s", plan_domains=frozenset({"药品"}))
    assert plan.inspectors[t.uscc] == ["I3"]
