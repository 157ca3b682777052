from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskwatch.errors import ConfigError
from riskwatch.indicators import load_catalogue
from riskwatch.scoring import load_models_config, registry
from riskwatch.scoring.ahp import ahp_weights, entropy_weights
from riskwatch.scoring.base import feature_names
from riskwatch.scoring.explain import reasons_json
from riskwatch.scoring.train import build

CAT = load_catalogue()
CFG = load_models_config()


def test_ahp_consistent_matrix() -> None:
    w, cr = ahp_weights([[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]])
    assert np.allclose(w, [4 / 7, 2 / 7, 1 / 7]) and cr < 1e-9


def test_ahp_inconsistent_matrix_rejected(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "config" / "models.yaml").read_text(encoding="utf-8")
    bad = text.replace("- [1,   1/2, 1/5, 1/2, 1/2]", "- [1,   9, 1/9, 9, 1/9]")
    path = tmp_path / "models.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_models_config(path)


def test_entropy_weights_favour_varying_columns() -> None:
    r = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    w = entropy_weights(r)
    assert w.sum() == pytest.approx(1) and w[0] == pytest.approx(0)


def _toy(n: int = 600, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    names = feature_names(CAT)
    data = {k: rng.poisson(0.3, n).astype(float) for k in names}
    data["region_code"] = rng.choice(["410105", "410122"], n)
    data["industry_code"] = rng.choice(["F5211", "C1431"], n)
    X = pd.DataFrame(data)
    logit = -1.5 + 1.2 * X["penalties_1y"] + 1.0 * X["abnormal_now"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y.to_numpy()


@pytest.mark.parametrize("family", ["lightgbm", "woe_scorecard", "bayes_loss", "expert"])
def test_family_contract_and_reload(family: str, tmp_path: Path) -> None:
    X, y = _toy()
    model = build(family, CFG, CAT)  # type: ignore[arg-type]
    model.fit(X, y, np.ones(len(y)))
    p = model.predict_proba(X)
    assert p.shape == (len(X), 2) and np.allclose(p.sum(axis=1), 1)
    s = model.risk_score(X)
    assert s.dtype == np.int64 and s.min() >= 0 and s.max() <= 1000
    meta = registry.ModelMeta(family, family, "h", "c", "2025-06-30", "a", "b", "c", len(y))
    registry.save(tmp_path, model, meta)
    again = registry.load(tmp_path, family)
    assert np.array_equal(again.risk_score(X), s)
    assert np.array_equal(again.contributions(X), model.contributions(X))


def test_reasons_are_json_with_catalogue_text() -> None:
    X, _ = _toy(50)
    X.loc[0, "penalties_1y"] = 3
    names = ["penalties_1y", "abnormal_now", "region_code"]
    contrib = np.zeros((len(X), 3))
    contrib[0] = [0.9, -0.1, 0.2]
    out = reasons_json(X, names, contrib, CAT)
    first = json.loads(out[0].as_py())
    assert first[0]["code"] == "penalties_1y" and first[0]["text_zh"] == "近一年行政处罚3次"
    assert first[1]["code"] == "region_code" and len(first) == 2
    assert json.loads(out[1].as_py()) == []


def test_woe_lookup_matches_optbinning_exactly() -> None:
    """The scorecard's fast WOE lookup gives optbinning's own transform, value for value,
    including missing values, split points themselves and unseen categories."""
    import warnings

    X, y = _toy(n=1500, seed=4)
    X["registered_capital"] = np.random.default_rng(4).lognormal(3, 1.5, len(X))
    model = build("woe_scorecard", CFG, CAT)  # type: ignore[arg-type]
    model.fit(X, y, np.ones(len(y)))
    probe = _toy(n=400, seed=9)[0]
    probe["registered_capital"] = np.random.default_rng(9).lognormal(3, 1.5, len(probe))
    probe.loc[::5, "penalties_1y"] = np.nan
    probe.loc[1::5, "registered_capital"] = np.nan
    splits = model.binning_.get_binned_variable("penalties_1y").splits
    if len(splits):
        probe.loc[2::5, "penalties_1y"] = splits[0]
    probe.loc[3, "region_code"] = "410999"  # a district the training never saw
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = np.asarray(
            model.binning_.transform(probe[model.feature_names_in_], metric="woe"), float
        )
    assert np.array_equal(model._woe(probe), ref)


def test_batches_scored_on_threads_equal_one_by_one() -> None:
    """Parallel scoring (one model copy per thread) returns the same rows in input order."""
    from riskwatch.classify import cutoffs, load_policy
    from riskwatch.scoring.pipeline import score_batches

    X, y = _toy(n=900, seed=6)
    model = build("lightgbm", CFG, CAT)  # type: ignore[arg-type]
    model.fit(X, y, np.ones(len(y)))
    rows = X.assign(
        uscc=[f"U{i:017d}" for i in range(len(X))],
        month="2025-06",
        as_of=pd.Timestamp("2025-06-30"),
    )
    policy = load_policy()
    batches = [rows.iloc[i : i + 200].reset_index(drop=True) for i in range(0, len(rows), 200)]
    args = (model, "v", CAT, policy, cutoffs(policy), "r")
    one = list(score_batches(iter(batches), *args, workers=1))
    threaded = list(score_batches(iter(batches), *args, workers=3))
    assert len(threaded) == len(batches)
    assert all(a.equals(b) for a, b in zip(one, threaded, strict=True))
    assert threaded[-1].column("uscc")[0].as_py() == "U00000000000000800"


def test_an_indicator_missing_in_all_history_is_left_out_of_the_woe_scorecard() -> None:
    """The class C/D shares are missing until classes were published: optbinning cannot bin
    an all-missing column, so the scorecard leaves it out, and the LightGBM model explained
    by it gets no contribution (never a reason) for that column."""
    X, y = _toy(n=800, seed=5)
    X["legal_rep_cd_share"] = np.nan
    woe = build("woe_scorecard", CFG, CAT)  # type: ignore[arg-type]
    woe.fit(X, y, np.ones(len(y)))
    assert woe.unused_features_ == ["legal_rep_cd_share"]
    assert "legal_rep_cd_share" not in woe.feature_names_in_
    gbm = build("lightgbm", CFG, CAT)  # type: ignore[arg-type]
    gbm.fit(X, y, np.ones(len(y)))
    gbm.explainer_ = woe
    contrib = gbm.contributions(X)
    assert contrib.shape == (len(X), len(gbm.feature_names_in_))
    j = gbm.feature_names_in_.index("legal_rep_cd_share")
    assert np.isnan(contrib[:, j]).all()
    k = gbm.feature_names_in_.index("penalties_1y")
    assert np.array_equal(
        contrib[:, k], woe.contributions(X)[:, woe.feature_names_in_.index("penalties_1y")]
    )
    X.loc[0, "legal_rep_cd_share"] = 1.0  # published later: still scored, never a reason
    assert np.isfinite(gbm.probability(X)).all() and np.isfinite(woe.probability(X)).all()
