"""At N = 20 000 the synthetic city shows the Henan discovery ladder and carries real signal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict

from riskwatch.synth.city import SynthConfig, generate

AS_OF = dt.date(2025, 6, 30)
SHARES = (0.486, 0.415, 0.064, 0.035)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("signal") / "city"
    generate(SynthConfig(20_000, AS_OF, 11, out, format="parquet"))
    return out


def classes(z: np.ndarray, live_z: np.ndarray) -> np.ndarray:
    cuts = np.quantile(live_z, np.cumsum(SHARES)[:-1])
    return np.searchsorted(cuts, z)


def test_discovery_ladder_on_future_inspections(city: Path) -> None:
    latent = pq.read_table(city / "truth" / "latent_risk.parquet").filter(pc.field("live"))
    future = pq.read_table(city / "truth" / "future_inspections.parquet")
    z_of = dict(zip(latent["uscc"].to_pylist(), latent["latent_z"].to_pylist(), strict=True))
    z = np.array([z_of[u] for u in future["uscc"].to_pylist()])
    cls = classes(z, np.asarray(latent["latent_z"]))
    p = np.asarray(future["p_problem"])
    found = np.asarray(future["problem"])
    expected = [p[cls == k].mean() for k in range(4)]
    assert 0.03 <= expected[0] <= 0.08
    assert 0.30 <= expected[1] <= 0.40
    assert 0.52 <= expected[2] <= 0.68
    assert 0.80 <= expected[3] <= 0.92
    observed = [found[cls == k].mean() for k in range(4)]
    assert observed[0] < 0.12 < 0.25 < observed[1] < 0.47
    assert observed[2] > 0.40 and observed[3] > 0.65


def _counts(
    city: Path, table: str, ids: pa.Array, where: pc.Expression | None = None
) -> np.ndarray:
    t = pq.read_table(city / f"{table}.parquet", columns=None)
    if where is not None:
        t = t.filter(where)
    g = t.group_by("uscc").aggregate([("uscc", "count")])
    lookup = dict(zip(g["uscc"].to_pylist(), g["uscc_count"].to_pylist(), strict=True))
    return np.array([lookup.get(u, 0) for u in ids.to_pylist()], dtype=float)


def test_point_in_time_records_nearly_recover_the_oracle(city: Path) -> None:
    """A model on simple record counts ranks future problems almost as well as the truth."""
    latent = pq.read_table(city / "truth" / "latent_risk.parquet").filter(pc.field("live"))
    ids = latent["uscc"]
    year_ago = pa.scalar(AS_OF - dt.timedelta(days=365))
    recent = pc.field("decided_on") >= year_ago
    ents = pq.read_table(city / "enterprises.parquet")
    update = pq.read_table(city / "enterprises-update.parquet")
    row = {u: i for i, u in enumerate(ents["uscc"].to_pylist())}
    final = {**row, **{u: ents.num_rows + i for i, u in enumerate(update["uscc"].to_pylist())}}
    ents = pa.concat_tables([ents, update])
    take = pa.array([final[u] for u in ids.to_pylist()])
    static = [
        np.log1p(np.asarray(ents["registered_capital"].take(take))),
        np.asarray(pc.years_between(ents["established_on"].take(take), pa.scalar(AS_OF))),
        *(
            np.asarray(pc.dictionary_encode(ents[c].take(take)).combine_chunks().indices)
            for c in ("entity_type", "industry_code", "region_code")
        ),
    ]
    features = np.column_stack(
        [
            *static,
            _counts(city, "penalties", ids),
            _counts(city, "penalties", ids, recent),
            _counts(city, "complaints", ids),
            _counts(city, "complaints", ids, pc.field("received_on") >= year_ago),
            _counts(city, "opinions", ids, pc.field("sentiment") == "负面"),
            _counts(city, "judicial", ids, pc.field("role") == "失信被执行人"),
            _counts(city, "judicial", ids),
            _counts(city, "abnormal_listings", ids, pc.field("removed_on").is_null()),
            _counts(city, "changes", ids, pc.field("changed_on") >= year_ago),
            _counts(city, "annual_reports", ids, pc.field("submitted_on").is_null()),
            _counts(
                city,
                "inspections",
                ids,
                pc.match_substring_regex(pc.field("result"), "^(发现|未按|公示|通过|不配合)"),
            ),
            _counts(city, "inspections", ids),
        ]
    )
    z = np.asarray(latent["latent_z"])
    z_hat = cross_val_predict(HistGradientBoostingRegressor(max_iter=150), features, z, cv=4)
    future = pq.read_table(city / "truth" / "future_inspections.parquet")
    row_of = {u: i for i, u in enumerate(ids.to_pylist())}
    idx = np.array([row_of[u] for u in future["uscc"].to_pylist()])
    y = np.asarray(future["problem"])
    oracle = roc_auc_score(y, np.asarray(future["p_problem"]))
    learned = roc_auc_score(y, z_hat[idx])
    assert oracle > 0.75
    assert learned > oracle - 0.05
    assert learned < oracle + 0.02  # the records carry noise too
