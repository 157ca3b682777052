"""Scoring end to end on a small synthetic city through the real CLI: run on a fresh home
(indicators → train → score → classes), registry, export, evaluation, Spark agreement."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from riskwatch.cli import app
from riskwatch.scoring import registry
from riskwatch.settings import Settings

# ibis 12 still calls DuckDB 2.0's deprecated Arrow fetchers and pandas 3's deprecated
# future.infer_string option; PySpark's own deprecations are not ours to fix either.
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:fetch_\w+\(\) is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings(r"ignore:The 'future.infer_string' option is deprecated"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark"),
    pytest.mark.filterwarnings("ignore::FutureWarning:pyspark"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]
runner = CliRunner()
ROOT = Path(__file__).parents[2]


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 3000-enterprise city, ingested, then ``riskwatch run`` on a fresh home."""
    root = tmp_path_factory.mktemp("scoring")
    text = (ROOT / "config" / "models.yaml").read_text(encoding="utf-8")
    text = text.replace("history_months: 24", "history_months: 8")
    text = text.replace("validation_months: 6", "validation_months: 2")
    (root / "models.yaml").write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RISKWATCH_HOME", str(root / "home"))
        from riskwatch.settings import get_settings

        get_settings.cache_clear()
        invoke("synth", "--enterprises", "3000", "--as-of", "2025-06-30", "--seed", "44",
               "--out", str(root / "city"))  # fmt: skip
        invoke("ingest", str(root / "city"))
        invoke("run", "--as-of", "2025-06-30", "--models-config", str(root / "models.yaml"))
        yield root
        get_settings.cache_clear()


@pytest.mark.slow
def test_run_stores_classes_with_reasons(city: Path) -> None:
    from riskwatch.store.classes import class_history, load_classes

    settings = Settings(home=city / "home")
    t = load_classes(settings, "2025-06")
    assert t.num_rows > 2000
    rows = t.to_pylist()
    assert {r["class"] for r in rows} <= {"A", "B", "C", "D"}
    assert all(0 <= r["score"] <= 1000 for r in rows)
    champion = registry.champion(city / "home", "2025-06")
    assert champion is not None and {r["model_version"] for r in rows} == {champion}
    with_reasons = [r for r in rows if r["reasons"]]
    assert with_reasons and all(len(r["reasons"]) <= 5 + 2 for r in rows)
    first = with_reasons[0]["reasons"][0]
    assert first["text_zh"] and first["text_en"] and first["code"]
    overridden = [r for r in rows if r["overrides"]]
    assert all(r["class"] == "D" for r in overridden)
    assert all(r["reasons"][0]["code"].startswith("override:") for r in overridden)
    history = class_history(settings, rows[0]["uscc"])
    assert [h["month"] for h in history] == ["2025-06"]


@pytest.mark.slow
def test_registry_reload_scores_identically_and_promote(city: Path) -> None:
    home = city / "home"
    out = json.loads(invoke("models", "list", "--json"))
    families = {m["family"] for m in out["models"]}
    assert families == {"lightgbm", "woe_scorecard", "bayes_loss", "expert"}
    expert = next(m["version"] for m in out["models"] if m["family"] == "expert")
    invoke("models", "promote", expert, "--month", "2025-07")
    assert registry.champion(home, "2025-08") == expert
    assert registry.champion(home, "2025-06") != expert
    bad = runner.invoke(app, ["models", "promote", "nope", "--month", "2025-07"])
    assert bad.exit_code == 2 and "nope" in bad.output


@pytest.mark.slow
def test_export_csv_and_xlsx(city: Path) -> None:
    invoke("export", "classes", "--as-of", "2025-06-30", "--out", str(city / "c.csv"))
    with (city / "c.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and rows[0]["风险分类"] in "ABCD" and rows[0]["企业名称"]
    invoke("export", "classes", "--as-of", "2025-06-30", "--out", str(city / "c.xlsx"))
    assert (city / "c.xlsx").stat().st_size > 1000


@pytest.mark.slow
def test_evaluate_on_truth_writes_html_and_json(city: Path) -> None:
    out = invoke("evaluate", "--as-of", "2025-06-30", "--truth", str(city / "city" / "truth"))
    assert "oracle AUC" in out
    report = json.loads((city / "home" / "evaluation" / "2025-06" / "report.json").read_text())
    assert set(report["families"]) == {"lightgbm", "woe_scorecard", "bayes_loss", "expert"}
    for f in report["families"].values():
        assert 0.5 < f["auc"] <= 1
    html = (city / "home" / "evaluation" / "2025-06" / "report.html").read_text()
    assert "data:image/png;base64" in html and "问题发现率" in html


@pytest.mark.slow
@pytest.mark.spark
def test_spark_batch_inference_agrees_with_duckdb(city: Path) -> None:
    from riskwatch.store.classes import read_classes_raw

    home = city / "home"
    spark_home = city / "spark-home"
    shutil.copytree(home, spark_home, ignore=shutil.ignore_patterns("classes", "evaluation"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RISKWATCH_HOME", str(spark_home))
        from riskwatch.settings import get_settings

        get_settings.cache_clear()
        invoke("run", "--as-of", "2025-06-30", "--engine", "spark")
        get_settings.cache_clear()
    a = read_classes_raw(home, "2025-06").sort_by("uscc")
    b = read_classes_raw(spark_home, "2025-06").sort_by("uscc")
    assert a.num_rows == b.num_rows
    for col in ("uscc", "class", "score", "reasons", "overrides", "model_version"):
        assert a.column(col).to_pylist() == b.column(col).to_pylist(), col
    assert np.allclose(a.column("probability").to_numpy(), b.column("probability").to_numpy())
