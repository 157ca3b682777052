"""The service end to end over real HTTP (ASGI): profiles, stats, screenings, tags, uploads,
jobs, alerts and cases — each scoped to the caller's region."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

import pytest

from riskwatch.services import jobs
from riskwatch.store import enterprise_reads as reads
from riskwatch.store.models.cases import Alert, Case
from riskwatch.store.models.users import service_session
from tests.integration.test_api_fixtures import Api, J, Z, api, uscc

_ = api


def test_openapi_and_docs_are_served(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert "/api/enterprises/{uscc}" in spec["paths"] and "/api/auth/token" in spec["paths"]
    assert api.client.get("/docs").status_code == 200


def test_me(api: Api) -> None:
    me = api.client.get("/api/me", headers=api.h("jinshui")).json()
    assert me == {"name": "jinshui", "role": "analyst", "role_zh": "分析员", "region": J,
                  "token_kind": "bearer", "fields": None}  # fmt: skip


def test_a_profile_has_basics_records_relations_and_tags(api: Api) -> None:
    profile = api.client.get(f"/api/enterprises/{uscc(3)}", headers=api.h("jinshui")).json()
    assert profile["basics"]["name"] == "测试3有限公司"
    assert profile["basics"]["region_code"] == J
    assert [p["decision_no"] for p in profile["records"]["penalties"]] == ["罚3号"]
    assert profile["indicators"] == {"month": None, "dimensions": {}}  # no snapshot here
    assert {"records", "relations", "tags"} <= set(profile)
    lower = api.client.get(f"/api/enterprises/{uscc(3).lower()}", headers=api.h("jinshui"))
    assert lower.status_code == 200


def test_list_filters_and_paging(api: Api) -> None:
    h = api.h("zhengzhou")
    page = api.client.get("/api/enterprises?limit=5&offset=5&sort=name", headers=h).json()
    assert page["total"] == 24 and len(page["items"]) == 5 and page["offset"] == 5
    one = api.client.get(f"/api/enterprises?q={uscc(104)}", headers=h).json()
    assert [i["uscc"] for i in one["items"]] == [uscc(104)]
    assert api.client.get("/api/enterprises?industry=F52", headers=h).json()["total"] == 24
    assert api.client.get("/api/enterprises?industry=C", headers=h).json()["total"] == 0
    assert api.client.get("/api/enterprises?limit=500", headers=h).status_code == 422


@pytest.mark.parametrize(
    ("q", "offset", "total", "shown"),
    [
        ("测试1", 0, 16, 5),  # 测试1, 测试10–12, 测试101–112
        ("测试1", 15, 16, 1),  # the count is remembered; the last page
        ("测试11", 0, 4, 4),  # 测试11, 测试110–112
        ("测试11", 8, 4, 0),  # past the end: the total still comes back
        ("测试2", 8, 1, 0),  # past the end on the first request of this search
        ("无此企业", 0, 0, 0),
    ],
)
def test_a_name_search_counts_its_matches(
    api: Api, q: str, offset: int, total: int, shown: int
) -> None:
    h = api.h("zhengzhou")
    page = api.client.get(f"/api/enterprises?q={q}&limit=5&offset={offset}", headers=h).json()
    assert page["total"] == total and len(page["items"]) == shown
    assert all(q in i["name"] for i in page["items"])


def test_stats_by_region(api: Api) -> None:
    rows = api.client.get("/api/stats/classes?by=region", headers=api.h("zhengzhou")).json()
    assert rows["rows"] == [{"key": Z, "enterprises": 12}, {"key": J, "enterprises": 12}]


def test_saved_screenings_and_rule_made_tags(api: Api) -> None:
    h = api.h("jinshui")
    rule = {"field": "penalties_3y", "op": "ge", "value": 1}
    saved = api.client.post("/api/screening/saved", json={"name": "处罚", "rule": rule}, headers=h)
    assert saved.status_code == 201
    assert [s["name"] for s in api.client.get("/api/screening/saved", headers=h).json()] == ["处罚"]
    bad = api.client.post("/api/screening/saved", json={"name": "x", "rule": {"field": "?"}},
                          headers=h)  # fmt: skip
    assert bad.status_code == 422
    made = api.client.post("/api/tags", json={"name": "近三年受罚", "kind": "behaviour",
                                              "rule": rule}, headers=h)  # fmt: skip
    assert made.status_code == 201
    assert api.client.post("/api/tags/近三年受罚/apply", headers=h).json() == {"members": 2}
    tagged = api.client.get("/api/enterprises?tag=近三年受罚", headers=h).json()
    assert sorted(i["uscc"] for i in tagged["items"]) == [uscc(3), uscc(4)]
    fields = api.client.get("/api/screening/fields", headers=h).json()
    assert len(fields) >= 40


def test_an_upload_goes_through_the_ingest_with_its_quarantine(api: Api) -> None:
    body = (
        "统一社会信用代码,列入日期,列入原因\n"
        f"{uscc(6)},2025-01-02,通过登记的住所或者经营场所无法联系\n"
        "NOT-A-USCC,2025-01-02,通过登记的住所或者经营场所无法联系\n"
    ).encode()
    files = {"file": ("abnormal_listings-upload.csv", body, "text/csv")}
    r = api.client.post("/api/admin/uploads", files=files, headers=api.h("admin"))
    assert r.status_code == 200, r.text
    table = r.json()["tables"]["abnormal_listings"]
    assert table["rows_loaded"] == 1 and table["rows_quarantined"] == 1
    profile = api.client.get(f"/api/enterprises/{uscc(6)}", headers=api.h("jinshui")).json()
    assert len(profile["records"]["abnormal_listings"]) == 1
    wrong = {"file": ("notes.txt", b"x", "text/plain")}
    assert (
        api.client.post("/api/admin/uploads", files=wrong, headers=api.h("admin")).status_code
        == 422
    )


def test_a_failed_job_is_retried_and_reported(api: Api) -> None:
    calls = []

    def flaky(_settings: object, _day: dt.date) -> dict[str, object]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("warehouse busy")
        return {"run_id": "R1", "counts": {"alerts": 3}}

    attempts = jobs.run_job(api.settings, "alert-scan", retries=2, backoff=0, fn=flaky)
    assert [a["status"] for a in attempts] == ["failed", "done"]
    history = api.client.get("/api/admin/jobs?job=alert-scan", headers=api.h("admin")).json()
    top = history["items"][:2]
    assert [(r["status"], r["attempt"]) for r in top] == [("done", 2), ("failed", 1)]
    assert top[0]["counts"] == {"alerts": 3} and top[0]["run_id"] == "R1"
    assert "warehouse busy" in top[1]["error"]
    assert api.client.get("/api/admin/jobs", headers=api.h("jinshui")).status_code == 403


@pytest.fixture(scope="module")
def two_cases(api: Api) -> tuple[str, str]:
    now = datetime.now(UTC)
    with service_session(api.settings) as s:
        for cid, u, region in (("C-J", uscc(9), J), ("C-Z", uscc(109), Z)):
            s.add(Case(case_id=cid, uscc=u, state="待分派", severity="high", department="市场监管",
                       region_code=region, opened_on=dt.date(2025, 6, 1),
                       deadline=dt.date(2025, 6, 8), escalation_level=0, created_at=now,
                       updated_at=now, version=1))  # fmt: skip
            s.flush()
            s.add(Alert(alert_id=f"A-{cid}", rule="address_cluster", uscc=u, severity="high",
                        raised_on=dt.date(2025, 6, 1), department="市场监管", fingerprint=cid,
                        evidence={"n": 1}, open_key=cid, state="open", case_id=cid,
                        rules_version="1", scan_id="S1", created_at=now))  # fmt: skip
    return "C-J", "C-Z"


def test_alerts_and_cases_are_scoped(api: Api, two_cases: tuple[str, str]) -> None:
    mine, theirs = two_cases
    h = api.h("jinshui")
    cases = api.client.get("/api/cases", headers=h).json()
    assert [c["case_id"] for c in cases["items"]] == [mine]
    alerts = api.client.get("/api/alerts", headers=h).json()
    assert [a["case_id"] for a in alerts["items"]] == [mine]
    assert api.client.get(f"/api/cases/{theirs}", headers=h).status_code == 404
    move = {"action": "assign", "assignee": "张三"}
    assert (
        api.client.post(f"/api/cases/{theirs}/transition", json=move, headers=h).status_code == 404
    )
    r = api.client.post(f"/api/cases/{mine}/transition", json=move, headers=h)
    assert r.status_code == 200 and r.json()["state"] == "已分派"
    detail = api.client.get(f"/api/cases/{mine}", headers=h).json()
    assert detail["case"]["assignee"] == "张三" and detail["alerts"][0]["rule"] == "address_cluster"
    again = api.client.post(f"/api/cases/{mine}/transition", json={"action": "close"}, headers=h)
    assert again.status_code in (409, 422)
    assert len(api.client.get("/api/cases", headers=api.h("zhengzhou")).json()["items"]) == 2


def test_a_profile_lists_the_enterprises_alerts(api: Api, two_cases: tuple[str, str]) -> None:
    mine, theirs = two_cases
    h = api.h("jinshui")
    profile = api.client.get(f"/api/enterprises/{uscc(9)}", headers=h).json()
    assert [a["alert_id"] for a in profile["alerts"]["items"]] == [f"A-{mine}"]
    assert profile["alerts"]["items"][0]["case_id"] == mine
    assert api.client.get(f"/api/enterprises/{uscc(8)}", headers=h).json()["alerts"] == {
        "total": 0,
        "items": [],
    }
    one = api.client.get(f"/api/alerts?uscc={uscc(9).lower()}", headers=h).json()
    assert [a["alert_id"] for a in one["items"]] == [f"A-{mine}"]
    # another district's enterprise: its alerts stay hidden, by the filter as by the profile
    assert api.client.get(f"/api/alerts?uscc={uscc(109)}", headers=h).json()["items"] == []
    assert api.client.get(f"/api/enterprises/{uscc(109)}", headers=h).status_code == 404
    admin = api.client.get(f"/api/enterprises/{uscc(109)}", headers=api.h("admin")).json()
    assert [a["alert_id"] for a in admin["alerts"]["items"]] == [f"A-{theirs}"]


def test_the_overview_counts_the_cases_in_scope(api: Api, two_cases: tuple[str, str]) -> None:
    summary = api.client.get("/api/web/cockpit", headers=api.h("jinshui")).json()["alerts"]
    assert summary["total"] == 1 and summary["by_severity"] == {"high": 1}
    assert sum(summary["by_state"].values()) == 1
    assert summary["overdue"] == (1 if dt.date.today() > dt.date(2025, 6, 8) else 0)
    assert summary["opened_30d"] == (1 if dt.date.today() <= dt.date(2025, 7, 1) else 0)
    city = api.client.get("/api/web/cockpit", headers=api.h("zhengzhou")).json()["alerts"]
    assert city["total"] == 2 and city["by_severity"] == {"high": 2}


def test_the_case_queue_is_scoped_filtered_and_paged(api: Api, two_cases: tuple[str, str]) -> None:
    mine, theirs = two_cases
    h = api.h("zhengzhou")
    both = api.client.get("/api/web/cases", headers=h).json()
    assert both["total"] == 2 and {c["case_id"] for c in both["items"]} == {mine, theirs}
    assert {c["region_code"] for c in both["items"]} == {J, Z}
    one = api.client.get(f"/api/web/cases?region={Z}", headers=h).json()
    assert [c["case_id"] for c in one["items"]] == [theirs] and one["total"] == 1
    page = api.client.get("/api/web/cases?limit=1&offset=1", headers=h).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert api.client.get("/api/web/cases?severity=low", headers=h).json()["total"] == 0
    # a district user asking for another district's region gets nothing from it
    other = api.client.get(f"/api/web/cases?region={Z}", headers=api.h("jinshui")).json()
    assert other == {"total": 0, "limit": 50, "offset": 0, "items": []}


def test_logout_revokes_the_token(api: Api) -> None:
    token = api.login("zhongyuan")
    h = {"Authorization": f"Bearer {token}"}
    assert api.client.post("/api/auth/logout", headers=h).status_code == 204
    assert api.client.get("/api/me", headers=h).status_code == 401


def test_sampling_plans_are_scoped(api: Api) -> None:
    import pyarrow as pa

    from riskwatch.sampling.policy import PlanSpec
    from riskwatch.services.sampling import PlanService

    everyone = [uscc(i) for i in [*range(1, 13), *range(101, 113)]]
    classes = pa.table({"uscc": everyone, "class": ["D"] * len(everyone)})
    spec = PlanSpec(name="中原抽查", as_of=dt.date(2025, 6, 30), seed="s1",
                    scope={"regions": [Z]}, counts={"D": 3})  # fmt: skip
    plan = PlanService(api.settings).run(spec, classes=classes, assign_inspectors=False)
    hz, hj = api.h("zhongyuan"), api.h("jinshui")
    assert plan.plan_id in {
        p["id"] for p in api.client.get("/api/sampling/plans", headers=hz).json()
    }
    assert plan.plan_id not in {
        p["id"] for p in api.client.get("/api/sampling/plans", headers=hj).json()
    }
    seen = api.client.get(f"/api/sampling/plans/{plan.plan_id}", headers=hz).json()
    assert len(seen["draws"]) == 3 and {d["region_code"] for d in seen["draws"]} == {Z}
    assert api.client.get(f"/api/sampling/plans/{plan.plan_id}", headers=hj).status_code == 404
    assert (
        api.client.get(f"/api/sampling/plans/{plan.plan_id}/verify", headers=hj).status_code == 404
    )
    refused = api.client.post("/api/sampling/plans", headers=hj, json={
        "name": "越权", "as_of": "2025-06-30", "seed": "x", "scope": {"regions": [Z]},
        "counts": {"D": 1}})  # fmt: skip
    assert refused.status_code == 422


def test_classes_reach_profiles_lists_stats_and_partners(api: Api) -> None:
    import json

    import pyarrow as pa

    from riskwatch.store.classes import write_classes

    ids = [*range(1, 13), *range(101, 113)]
    for month, worst in (("2025-05", "C"), ("2025-06", "D")):
        write_classes(api.settings.home, month, pa.table({
            "uscc": [uscc(i) for i in ids], "month": [month] * len(ids),
            "region_code": [J if i < 100 else Z for i in ids],
            "industry_code": ["F5211"] * len(ids),
            "class": [worst if i == 3 else "A" for i in ids],
            "score": [800 if i == 3 else 100 for i in ids],
            "probability": [0.9 if i == 3 else 0.1 for i in ids],
            "model_version": ["m1"] * len(ids),
            "reasons": [json.dumps([{"code": "penalties", "text_zh": "近三年受罚",
                                     "text_en": "penalised", "contribution": 0.5}])] * len(ids),
            "overrides": ["[]"] * len(ids),
        }), run_id=f"R{month}")  # fmt: skip
    h = api.h("jinshui")
    profile = api.client.get(f"/api/enterprises/{uscc(3)}", headers=h).json()
    assert profile["class"]["class"] == "D" and profile["class"]["score"] == 800
    assert profile["class"]["reasons"][0]["text_zh"] == "近三年受罚"
    assert [c["class"] for c in profile["class_history"]] == ["C", "D"]
    listed = api.client.get("/api/enterprises?class=D", headers=h).json()
    assert [i["uscc"] for i in listed["items"]] == [uscc(3)] and listed["items"][0]["class"] == "D"
    # a page reads its classes from the list copy (enterprises with their latest class)
    reader = api.client.app.state.services.reader
    reads.serving_copies(reader, api.settings.home, wait=True)  # made in the background
    assert any(name.startswith("lst_") for name in reader.attached)
    page = api.client.get("/api/enterprises?limit=50", headers=h).json()["items"]
    assert {(i["uscc"], i["class"], i["month"]) for i in page if i["uscc"] == uscc(3)} == {
        (uscc(3), "D", "2025-06")
    }
    assert all(i["class"] == "A" for i in page if i["uscc"] != uscc(3))
    stats = api.client.get("/api/stats/classes?by=region", headers=h).json()["rows"]
    assert stats == [{"key": J, "class": "A", "enterprises": 11},
                     {"key": J, "class": "D", "enterprises": 1}]  # fmt: skip
    cockpit = api.client.get("/api/web/cockpit", headers=h).json()
    assert cockpit["enterprises"] == 12 and cockpit["month"] == "2025-06"
    assert cockpit["trend"] == [
        {"month": "2025-05", "A": 11, "B": 0, "C": 1, "D": 0},
        {"month": "2025-06", "A": 11, "B": 0, "C": 0, "D": 1},
    ]
    assert cockpit["mix"] == {"A": 11, "B": 0, "C": 0, "D": 1}
    assert cockpit["regions"] == [{"key": J, "total": 12, "cd": 1, "share": 1 / 12}]
    assert cockpit["industries"] == [{"key": "F", "total": 12, "cd": 1, "share": 1 / 12}]
    city = api.client.get("/api/web/cockpit", headers=api.h("admin")).json()
    assert city["enterprises"] == 28 and city["mix"] == {"A": 23, "B": 0, "C": 0, "D": 1}
    assert [(r["key"], r["total"], r["cd"]) for r in city["regions"]] == [
        (Z, 12, 0),
        (J, 12, 1),
        ("410200", 4, 0),
    ]
    graph = api.client.get(f"/api/web/enterprises/{uscc(3)}/graph", headers=h).json()
    marked = {n["id"]: n.get("risk_class") for n in graph["nodes"] if n.get("kind") == "E"}
    assert marked[uscc(3)] == "D"
    history = api.client.get(f"/api/web/enterprises/{uscc(3)}/classes", headers=h).json()
    assert history["history"] == [
        {"month": "2025-05", "class": "C"},
        {"month": "2025-06", "class": "D"},
    ]
    token = api.client.post("/api/admin/tokens", headers=api.h("admin"), json={
        "partner": "zhujian", "fields": ["class"], "expires": "90d"}).json()["token"]  # fmt: skip
    hp = {"Authorization": f"Bearer {token}"}
    seen = api.client.get(f"/api/enterprises/{uscc(3)}", headers=hp).json()
    assert seen == {"uscc": uscc(3), "class": "D"}  # class only: no score, no reasons
    page = api.client.get("/api/enterprises?limit=3", headers=hp).json()
    assert all(set(i) == {"uscc", "class"} for i in page["items"])


def test_every_answer_carries_the_security_headers(api: Api) -> None:
    """JSON, errors, the denied and the static files all carry the security headers (and
    the JSON of a profile is not cached by a browser or proxy)."""
    answers = [
        api.client.get(f"/api/enterprises/{uscc(3)}", headers=api.h("jinshui")),
        api.client.get("/api/enterprises?limit=2", headers=api.h("jinshui")),
        api.client.get(f"/api/enterprises/{uscc(3)}"),  # 401
        api.client.get("/api/enterprises/NOPE", headers=api.h("jinshui")),  # 404
        api.client.get("/openapi.json"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 401, 404, 200]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers.get_list("cache-control") == ["no-store"]
    assert answers[0].headers["content-type"] == "application/json"


def test_the_service_can_read_the_profile_copies_before_it_serves(api: Api) -> None:
    """With ``serve_preload`` (what ``riskwatch serve`` sets), start-up opens the warehouse,
    makes the serving copies and reads them before the first request."""
    from fastapi.testclient import TestClient

    from riskwatch.api import create_app

    settings = api.settings.model_copy(update={"serve_preload": True})
    app = create_app(settings, api.service)
    assert app.state.services._reader is None
    with TestClient(app) as client:
        reader = app.state.services._reader
        assert reader is not None and reader.serving_ready  # before any request
        assert len(reads.preload(reader, settings.home)) == 2  # profile copy, timelines
        profile = client.get(f"/api/enterprises/{uscc(3)}", headers=api.h("jinshui")).json()
        assert profile["basics"]["name"] == "测试3有限公司"
    off = create_app(api.settings, api.service)
    with TestClient(off):
        assert off.state.services._reader is None  # opened on first use only
