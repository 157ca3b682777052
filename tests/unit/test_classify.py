from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskwatch.classify import (
    ClassPolicy,
    apply_hysteresis,
    class_index,
    classify,
    cutoffs,
    load_policy,
)
from riskwatch.errors import ConfigError

POLICY = load_policy()


def test_henan_bands_ties_go_up() -> None:
    scores = np.array([0, 199, 200, 499, 500, 749, 750, 1000])
    labels, fired = classify(scores, {}, POLICY)
    assert labels.tolist() == ["A", "A", "B", "B", "C", "C", "D", "D"]
    assert all(len(f) == 0 for f in fired)


def test_overrides_raise_and_are_named() -> None:
    scores = np.array([10, 10, 900])
    values = {
        "serious_violation_now": np.array([1.0, 0.0, 0.0]),
        "dishonest_debtor_now": np.array([0.0, np.nan, 1.0]),
    }
    labels, fired = classify(scores, values, POLICY)
    assert labels.tolist() == ["D", "A", "D"]
    assert list(fired[0]) == ["serious_violation"] and list(fired[2]) == ["dishonest_debtor"]
    assert len(fired[1]) == 0


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=200))
def test_class_is_monotone_in_score(scores: list[int]) -> None:
    s = np.sort(np.array(scores))
    idx = class_index(s, cutoffs(POLICY))
    assert (np.diff(idx) >= 0).all()


@given(st.lists(st.integers(0, 1000), min_size=4, max_size=300))
def test_share_cutoffs_are_ordered(scores: list[int]) -> None:
    policy = POLICY.model_copy(update={"policy": "shares"})
    b, c, d = cutoffs(policy, np.array(scores))
    assert b <= c <= d


def test_hysteresis_keeps_class_near_boundary() -> None:
    cuts = (200, 500, 750)
    idx = class_index(np.array([205, 260, 195]), cuts)
    prev = np.array([0, 0, 1])
    kept = apply_hysteresis(idx, np.array([205, 260, 195]), prev, cuts, margin=20)
    assert kept.tolist() == [0, 1, 1]


def test_bad_bands_rejected() -> None:
    with pytest.raises(ValueError):
        ClassPolicy(config_version="1", bands={"B": 600, "C": 500, "D": 750})


def test_missing_policy_file(tmp_path: object) -> None:
    from pathlib import Path

    with pytest.raises(ConfigError):
        load_policy(Path(str(tmp_path)) / "nope.yaml")
