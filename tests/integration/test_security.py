"""Security: region scopes on every endpoint, partner fields, token life, SQL, CSRF, lockout.

Real HTTP through the ASGI app, a real DuckDB warehouse and a real SQLite store.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from riskwatch.store.models.users import ApiToken, service_session
from tests.integration.test_api_fixtures import PASSWORD, Api, J, Z, api, uscc

_ = api  # the module-scoped fixture

OTHERS = [uscc(101), uscc(102), uscc(201)]  # 中原 and 开封 enterprises
MISSING = "91410105MA9999999X"


def _regions(items: list[dict[str, object]]) -> set[str]:
    return {str(i["region_code"]) for i in items}


@pytest.mark.parametrize("target", [*OTHERS, MISSING])
def test_a_district_user_cannot_read_another_districts_enterprise(api: Api, target: str) -> None:
    r = api.client.get(f"/api/enterprises/{target}", headers=api.h("jinshui"))
    assert r.status_code == 404
    # Same answer for "exists elsewhere" and "does not exist": a guess learns nothing.
    assert r.json() == {"detail": f"no enterprise {target} in your region"}
    graph = api.client.get(f"/api/enterprises/{target}/graph", headers=api.h("jinshui"))
    assert graph.status_code == 404
    for path in ("graph", "classes"):  # the dashboard's own reads of one enterprise
        web = api.client.get(f"/api/web/enterprises/{target}/{path}", headers=api.h("jinshui"))
        assert web.status_code == 404


def test_lists_searches_and_filters_stay_in_the_district(api: Api) -> None:
    h = api.h("jinshui")
    everything = api.client.get("/api/enterprises?limit=200", headers=h).json()
    assert everything["total"] == 12
    assert _regions(everything["items"]) == {J}
    for params in (f"region={Z}", "region=4102", f"q={uscc(101)}", "q=测试101"):
        page = api.client.get(f"/api/enterprises?{params}", headers=h).json()
        assert page["total"] == 0, params
    city = api.client.get("/api/enterprises?limit=200", headers=api.h("zhengzhou")).json()
    assert _regions(city["items"]) == {J, Z}  # a city scope covers its districts, not 开封


def test_exports_stay_in_the_district(api: Api) -> None:
    r = api.client.get("/api/enterprises/export?format=csv", headers=api.h("jinshui"))
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "统一社会信用代码"
    assert {row[7] for row in rows[1:]} == {J} and len(rows) == 13
    r = api.client.get(f"/api/enterprises/export?format=csv&region={Z}", headers=api.h("jinshui"))
    assert len(r.content.decode("utf-8-sig").strip().splitlines()) == 1  # the header only
    xlsx = api.client.get("/api/enterprises/export", headers=api.h("jinshui"))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_screening_stays_in_the_district(api: Api) -> None:
    h = api.h("jinshui")
    rules = [
        {"field": "region_code", "op": "eq", "value": Z},
        {"field": "name", "op": "contains", "value": "测试101"},
        {"field": "address", "op": "contains", "value": "测试路101号"},
    ]
    for rule in rules:
        r = api.client.post("/api/screening", json={"rule": rule}, headers=h)
        assert r.status_code == 200 and r.json()["total"] == 0, rule
    found = api.client.post(
        "/api/screening", json={"rule": {"field": "penalties_3y", "op": "ge", "value": 1},
                                "as_of": "2025-06-30"}, headers=h,
    ).json()  # fmt: skip
    assert sorted(i["uscc"] for i in found["items"]) == [uscc(3), uscc(4)]
    exported = api.client.post(
        "/api/screening/export?format=csv",
        json={"rule": {"field": "abnormal_now", "op": "is_true"}, "as_of": "2025-06-30"},
        headers=h,
    )
    lines = exported.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and uscc(5) in lines[1]


def test_graph_walks_stop_at_the_district_line(api: Api) -> None:
    for start in (uscc(1), uscc(2)):
        g = api.client.get(f"/api/enterprises/{start}/graph?depth=3", headers=api.h("jinshui"))
        assert g.status_code == 200
        ids = {n["id"] for n in g.json()["nodes"]}
        assert not ids & {uscc(101), uscc(102)}
        profile = api.client.get(f"/api/enterprises/{start}", headers=api.h("jinshui")).json()
        assert not {r["other"] for r in profile["relations"]} & {uscc(101), uscc(102)}
    # The city analyst sees the links across the line.
    g = api.client.get(f"/api/enterprises/{uscc(1)}/graph", headers=api.h("zhengzhou")).json()
    assert uscc(101) in {n["id"] for n in g["nodes"]}
    g = api.client.get(f"/api/enterprises/{uscc(2)}/graph", headers=api.h("zhengzhou")).json()
    assert uscc(102) in {n["id"] for n in g["nodes"]}


def test_tags_cannot_reach_into_another_district(api: Api) -> None:
    h = api.h("jinshui")
    api.client.post("/api/tags", json={"name": "重点", "kind": "object"}, headers=h)
    r = api.client.post("/api/tags/重点/enterprises", json={"usccs": [uscc(101)]}, headers=h)
    assert r.status_code == 404
    hz = api.h("zhongyuan")
    assert api.client.post(
        "/api/tags/重点/enterprises", json={"usccs": [uscc(101)]}, headers=hz
    ).json() == {"changed": 1}  # fmt: skip
    page = api.client.get("/api/enterprises?tag=重点", headers=h).json()
    assert page["total"] == 0  # 中原's tagged enterprise is not listed in 金水
    assert api.client.get("/api/enterprises?tag=重点", headers=hz).json()["total"] == 1


def _partner(api: Api, fields: list[str], expires: str = "30d") -> tuple[int, str]:
    r = api.client.post(
        "/api/admin/tokens",
        json={"partner": "zhujian", "fields": fields, "expires": expires},
        headers=api.h("admin"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"]), str(r.json()["token"])


def test_a_partner_token_sees_only_its_fields(api: Api) -> None:
    _id, token = _partner(api, ["status"])
    h = {"Authorization": f"Bearer {token}"}
    page = api.client.get("/api/enterprises?limit=200", headers=h).json()
    assert page["total"] == 24  # 郑州 scope: 金水 + 中原, not 开封
    assert all(set(item) <= {"uscc", "status"} for item in page["items"])
    profile = api.client.get(f"/api/enterprises/{uscc(1)}", headers=h).json()
    assert set(profile) == {"uscc", "status"}
    assert api.client.get(f"/api/enterprises/{uscc(201)}", headers=h).status_code == 404
    for method, path, body in [
        ("GET", f"/api/enterprises/{uscc(1)}/graph", None),
        ("GET", "/api/enterprises/export", None),
        ("POST", "/api/screening", {"rule": {"field": "status", "op": "eq", "value": "存续"}}),
        ("GET", "/api/stats/classes", None),
        ("GET", "/api/admin/audit", None),
    ]:
        r = api.client.request(method, path, json=body, headers=h)
        assert r.status_code == 403, path
    assert api.client.get("/api/me", headers=h).json()["fields"] == ["status", "uscc"]


def test_partner_fields_are_limited_to_shareable_ones(api: Api) -> None:
    r = api.client.post(
        "/api/admin/tokens",
        json={"partner": "zhujian", "fields": ["address"], "expires": "30d"},
        headers=api.h("admin"),
    )
    assert r.status_code == 422


def test_expired_and_revoked_tokens_fail(api: Api) -> None:
    token_id, token = _partner(api, ["status"])
    h = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/me", headers=h).status_code == 200
    with service_session(api.settings) as s:
        s.execute(
            update(ApiToken).where(ApiToken.id == token_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )  # fmt: skip
    r = api.client.get("/api/me", headers=h)
    assert r.status_code == 401 and "expired" in r.json()["detail"]

    token_id, token = _partner(api, ["status"])
    h = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/enterprises", headers=h).status_code == 200
    revoke = api.client.delete(f"/api/admin/tokens/{token_id}", headers=api.h("admin"))
    assert revoke.status_code == 204
    r = api.client.get("/api/enterprises", headers=h)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert api.client.get("/api/me", headers={"Authorization": "Bearer forged"}).status_code == 401
    assert api.client.get("/api/me").status_code == 401


@pytest.mark.parametrize(
    "rule",
    [
        {"field": "name", "op": "eq", "value": "x' OR '1'='1"},
        {"field": "name", "op": "contains", "value": "'; DROP TABLE enterprises; --"},
        {"field": "status", "op": "in", "value": ["存续') OR 1=1 --", "x"]},
        {"field": "industry_code", "op": "starts_with", "value": "%"},
    ],
)
def test_sql_in_a_screening_value_is_just_data(api: Api, rule: dict[str, object]) -> None:
    r = api.client.post("/api/screening", json={"rule": rule}, headers=api.h("jinshui"))
    assert r.status_code == 200 and r.json()["total"] == 0
    assert api.client.get("/api/enterprises", headers=api.h("jinshui")).json()["total"] == 12


@pytest.mark.parametrize(
    "rule",
    [
        {"field": "name; DROP TABLE enterprises", "op": "eq", "value": "x"},
        {"field": "1=1 OR name", "op": "eq", "value": "x"},
        {"field": "name", "op": "= '' OR 1=1 --", "value": "x"},
        {"field": "name", "op": "eq", "value": {"sql": "SELECT 1"}},
        {"field": "registered_capital", "op": "gt", "value": "0 OR 1=1"},
        {"sql": "SELECT * FROM enterprises"},
    ],
)
def test_sql_in_a_field_or_operator_is_refused(api: Api, rule: dict[str, object]) -> None:
    r = api.client.post("/api/screening", json={"rule": rule}, headers=api.h("jinshui"))
    assert r.status_code == 422


def test_web_sessions_need_the_csrf_token_to_change_anything(api: Api) -> None:
    from tests.integration.test_api_fixtures import TestClient, create_app

    with TestClient(create_app(api.settings, api.service)) as web:
        r = web.post("/api/auth/session", data={"username": "jinshui", "password": PASSWORD})
        assert r.status_code == 200
        cookies = r.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("rw_session="))
        assert "HttpOnly" in session and "SameSite=strict" in session
        csrf = r.json()["csrf_token"]
        assert web.get("/api/enterprises").status_code == 200  # reads need no CSRF token
        body = {"name": "csrf测试", "kind": "object"}
        assert web.post("/api/tags", json=body).status_code == 403
        assert web.post("/api/tags", json=body, headers={"X-CSRF-Token": "x"}).status_code == 403
        assert web.post("/api/tags", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_repeated_failures_lock_the_account(api: Api) -> None:
    api.users.add_user("lockme", "analyst", J, PASSWORD)
    for _ in range(api.service.lockout_failures):
        r = api.client.post("/api/auth/token", data={"username": "lockme", "password": "wrong-1"})
        assert r.status_code == 401
    r = api.client.post("/api/auth/token", data={"username": "lockme", "password": PASSWORD})
    assert r.status_code == 401 and "locked" in r.json()["detail"]
    api.users.unlock("lockme")
    assert api.login("lockme")


def test_roles_gate_administration(api: Api) -> None:
    assert api.client.get("/api/admin/audit", headers=api.h("jinshui")).status_code == 403
    assert api.client.get("/api/admin/users", headers=api.h("zhongyuan")).status_code == 403
    r = api.client.get("/api/enterprises/export", headers=api.h("zhongyuan"))
    assert r.status_code == 403  # inspectors do not export


def test_every_read_is_in_the_audit_log_and_the_chain_holds(api: Api) -> None:
    api.client.get(f"/api/enterprises/{uscc(7)}", headers=api.h("jinshui"))
    log = api.client.get(
        "/api/admin/audit?actor=jinshui&action=enterprise.read&limit=500", headers=api.h("admin")
    ).json()
    assert uscc(7) in {e["target"] for e in log["items"]}
    assert uscc(101) in {e["target"] for e in log["items"]}  # the refused guess, too
    assert api.client.get("/api/admin/audit/verify", headers=api.h("admin")).json()["ok"]
