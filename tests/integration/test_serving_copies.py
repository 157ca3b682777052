"""Profiles read uscc-sorted serving copies: they must say what the warehouse says."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import orjson
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
        made.append(reads.list_table(reader, home, wait=True))
    assert made[0] != made[1] and None not in made

    def tables() -> set[str]:
        return {n for n in reader.serving.names() if n.startswith(("cls_", "lst_"))}

    # the second run's copies superseded the first's: deleted when they were made
    assert tables() == {made[1], reads._class_table(reader, home)}
    assert not reader.serving.path(made[0]).exists()
    (home / "serving" / "lst_0123456789ab.duckdb").write_bytes(b"a copy nobody uses")
    (home / "serving" / ".tmp" / "lst_x-1-1.duckdb").write_bytes(b"left by a crash")
    (home / "serving.duckdb").write_bytes(b"the one file of earlier versions")
    dropped = reads.prune_serving(reader, home)
    assert "lst_0123456789ab" in dropped
    assert not {made[1], reads._class_table(reader, home)} & set(dropped)
    assert tables() == {made[1], reads._class_table(reader, home)}
    assert not list((home / "serving" / ".tmp").iterdir())
    assert not (home / "serving.duckdb").exists()
    page = reads.list_enterprises(cur, "", reads.ListQuery(), 5, 0, reader, home)[1]
    assert [r["class"] for r in page] == ["B"] * 5


def test_profile_copy_says_what_the_parts_say(
    served: tuple[reads.WarehouseReader, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile read from its one-row copy equals the profile read part by part: basics,
    classes with the latest reasons, indicators by dimension, timeline, links in scope."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from riskwatch.auth.config import ServiceSettings
    from riskwatch.auth.scope import Principal, Role
    from riskwatch.errors import NotFoundError
    from riskwatch.services.enterprises import EnterpriseService, _indicator_names
    from riskwatch.store import snapshots
    from riskwatch.store.classes import write_classes

    reader, home = served
    reads.build_serving(reader, home)
    cur = reader.cursor()
    usccs = [u for (u,) in cur.execute("SELECT uscc FROM enterprises ORDER BY uscc").fetchall()]
    n = len(usccs)
    for month, cls in (("2025-05", "C"), ("2025-06", "B")):
        write_classes(home, month, pa.table({
            "uscc": usccs, "month": [month] * n, "region_code": ["410105"] * n,
            "industry_code": ["F5211"] * n, "class": [cls] * n, "score": [300.5] * n,
            "probability": [0.3] * n, "model_version": ["m"] * n,
            "reasons": [json.dumps([{"id": "x", "text": f"理由 {month}"}])] * n,
            "overrides": ["[]"] * n,
        }), run_id=f"R{month}")  # fmt: skip
    ids = list(_indicator_names())[:3]
    folder = snapshots.month_dir(home, "2025-06")
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "uscc": usccs, "as_of": [dt.date(2025, 6, 30)] * n,
        ids[0]: [1.5] * n, ids[1]: [None] * n, ids[2]: [True] * n,
    }), folder / "part-T-00000.parquet")  # fmt: skip
    settings = Settings(home=home)
    service = EnterpriseService(settings, ServiceSettings(), reader)
    sample = [*usccs[::97], *(
        u for (u,) in cur.execute(
            "SELECT DISTINCT holder_id FROM investments WHERE holder_type = '企业' LIMIT 5"
        ).fetchall()
    )]  # fmt: skip
    (district,) = cur.execute(
        "SELECT region_code FROM enterprises GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone() or ("",)
    people = [
        Principal(1, "a", Role.ANALYST, "410100"),
        Principal(2, "d", Role.ANALYST, "419900"),  # a scope with none of them
        Principal(3, "p", Role.PARTNER, "410100", fields=frozenset({"uscc", "class"})),
        Principal(4, "k", Role.ANALYST, district),  # links to other districts are hidden
    ]

    def read_all() -> list[object]:
        out: list[object] = []
        for who in people:
            for u in sample:
                try:
                    out.append(json.loads(json.dumps(service.profile(who, u), default=str)))
                except NotFoundError as exc:
                    out.append(str(exc))
        return out

    monkeypatch.setattr(reads, "profile_table", lambda *a, **k: None)
    by_parts = read_all()
    monkeypatch.undo()
    assert reads.profile_table(reader, home, wait=True) is not None
    by_copy = read_all()
    for a, b in zip(by_parts, by_copy, strict=True):
        if isinstance(a, dict) and "records" in a:  # ties on a date may come in either order
            for table in reads.RECORD_TABLES:
                a["records"][table] = sorted(a["records"][table], key=repr)
                b["records"][table] = sorted(b["records"][table], key=repr)
        assert a == b
    first = by_copy[0]
    assert isinstance(first, dict)
    assert first["class"]["class"] == "B" and first["class"]["reasons"][0]["text"] == "理由 2025-06"
    assert [h["class"] for h in first["class_history"]] == ["C", "B"]
    assert sum(len(v) for v in first["indicators"]["dimensions"].values()) == 3
    assert all(isinstance(x, str) for x in by_copy[len(sample) : 2 * len(sample)])
    assert by_copy[2 * len(sample)] == {"uscc": usccs[0], "class": "B"}
    whole, local = by_copy[: len(sample)], by_copy[3 * len(sample) :]
    hidden = [
        len(w["relations"]) - len(d["relations"])
        for w, d in zip(whole, local, strict=True)
        if isinstance(d, dict) and isinstance(w, dict)
    ]
    assert hidden and min(hidden) >= 0 and max(hidden) > 0
    # a request that finds no current copy starts one in the background and reads the parts
    write_classes(home, "2025-06", pa.table({
        "uscc": usccs, "month": ["2025-06"] * n, "region_code": ["410105"] * n,
        "industry_code": ["F5211"] * n, "class": ["D"] * n, "score": [900.0] * n,
        "probability": [0.9] * n, "model_version": ["m"] * n, "reasons": ["[]"] * n,
        "overrides": ["[]"] * n,
    }), run_id="R3")  # fmt: skip
    assert reads.profile_table(reader, home) is None
    assert service.profile(people[0], usccs[0])["class"]["class"] == "D"
    for _ in range(200):
        if reads.profile_table(reader, home) is not None:
            break
        import time

        time.sleep(0.05)
    assert reads.profile_table(reader, home) is not None
    assert service.profile(people[0], usccs[0])["class"]["class"] == "D"


def test_name_index_finds_what_a_scan_finds(
    served: tuple[reads.WarehouseReader, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name search through the pair index returns the same total and pages as a scan of
    every name: rare and common fragments, longer ones, one absent from every name, with a
    region filter, paged, and past the end."""
    reader, home = served
    reads.build_serving(reader, home)
    cur = reader.cursor()
    src = reads.list_source(reader, home)
    index = reads.name_index(reader, home, src, wait=True)
    assert index is not None
    names = [n for (n,) in cur.execute("SELECT name FROM enterprises ORDER BY uscc").fetchall()]
    (district,) = cur.execute(
        "SELECT region_code FROM enterprises GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone() or ("",)
    fragments = {"有限", "公司", "郑州", "鑫鑫鑫", "有限公司", names[0][2:4], names[7][1:5]}
    fragments |= {n[3:5] for n in names[::150]}
    cases = [
        (reads.ListQuery(q=f), limit, offset)
        for f in sorted(fragments)
        for limit, offset in ((50, 0), (7, 14), (50, 5000))
    ]
    cases += [(reads.ListQuery(q=f, region=district), 20, 0) for f in sorted(fragments)]

    def run() -> list[tuple[int, list[dict[str, object]]]]:
        reader.forget_counts()
        return [reads.list_enterprises(cur, "41", q, lim, off, reader, home)
                for q, lim, off in cases]  # fmt: skip

    by_index = run()
    monkeypatch.setattr(reads, "_by_name_index", lambda q: False)
    by_scan = run()
    assert by_index == by_scan
    assert sum(t for t, _ in by_index) > 100 and any(t == 0 for t, _ in by_index)
    assert any(len(rows) == 7 for _, rows in by_index)
    # the index answered: its count was read from the pair's rows
    monkeypatch.undo()
    monkeypatch.setattr(reads.WarehouseReader, "cached_count", lambda self, key: None)
    calls: list[str] = []
    real = reads._name_search
    monkeypatch.setattr(reads, "_name_search", lambda *a: calls.append("x") or real(*a))
    reads.list_enterprises(cur, "41", reads.ListQuery(q="有限"), 5, 0, reader, home)
    reads.list_enterprises(cur, "41", reads.ListQuery(q="有"), 5, 0, reader, home)  # one char
    reads.list_enterprises(cur, "41", reads.ListQuery(q="ab"), 5, 0, reader, home)  # ASCII
    assert calls == ["x"]


def test_reader_cursors_keep_stored_order(served: tuple[reads.WarehouseReader, Path]) -> None:
    """Pages read without ORDER BY rely on the copies being stored sorted and on the
    ordered cursors keeping that order; over many row groups and threads a plain cursor of
    the warehouse's settings does not (checked by hand: it returns wrong pages)."""
    reader, home = served
    reads.build_serving(reader, home)
    name = reads._ensure_copy(  # made as the list copies are
        reader, home, "t_order", "SELECT range AS k FROM range(2000000) ORDER BY k"
    )
    try:
        for own in (reader.ordered_cursor(), reader.fresh_cursor()):
            for offset in range(0, 600_000, 40_000):
                got = [
                    k
                    for (k,) in own.execute(
                        f"SELECT k FROM {name}.{name} WHERE k % 3 = 0 LIMIT 50 OFFSET {offset}"
                    ).fetchall()
                ]
                assert got == list(range(offset * 3, offset * 3 + 150, 3))
    finally:
        reader.forget(name)


def test_pages_in_stored_order_match_sorted_pages(
    served: tuple[reads.WarehouseReader, Path],
) -> None:
    """A uscc-ordered page read from the sorted copy without sorting is the sorted page."""
    reader, home = served
    reads.build_serving(reader, home)
    cur = reader.cursor()
    for query in (reads.ListQuery(status="存续"), reads.ListQuery(industry="F"), reads.ListQuery()):
        for offset in (0, 37, 400):
            _total, rows = reads.list_enterprises(cur, "41", query, 25, offset, reader, home)
            where, params = reads._where("41", query)
            expected = [
                u
                for (u,) in cur.execute(
                    f"SELECT uscc FROM enterprises e WHERE {where} ORDER BY uscc LIMIT 25 "
                    f"OFFSET {offset}",
                    params,
                ).fetchall()
            ]
            assert [r["uscc"] for r in rows] == expected


def test_timelines_made_in_passes_equal_one_pass(
    served: tuple[reads.WarehouseReader, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timeline copy made over several uscc ranges (as at a million enterprises, where
    one pass ran out of memory) holds the same rows, still sorted by uscc."""
    reader, home = served

    def timeline() -> list[tuple[str, str]]:
        reads.build_serving(reader, home, force=True)
        return [
            (str(u), str(r))
            for u, r in reader.ordered_cursor()
            .execute(f"SELECT uscc, records FROM {reader.t('timeline')}")
            .fetchall()
        ]

    one = timeline()
    monkeypatch.setattr(reads, "TIMELINE_ROWS_PER_PASS", 5000)
    assert len(reads._uscc_ranges(reader.cursor())) > 5
    many = timeline()
    assert [u for u, _ in many] == sorted(u for u, _ in one)
    assert {u: sorted(orjson.loads(r).items()) for u, r in many} == {
        u: sorted(orjson.loads(r).items()) for u, r in one
    }


# the walk's links as one join over every table: the plain statement of what ``links`` finds
_LINKS_REFERENCE = """
WITH seeds AS (SELECT unnest(?::VARCHAR[]) AS uscc),
persons AS (
  SELECT e.uscc, e.legal_rep_id AS pid, '法定代表人' AS role, e.legal_rep_name AS pname
    FROM enterprises e JOIN seeds USING (uscc)
  UNION ALL SELECT o.uscc, o.person_id, o.role, o.name FROM officers o JOIN seeds USING (uscc)
  UNION ALL SELECT i.uscc, i.holder_id, '股东', i.holder_name
    FROM investments i JOIN seeds USING (uscc) WHERE i.holder_type = '自然人')
SELECT uscc, pid AS other, 'P' AS other_kind, role, pname AS other_name FROM persons
 WHERE pid IS NOT NULL
UNION ALL
SELECT p.uscc, x.uscc, 'E', '同一人员', x.name FROM persons p
  JOIN (SELECT uscc, legal_rep_id AS pid FROM enterprises
        UNION SELECT uscc, person_id FROM officers) y ON y.pid = p.pid
  JOIN enterprises x ON x.uscc = y.uscc
 WHERE y.uscc <> p.uscc AND starts_with(x.region_code, ?)
UNION ALL
SELECT i.uscc, i.holder_id, 'E', '被投资', i.holder_name FROM investments i
  JOIN seeds USING (uscc) JOIN enterprises x ON x.uscc = i.holder_id
 WHERE i.holder_type = '企业' AND starts_with(x.region_code, ?)
UNION ALL
SELECT i.holder_id, i.uscc, 'E', '对外投资', x.name FROM investments i
  JOIN seeds s ON s.uscc = i.holder_id JOIN enterprises x ON x.uscc = i.uscc
 WHERE starts_with(x.region_code, ?)
"""


def test_graph_links_are_what_one_big_join_finds(
    served: tuple[reads.WarehouseReader, Path],
) -> None:
    reader, _home = served
    cur = reader.cursor()
    usccs = [u for (u,) in cur.execute("SELECT uscc FROM enterprises ORDER BY uscc").fetchall()]
    # people in several enterprises and enterprise shareholders make the far side
    shared = [
        u
        for (u,) in cur.execute(
            "SELECT e.uscc FROM enterprises e JOIN (SELECT legal_rep_id FROM enterprises "
            "GROUP BY 1 HAVING count(*) > 1) m USING (legal_rep_id) ORDER BY 1 LIMIT 8"
        ).fetchall()
    ]
    holders = [
        u
        for (u,) in cur.execute(
            "SELECT DISTINCT holder_id FROM investments WHERE holder_type = '企业' "
            "ORDER BY 1 LIMIT 8"
        ).fetchall()
    ]
    (district,) = cur.execute(
        "SELECT region_code FROM enterprises GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone() or ("",)
    groups = [[u] for u in sorted({*usccs[::97], *shared, *holders})]
    groups += [sorted({*shared, *holders}), usccs[:40]]
    found_far = False
    for prefix in ("41", district):
        for seeds in groups:
            got = reads.links(cur, prefix, seeds, limit=100_000)
            want = cur.execute(_LINKS_REFERENCE, [seeds, prefix, prefix, prefix]).fetchall()
            assert sorted(tuple(r.values()) for r in got) == sorted(
                (u, o, k, role, n) for u, o, k, role, n in want
            ), (prefix, seeds)
            found_far |= any(r["other_kind"] == "E" for r in got)
    assert found_far and shared and holders
    assert len(reads.links(cur, "41", usccs[:40], limit=5)) == 5
    assert reads.links(cur, "41", [], limit=5) == []
