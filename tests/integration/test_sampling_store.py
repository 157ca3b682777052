"""The plan tables on SQLite and PostgreSQL: save, find, this year's draws, workload,
recusals, results and publication marks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from riskwatch.errors import InputError
from riskwatch.settings import Settings
from riskwatch.store import opdb
from riskwatch.store import sampling as store


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_plans_round_trip(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgres" else ""
    settings = Settings(home=tmp_path / "home", database_url=url)
    plan: dict[str, Any] = {
        "id": "SJ20250630-abc123",
        "name": "季度抽查",
        "as_of": dt.date(2025, 6, 30),
        "spec": {"items": ["年报"], "scope": {"domains": ["食品"]}},
        "seed": "s",
        "seed_source": "public",
        "algorithm": "riskwatch-draw-v1",
        "strata": {"A": [10, 1], "D": [2, 1]},
        "population_sha256": "0" * 64,
        "population_path": "/x",
        "list_sha256": "1" * 64,
        "created_at": dt.datetime.now(dt.UTC),
        "created_by": "tester",
    }
    draws = [
        {"uscc": "914101020000000001", "name": "甲", "risk_class": "A", "region_code": "410102",
         "draw_rank": 1, "inclusion_probability": 0.1},
        {"uscc": "914101020000000002", "name": "乙", "risk_class": "D", "region_code": "410102",
         "draw_rank": 1, "inclusion_probability": 0.5},
    ]  # fmt: skip
    store.save_plan(settings, plan, draws)
    found, rows = store.find_plan(settings, "季度抽查")
    assert found["id"] == plan["id"] and found["strata"] == plan["strata"]
    assert [r["uscc"] for r in rows] == [d["uscc"] for d in draws]
    assert store.drawn_this_year(settings, 2025) == {d["uscc"] for d in draws}
    assert store.drawn_this_year(settings, 2024) == set()

    store.set_assignment(
        settings, plan["id"], {"914101020000000001": ["I1", "I2"]}, "2" * 64, {"per": 2}
    )
    assert store.open_workload(settings, 2025) == {"I1": 1, "I2": 1}
    store.set_results(
        settings,
        plan["id"],
        [{"uscc": "914101020000000001", "result": "未发现问题",
          "inspected_on": dt.date(2025, 9, 1), "publish_by": dt.date(2025, 9, 29)}],
    )  # fmt: skip
    assert store.open_workload(settings, 2025) == {}
    assert store.mark_published(settings, plan["id"], ["914101020000000001"], dt.date(2025, 9, 5))
    assert store.list_plans(settings)[0]["inspected"] == 1

    store.add_recusal(settings, "I1", "914101020000000002", "亲属")
    store.add_recusal(settings, "I1", "914101020000000002", "亲属关系")  # idempotent
    assert store.recusals(settings) == {"914101020000000002": {"I1"}}
    with pytest.raises(LookupError):
        store.find_plan(settings, "nope")
    opdb.get_engine(settings).dispose()


def test_classes_from_a_csv_file_or_a_clear_message(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    path = tmp_path / "classes.csv"
    path.write_text("uscc,class,score\n914101020000000001,A,120\n914101020000000002,D,900\n")
    table = store.load_class_frame(settings, dt.date(2025, 6, 30), path)
    assert table.to_pylist() == [
        {"uscc": "914101020000000001", "class": "A"},
        {"uscc": "914101020000000002", "class": "D"},
    ]
    with pytest.raises(InputError, match="classes"):
        store.load_class_frame(settings, dt.date(2025, 6, 30), tmp_path / "missing.csv")
    with pytest.raises(InputError, match="--classes"):
        store.load_class_frame(settings, dt.date(2031, 1, 31))
