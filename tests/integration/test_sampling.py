"""双随机、一公开 end to end on a small synthetic city, through the real CLI: plan, verify,
tamper detection, exclusion of this year's draws, recusal, results back in as inspections
records with their inclusion probability, publication deadlines, estimates."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from riskwatch.cli import app
from riskwatch.sampling import add_working_days

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 3000-enterprise city in a fresh RISKWATCH_HOME, with classes from its truth."""
    root = tmp_path_factory.mktemp("sampling")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RISKWATCH_HOME", str(root / "home"))
        mp.delenv("RISKWATCH_DATABASE_URL", raising=False)
        from riskwatch.settings import get_settings

        get_settings.cache_clear()
        invoke("synth", "--enterprises", "3000", "--as-of", "2025-06-30", "--seed", "61",
               "--out", str(root / "city"))  # fmt: skip
        invoke("ingest", str(root / "city"))
        truth = pq.read_table(root / "city" / "truth" / "latent_risk.parquet")
        p = truth["p_problem"].to_numpy()
        q = np.quantile(p, [0.45, 0.85, 0.95])
        cls = np.where(p < q[0], "A", np.where(p < q[1], "B", np.where(p < q[2], "C", "D")))
        pq.write_table(pa.table({"uscc": truth["uscc"], "class": cls}), root / "classes.parquet")
        yield root
        get_settings.cache_clear()
    from riskwatch.store import opdb

    opdb.dispose_engines()


def plan(root: Path, name: str, seed: str, out: str, *extra: str) -> str:
    output = invoke("sample", "plan", "--as-of", "2025-06-30", "--name", name, "--seed", seed,
                    "--classes", str(root / "classes.parquet"), "--out", str(root / out),
                    *extra)  # fmt: skip
    return output.split("plan ", 1)[1].split()[0]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_plan_verify_and_every_edit_is_detected(city: Path) -> None:
    plan_id = plan(city, "季度抽查", "2025-07-01 福彩3D 123", "q3.csv", "--item", "年报信息")
    rows = read_csv(city / "q3.csv")
    assert rows and set(rows[0]) >= {"uscc", "name", "class", "inclusion_probability", "inspectors"}
    assert all(len(r["inspectors"].split(";")) == 2 for r in rows)
    by_class = {r["class"]: float(r["inclusion_probability"]) for r in rows}
    assert by_class["D"] == pytest.approx(0.3, abs=0.01) and by_class["A"] > 0
    assert "verified" in invoke("sample", "verify", str(city / "q3.csv"))
    assert "verified" in invoke("sample", "verify", plan_id)
    invoke("sample", "export", plan_id, "--out", str(city / "q3.xlsx"))
    assert "verified" in invoke("sample", "verify", str(city / "q3.xlsx"))

    def tampered(edit: str) -> str:
        edited = [dict(r) for r in rows]
        if edit == "swap":
            edited[0]["uscc"] = "91410100MA00000000"
        elif edit == "probability":
            edited[1]["inclusion_probability"] = "0.5"
        else:
            edited[2]["inspectors"] = "X1;X2"
        path = city / f"q3-{edit}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(edited)
        result = runner.invoke(app, ["sample", "verify", str(path)])
        assert result.exit_code == 1, result.output
        return result.output

    assert "1 missing, 1 added" in tampered("swap")
    assert "1 changed" in tampered("probability")
    assert "1 row(s) differ" in tampered("inspectors")

    snapshot = city / "home" / "sampling" / plan_id / "population.parquet"
    pop = pq.read_table(snapshot)
    pq.write_table(pop.slice(1), snapshot)
    result = runner.invoke(app, ["sample", "verify", plan_id])
    assert result.exit_code == 1 and "MISMATCH population" in result.output
    pq.write_table(pop, snapshot)
    assert "verified" in invoke("sample", "verify", plan_id)


@pytest.mark.slow
def test_second_plan_skips_this_years_draws_and_honours_recusals(city: Path) -> None:
    first = read_csv(city / "q3.csv") if (city / "q3.csv").exists() else []
    with duckdb.connect(str(city / "home" / "warehouse.duckdb"), read_only=True) as con:
        random_this_year = {
            r[0]
            for r in con.execute(
                "SELECT uscc FROM inspections WHERE kind = '双随机' AND year(inspected_on) = 2025"
            ).fetchall()
        }
    # Recuse, for every D enterprise, the first on-duty inspector of its district.
    classes = pq.read_table(city / "classes.parquet").to_pylist()
    d_class = {r["uscc"] for r in classes if r["class"] == "D"}
    invoke("sample", "inspectors", "--out", str(city / "inspectors.csv"))
    inspectors = [r for r in read_csv(city / "inspectors.csv") if r["active"] == "是"]
    recused: dict[str, str] = {}
    for uscc in sorted(d_class)[:40]:
        local = [r["inspector_id"] for r in inspectors if r["region_code"] == uscc[2:8]]
        if local:
            recused[uscc] = local[0]
            invoke("sample", "recuse", local[0], uscc, "--reason", "近亲属任职")
    plan_id = plan(city, "专项抽查", "second", "second.csv", "--ratios", "A=0.01,B=0.02,C=0.1,D=1")
    second = read_csv(city / "second.csv")
    assert not {r["uscc"] for r in second} & ({r["uscc"] for r in first} | random_this_year)
    hits = [r for r in second if r["uscc"] in recused]
    assert hits  # every live D enterprise not drawn before is drawn (D=1)
    for r in hits:
        assert recused[r["uscc"]] not in r["inspectors"].split(";")
    assert "verified" in invoke("sample", "verify", plan_id)


@pytest.mark.slow
def test_results_come_back_as_inspections_with_probability_deadlines_and_estimates(
    city: Path,
) -> None:
    plan_id = plan(city, "结果回流", "third", "third.csv", "--include-drawn")
    rows = read_csv(city / "third.csv")
    results = city / "third-results.csv"
    with results.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["统一社会信用代码", "企业名称", "检查结果", "检查日期"])
        for i, r in enumerate(rows):
            outcome = "发现问题已责令改正" if r["class"] in "CD" and i % 2 else "未发现问题"
            writer.writerow([r["uscc"].lower(), r["name"], outcome, "2025年9月26日"])
        writer.writerow([rows[0]["uscc"], "", "", ""])  # no result yet: skipped
    out = invoke("sample", "results", "import", plan_id, str(results))
    assert f"{len(rows)} loaded, 0 quarantined" in out
    with duckdb.connect(str(city / "home" / "warehouse.duckdb"), read_only=True) as con:
        loaded = con.execute(
            "SELECT uscc, kind, inclusion_probability, inspector_ids, _load_id FROM inspections "
            "WHERE task_id = ?",
            [plan_id],
        ).fetchall()
    assert len(loaded) == len(rows)
    expected = {r["uscc"]: (float(r["inclusion_probability"]), r["inspectors"]) for r in rows}
    for uscc, kind, prob, ids, load_id in loaded:
        assert kind == "双随机" and load_id
        assert prob == pytest.approx(expected[uscc][0])
        assert ";".join(ids) == expected[uscc][1]

    report = invoke("sample", "report", plan_id)
    assert "Horvitz–Thompson" in report
    invoke("sample", "publication", plan_id, "--out", str(city / "pub.csv"), "--today",
           "2025-11-20")  # fmt: skip
    pub = read_csv(city / "pub.csv")
    due = add_working_days(dt.date(2025, 9, 26), 20).due
    assert {r["公示截止日期"] for r in pub} == {due.isoformat()}
    assert {r["公示状态"] for r in pub} == {"已逾期"}
    assert "published" in invoke("sample", "publish", plan_id, "--out", str(city / "gs.xlsx"),
                                 "--on", "2025-10-15")  # fmt: skip
    invoke("sample", "publication", plan_id, "--out", str(city / "pub2.csv"))
    assert {r["公示状态"] for r in read_csv(city / "pub2.csv")} == {"已公示"}

    one = rows[1]["uscc"]
    invoke("sample", "results", "add", plan_id, one, "不配合检查情节严重", "--date", "2025-09-29")
    bad = runner.invoke(
        app, ["sample", "results", "add", plan_id, one, "查无此码", "--date", "2025-09-29"]
    )
    assert bad.exit_code == 1 and "quarantined" in bad.output
    with duckdb.connect(str(city / "home" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute(
            "SELECT result FROM inspections WHERE task_id = ? AND uscc = ?", [plan_id, one]
        ).fetchall() == [("不配合检查情节严重",)]

    strangers = city / "strangers.csv"
    strangers.write_text("uscc,result,inspected_on\n91410100MA00000000,未发现问题,2025-09-26\n")
    bad = runner.invoke(app, ["sample", "results", "import", plan_id, str(strangers)])
    assert bad.exit_code == 2 and "not drawn" in bad.output
