"""Address normalisation: one place written several ways gets one key; rooms stay apart."""

from __future__ import annotations

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from riskwatch.graph.address import normalize_address
from riskwatch.store.graph import address_key_sql
from riskwatch.synth import world as w
from riskwatch.synth.patterns import address_variants

places = st.tuples(
    st.sampled_from([d.name for d in w.DISTRICTS if not d.county]),
    st.sampled_from(w.ROADS),
    st.integers(1, 999),
    st.sampled_from(w.BUILDINGS),
    st.integers(1, 40),
    st.integers(101, 3020),
)


def _sql_keys(texts: list[str], region: str) -> list[str | None]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t(i INTEGER, address VARCHAR, region_code VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, a, region) for i, a in enumerate(texts)])
    rows = con.sql(f"SELECT {address_key_sql()} FROM t ORDER BY i").fetchall()
    return [r[0] for r in rows]


def test_variants_of_one_place_share_a_key() -> None:
    variants = address_variants("金水区", "花园路", 8, "绿地中心", 3, 1205)
    keys = {normalize_address(v, "410105") for v in variants}
    assert keys == {"410105|花园路8号绿地中心3栋1205室"}


def test_other_rooms_and_districts_stay_apart() -> None:
    a = normalize_address("河南省郑州市金水区花园路8号绿地中心3号楼1205室", "410105")
    assert a != normalize_address("河南省郑州市金水区花园路8号绿地中心3号楼1206室", "410105")
    assert a != normalize_address("河南省郑州市金水区花园路8号绿地中心4号楼1205室", "410105")
    assert a != normalize_address("河南省郑州市金水区花园路8号绿地中心3号楼1205室", "410103")


def test_forms_and_edge_cases() -> None:
    assert normalize_address("郑州市二七区市府路1号", "410103") == "410103|市府路1号"
    assert normalize_address("中牟县城关镇东村12号", "410122") == "410122|城关镇东村12号"
    assert normalize_address("花园路8号 A座 1205房", "410105") == "410105|花园路8号A栋1205室"
    assert normalize_address("   ", "410105") is None
    assert normalize_address(None) is None


@given(places)
def test_python_and_duckdb_agree_and_variants_merge(
    place: tuple[str, str, int, str, int, int],
) -> None:
    variants = address_variants(*place)
    py = [normalize_address(v, "410105") for v in variants]
    assert len(set(py)) == 1
    assert _sql_keys(variants, "410105") == py
    neighbour = address_variants(*place[:5], place[5] + 1)[0]
    assert normalize_address(neighbour, "410105") != py[0]
