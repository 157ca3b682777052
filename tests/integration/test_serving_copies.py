"""Profiles read uscc-sorted serving copies: they must say what the warehouse says."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from riskwatch.services.ingest import IngestService
from riskwatch.settings import Settings
from riskwatch.store import enterprise_reads as reads
from riskwatch.synth.city import SynthConfig, generate


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[reads.WarehouseReader, Path]]:
    root: Path = tmp_path_factory.mktemp("serving")
    generate(
        SynthConfig(
            enterprises=1500,
            as_of=dt.date(2025, 6, 30),
            seed=3,
            out=root / "city",
            format="parquet",
        )
    )
    settings = Settings(home=root / "home", batch_rows=5000)
    IngestService(settings).run(root / "city")
    r = reads.WarehouseReader(settings.warehouse_path)
    yield r, settings.home
    r.close()


def test_timeline_and_links_match_the_warehouse(
    served: tuple[reads.WarehouseReader, Path],
) -> None:
    reader, home = served
    cur = reader.cursor()
    usccs = [u for (u,) in cur.execute("SELECT uscc FROM enterprises ORDER BY uscc").fetchall()]
    # the busiest enterprises (most records) and some of every kind
    busy = [
        u
        for (u,) in cur.execute(
            "SELECT uscc FROM complaints WHERE uscc IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC "
            "LIMIT 5"
        ).fetchall()
    ]
    holders = [
        u
        for (u,) in cur.execute(
            "SELECT DISTINCT holder_id FROM investments WHERE holder_type = '企业' LIMIT 5"
        ).fetchall()
    ]
    sample = sorted({*usccs[::60], *busy, *holders})
    assert not reader.serving_ready
    before = {
        u: (reads.records(reader, u, 100), reads.direct_links(reader, "41", u)) for u in sample
    }
    assert reads.build_serving(reader, home)
    assert reader.serving_ready
    after = {
        u: (reads.records(reader, u, 100), reads.direct_links(reader, "41", u)) for u in sample
    }
    for u in sample:
        rec_b, links_b = before[u]
        rec_a, links_a = after[u]
        assert links_a == links_b, u
        for table in reads.RECORD_TABLES:
            # ties on the date may come in another order; the rows and the order of dates match
            assert len(rec_a[table]) == len(rec_b[table]), (u, table)
            key = sorted(rec_b[table], key=repr)
            assert sorted(rec_a[table], key=repr) == key, (u, table)
    assert any(after[u][0]["complaints"] for u in busy)
    assert any(link["other_kind"] == "E" for u in sample for link in after[u][1])
    # a small scope hides the other side's enterprises but keeps the persons
    far = {u: reads.direct_links(reader, "4199", u) for u in sample}
    assert all(link["other_kind"] == "P" for links in far.values() for link in links)


def test_records_are_capped_per_kind(served: tuple[reads.WarehouseReader, Path]) -> None:
    reader, home = served
    cur = reader.cursor()
    (busy,) = cur.execute(
        "SELECT uscc FROM complaints WHERE uscc IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone() or ("",)
    reads.build_serving(reader, home)
    got = reads.records(reader, busy, 3)
    assert len(got["complaints"]) == 3
    dates = [r["received_on"] for r in got["complaints"]]
    assert dates == sorted(dates, reverse=True)


def test_paging_through_a_filter_counts_it_once(served: tuple[reads.WarehouseReader, Path]) -> None:
    reader, _home = served
    cur = reader.cursor()
    query = reads.ListQuery(status="存续")
    (expected,) = cur.execute("SELECT count(*) FROM enterprises WHERE status = '存续'").fetchone()
    total, rows = reads.list_enterprises(cur, "41", query, 10, 0, reader)
    assert total == expected and len(rows) == 10
    assert list(reader.counts.values()) == [expected]
    # the next page reads the remembered total: prove it by planting a wrong one
    key = next(iter(reader.counts))
    reader.counts[key] = -1
    total2, rows2 = reads.list_enterprises(cur, "41", query, 10, 10, reader)
    assert total2 == -1 and {r["uscc"] for r in rows2}.isdisjoint({r["uscc"] for r in rows})
    # another filter is counted on its own; a load forgets every total
    other, _ = reads.list_enterprises(cur, "41", reads.ListQuery(status="注销"), 10, 0, reader)
    assert len(reader.counts) == 2 and other != expected
    reads.invalidate_serving(reader)
    assert not reader.counts
    assert reads.list_enterprises(cur, "41", query, 10, 0, reader)[0] == expected


def test_copies_of_earlier_runs_are_pruned(served: tuple[reads.WarehouseReader, Path]) -> None:
    import pyarrow as pa

    from riskwatch.store.classes import write_classes

    reader, home = served
    reads.build_serving(reader, home)
    cur = reader.cursor()
    usccs = [u for (u,) in cur.execute("SELECT uscc FROM enterprises ORDER BY uscc").fetchall()]
    made = []
    for run in ("R1", "R2"):  # the month's classes replaced by a second run
        n = len(usccs)
        write_classes(home, "2025-06", pa.table({
            "uscc": usccs, "month": ["2025-06"] * n, "region_code": ["410105"] * n,
            "industry_code": ["F5211"] * n, "class": ["B"] * n, "score": [300] * n,
            "probability": [0.3] * n, "model_version": ["m"] * n, "reasons": ["[]"] * n,
            "overrides": ["[]"] * n,
        }), run_id=run)  # fmt: skip
        made.append(reads.list_table(reader, home))
    assert made[0] != made[1] and None not in made

    def tables() -> set[str]:
        rows = (
            reader.cursor()
            .execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'serving'")
            .fetchall()
        )
        return {str(n) for (n,) in rows if str(n).startswith(("cls_", "lst_"))}

    assert len(tables()) == 4  # two class copies, two list copies
    dropped = reads.prune_serving(reader, home)
    assert len(dropped) == 2 and made[0] in dropped
    assert tables() == {made[1], reads._class_table(reader, home)}
    page = reads.list_enterprises(cur, "", reads.ListQuery(), 5, 0, reader, home)[1]
    assert [r["class"] for r in page] == ["B"] * 5
