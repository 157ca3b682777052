"""The relationship graph on a small hand-made city loaded through ingest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from riskwatch.errors import InputError, NotFoundError
from riskwatch.graph.build import build
from riskwatch.graph.query import Graph, cluster_of, largest_clusters
from riskwatch.ingest.pseudonym import Pseudonymizer
from riskwatch.services.ingest import IngestService
from riskwatch.settings import Settings
from riskwatch.store import graph as store
from riskwatch.store.loads import load_or_create_secret
from riskwatch.synth.patterns import address_variants
from tests.conftest import ENTERPRISE_HEADER, CityFolder, make_person_id, make_uscc

AS_OF = dt.date(2025, 6, 30)
PLACE = ("金水区", "花园路", 8, "绿地中心", 3, 1205)


def _row(i: int, address: str, person: int, established: str = "2025-03-01") -> list[object]:
    return [
        make_uscc(i), f"郑州图谱{i}有限公司", "有限责任公司", "存续", established, 5, "L7212",
        "410105", address, make_person_id(person), f"李{person}",
    ]  # fmt: skip


def write_city(root: Path) -> None:
    """1–5 at one place written five ways; 6 next door; 4, 5, 7 share a person; 7 invests
    in 8; 9's representative supervises 10, which is on the serious-violation list."""
    city = CityFolder(root)
    variants = address_variants(*PLACE)
    next_door = address_variants(*PLACE[:5], 1206)[0]
    rows = [
        _row(i, variants[i - 1], 100 if i <= 3 else 101, f"2025-03-{i:02d}") for i in range(1, 6)
    ]
    rows += [
        _row(6, next_door, 102),
        _row(7, "河南省郑州市金水区文化路1号", 101),
        _row(8, "河南省郑州市金水区文化路2号", 104),
        _row(9, "河南省郑州市金水区文化路3号", 103),
        _row(10, "河南省郑州市金水区文化路4号", 105),
    ]
    city.csv("enterprises.csv", ENTERPRISE_HEADER, rows)
    city.csv(
        "investments.csv",
        ["uscc", "holder_type", "holder_id", "holder_name", "subscribed_capital"],
        [
            [make_uscc(8), "企业", make_uscc(7), "郑州图谱7有限公司", 50],
            [make_uscc(9), "企业", make_uscc(500), "外地投资有限公司", 20],  # not registered here
        ],
    )
    city.csv(
        "officers.csv",
        ["uscc", "person_id", "name", "role"],
        [[make_uscc(10), make_person_id(103), "李103", "监事"]],
    )
    city.csv(
        "serious_violations.csv",
        ["uscc", "listed_on", "reason"],
        [[make_uscc(10), "2025-01-05", "提供虚假材料取得登记"]],
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("graph")
    settings = Settings(home=root / "home", batch_rows=1000)
    write_city(root / "city")
    IngestService(settings).run(root / "city")
    build(settings, AS_OF)
    return settings


def person(settings: Settings, i: int) -> str:
    return Pseudonymizer(load_or_create_secret(settings.secret_path))(make_person_id(i))


def test_counts_and_address_nodes(built: Settings) -> None:
    manifest = store.read_manifest(built)
    assert manifest["enterprises"] == 10
    nodes = store.read_nodes(built).to_pylist()
    addresses = [n["key"] for n in nodes if n["kind"] == "A"]
    assert addresses == ["410105|花园路8号绿地中心3栋1205室"]  # five forms, one place; 1206 apart
    persons = {n["key"] for n in nodes if n["kind"] == "P"}
    assert person(built, 100) in persons
    assert not any(make_person_id(100) in str(n) for n in nodes)  # never the raw ID number


def test_ego_network_depth_two(built: Settings) -> None:
    g = Graph(built)
    ego = g.ego(make_uscc(1), depth=2)
    firms = {n["key"] for n in ego["nodes"] if n["kind"] == "E"}
    assert firms == {make_uscc(i) for i in range(1, 6)}
    assert {n["hops"] for n in ego["nodes"]} == {0, 1, 2}
    roles = {lk["role"] for lk in ego["links"]}
    assert roles == {"法定代表人", "同址"}
    one = g.ego(make_uscc(1), depth=1)
    assert {n["kind"] for n in one["nodes"] if n["hops"] == 1} == {"P", "A"}
    with pytest.raises(NotFoundError):
        g.ego(make_uscc(99))
    with pytest.raises(InputError):
        g.ego(make_uscc(1), depth=5)


def test_enterprises_of_a_person_and_paths(built: Settings) -> None:
    g = Graph(built)
    firms = g.enterprises_of_person(person(built, 101))
    assert [f["uscc"] for f in firms] == sorted([make_uscc(4), make_uscc(5), make_uscc(7)])
    assert all(f["roles"] == ["法定代表人"] for f in firms)
    path = g.shortest_path(make_uscc(1), make_uscc(8))
    assert path[0]["key"] == make_uscc(1) and path[-1]["key"] == make_uscc(8)
    assert [p["kind"] for p in path] == ["E", "A", "E", "P", "E", "E"]
    assert g.shortest_path(make_uscc(1), make_uscc(6)) == []


def test_clusters(built: Settings) -> None:
    members = cluster_of(built, make_uscc(2))["members"]
    assert members == sorted([make_uscc(i) for i in (1, 2, 3, 4, 5, 7, 8)])
    assert cluster_of(built, make_uscc(6))["members"] == [make_uscc(6)]
    top = largest_clusters(built, 2).to_pylist()
    assert [c["cluster_size"] for c in top] == [7, 2]


def test_related_party_risk(built: Settings) -> None:
    risk = {r["uscc"]: r for r in store.load_related_risk(built).to_pylist()}
    assert risk[make_uscc(9)]["related_risk_score"] == pytest.approx(0.5)
    assert risk[make_uscc(9)]["related_risky_count"] == 1
    assert risk[make_uscc(10)]["related_risk_score"] == 0.0  # its own listing is not "related"
    assert risk[make_uscc(1)]["related_count"] == 2  # 2 and 3 through person 100
    assert risk[make_uscc(1)]["as_of"] == AS_OF
    assert set(risk) == {make_uscc(i) for i in range(1, 11)}  # outside investors carry none
    assert store.load_related_risk(built, "2025-06").num_rows == 10
    with pytest.raises(NotFoundError):
        store.load_related_risk(built, "2025-05")


def test_outside_investors_are_enterprise_nodes(built: Settings) -> None:
    ego = Graph(built).ego(make_uscc(9), depth=1)
    outside = [n for n in ego["nodes"] if n["key"] == make_uscc(500)]
    assert outside and outside[0]["kind"] == "E"
    assert {lk["role"] for lk in ego["links"]} == {"法定代表人", "投资"}
