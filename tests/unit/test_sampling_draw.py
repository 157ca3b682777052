"""Properties of the stratified draw: counts, A never exempt, reproducibility, order
independence, verifiability by an independent re-implementation, uniformity."""

from __future__ import annotations

import hashlib
import random
from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chisquare

from riskwatch.errors import InputError
from riskwatch.sampling import draw, list_digest, make_plan, parse_allocation, stratum_counts
from riskwatch.sampling.draw import canonical, population_digest, seed_digest
from riskwatch.sampling.policy import round_half_up

CLASSES = "ABCD"


def frame(sizes: dict[str, int], width: int = 18) -> pa.Table:
    usccs, classes = [], []
    i = 0
    for cls, n in sizes.items():
        for _ in range(n):
            usccs.append(f"91410105MA{i:08d}" if width == 18 else f"U{i:0{width - 1}d}")
            classes.append(cls)
            i += 1
    return pa.table({"uscc": usccs, "class": classes})


sizes_st = st.fixed_dictionaries({c: st.integers(0, 400) for c in CLASSES})
ratios_st = st.fixed_dictionaries(
    {
        "A": st.sampled_from([0.005, 0.01, 0.02, 0.05]),
        "B": st.sampled_from([0.0, 0.03, 0.05, 0.125]),
        "C": st.sampled_from([0.1, 0.15, 0.5]),
        "D": st.sampled_from([0.3, 0.5, 1.0]),
    }
)


@given(sizes=sizes_st, ratios=ratios_st, seed=st.text(min_size=1, max_size=20))
def test_per_class_counts_are_the_rounded_ratios_and_a_is_never_empty(
    sizes: dict[str, int], ratios: dict[str, float], seed: str
) -> None:
    result = draw(frame(sizes), seed=seed, ratios=ratios)
    got = Counter(result.selected["class"].to_pylist())
    for cls in CLASSES:
        expected = min(round_half_up(ratios[cls], sizes[cls]), sizes[cls])
        if cls == "A" and sizes["A"] > 0:
            expected = max(expected, 1)
            assert got[cls] >= 1
        assert got[cls] == expected
        if sizes[cls]:
            probs = {
                p
                for p, c in zip(
                    result.selected["inclusion_probability"].to_pylist(),
                    result.selected["class"].to_pylist(),
                    strict=True,
                )
                if c == cls
            }
            assert probs <= {got[cls] / sizes[cls]}
    assert len(set(result.selected["uscc"].to_pylist())) == result.selected.num_rows


def test_half_rounds_up_exactly() -> None:
    assert round_half_up(0.01, 250) == 3  # 2.5 → 3 although 0.01 is not exact in binary
    assert round_half_up(0.03, 50) == 2  # 1.5 → 2
    assert round_half_up(0.1, 4) == 0
    assert stratum_counts({"A": 10, "B": 0}, ratios={"A": 0.01}) == {"A": 1, "B": 0}
    assert stratum_counts({"A": 3, "D": 5}, counts={"A": 0, "D": 9}) == {"A": 1, "D": 5}


@given(sizes=sizes_st, seed=st.text(min_size=1, max_size=20), shuffle=st.randoms())
def test_same_seed_and_population_give_the_same_list_whatever_the_row_order(
    sizes: dict[str, int], seed: str, shuffle: random.Random
) -> None:
    f = frame(sizes)
    order = list(range(f.num_rows))
    shuffle.shuffle(order)
    a = draw(f, seed=seed)
    b = draw(f.take(pa.array(order, pa.int64())), seed=seed)
    assert a.selected["uscc"].to_pylist() == b.selected["uscc"].to_pylist()
    assert a.population_sha256 == b.population_sha256
    assert a.list_sha256 == b.list_sha256


def test_another_seed_gives_another_list_and_any_edit_changes_the_digest() -> None:
    f = frame({"A": 500, "B": 500, "C": 200, "D": 100})
    a, b = draw(f, seed="2025-07-01"), draw(f, seed="2025-07-02")
    assert a.selected["uscc"].to_pylist() != b.selected["uscc"].to_pylist()
    usccs, classes = a.selected["uscc"].to_pylist(), a.selected["class"].to_pylist()
    assert list_digest(usccs, classes) == a.list_sha256
    edited = [*usccs[:-1], "91410105MA99999999"]
    assert list_digest(edited, classes) != a.list_sha256
    assert list_digest(usccs, ["D", *classes[1:]]) != a.list_sha256


def independent_draw(rows: list[tuple[str, str]], seed: str, k: dict[str, int]) -> list[str]:
    """The documented algorithm, re-implemented from docs/sampling.md with hashlib alone."""
    s = hashlib.sha256(f"riskwatch-draw-v1|{seed}".encode()).digest()
    out = []
    for cls in "ABCD":
        stratum = sorted(u for u, c in rows if c == cls)
        pos = list(range(len(stratum)))
        for j in range(k.get(cls, 0)):
            m = len(stratum) - j
            attempt = 0
            while True:
                x = int.from_bytes(
                    hashlib.sha256(s + f"{cls}|{j}|{attempt}".encode()).digest()[:8], "big"
                )
                if x < 2**64 - 2**64 % m:
                    break
                attempt += 1
            r = x % m
            pos[j], pos[j + r] = pos[j + r], pos[j]
            out.append(stratum[pos[j]])
    return out


@pytest.mark.parametrize("width", [18, 12])
def test_a_third_party_recomputes_the_draw_and_the_population_digest(width: int) -> None:
    f = frame({"A": 300, "B": 200, "C": 50, "D": 20}, width=width)
    result = draw(f, seed="上证指数 3444.43", ratios={"A": 0.01, "B": 0.03, "C": 0.1, "D": 0.3})
    rows = list(zip(f["uscc"].to_pylist(), f["class"].to_pylist(), strict=True))
    k = {s.cls: s.drawn for s in result.strata}
    assert result.selected["uscc"].to_pylist() == independent_draw(rows, "上证指数 3444.43", k)
    text = "".join(f"{u},{c}\n" for u, c in sorted(rows, key=lambda r: (r[1], r[0])))
    assert population_digest(f) == hashlib.sha256(text.encode()).hexdigest()
    assert canonical(f)["uscc"].to_pylist() == [
        u for u, _ in sorted(rows, key=lambda r: (r[1], r[0]))
    ]


def test_uniform_within_a_stratum_over_many_seeds() -> None:
    # 30 enterprises, 3 drawn per seed, 2000 fixed seeds: each is drawn 200 times in
    # expectation. alpha = 0.001 on fixed seeds: deterministic, it cannot flake.
    f = frame({"B": 30})
    hits: Counter[str] = Counter()
    for i in range(2000):
        hits.update(draw(f, seed=f"seed-{i}", counts={"B": 3}).selected["uscc"].to_pylist())
    observed = [hits[u] for u in f["uscc"].to_pylist()]
    assert sum(observed) == 6000
    assert chisquare(observed).pvalue > 0.001
    first = Counter(
        draw(f, seed=f"first-{i}", counts={"B": 1}).selected["uscc"][0].as_py() for i in range(1500)
    )
    assert chisquare([first[u] for u in f["uscc"].to_pylist()]).pvalue > 0.001


def test_bad_frames_and_allocations_are_refused() -> None:
    with pytest.raises(InputError, match="twice"):
        draw(pa.table({"uscc": ["X1", "X1"], "class": ["A", "B"]}), seed="s")
    with pytest.raises(InputError, match="twice"):
        draw(pa.concat_tables([frame({"A": 2})] * 2), seed="s")
    with pytest.raises(InputError, match="class"):
        draw(pa.table({"uscc": ["X1"], "class": ["E"]}), seed="s")
    with pytest.raises(InputError, match="不免抽"):
        make_plan(name="p", as_of="2025-06-30", seed="s", ratios={"A": 0.0})
    with pytest.raises(InputError, match="not both"):
        make_plan(name="p", as_of="2025-06-30", seed="s", ratios={"A": 0.1}, counts={"A": 1})
    assert parse_allocation("A=1%,b=0.03", integer=False) == {"A": 0.01, "B": 0.03}
    with pytest.raises(InputError):
        parse_allocation("E=0.1", integer=False)
    assert len(seed_digest("x")) == 32


def test_scope_and_exclusion_of_the_population() -> None:
    from riskwatch.sampling import Scope
    from riskwatch.sampling.frame import apply_scope, exclude, with_classes

    register = pa.table(
        {
            "uscc": ["U1", "U2", "U3", "U4"],
            "region_code": ["410102", "410103", "410202", "410102"],
            "industry_code": ["F5212", "H6210", "F5211", "C1431"],
            "entity_type": ["有限责任公司", "个体工商户", "有限责任公司", "有限责任公司"],
            "domains": [["食品"], ["食品"], [], ["食品", "工业产品"]],
        }
    )
    classed = with_classes(register, pa.table({"uscc": ["U2", "U1", "U4"], "class": list("BAD")}))
    assert classed["class"].to_pylist() == ["A", "B", None, "D"]
    scope = Scope(regions=["4101"], industries=["F", "C14"], entity_types=["有限责任公司"])
    assert apply_scope(register, scope)["uscc"].to_pylist() == ["U1", "U4"]
    assert apply_scope(register, Scope(domains=["工业产品"]))["uscc"].to_pylist() == ["U4"]
    rest, dropped = exclude(register, {"U2", "U9"})
    assert rest["uscc"].to_pylist() == ["U1", "U3", "U4"] and dropped == 1
