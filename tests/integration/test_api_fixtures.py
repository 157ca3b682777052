"""A tiny two-district city, a service over it and accounts, shared by the API tests.

金水区 410105 (J, 12 enterprises) and 中原区 410102 (Z, 12), plus 开封 410200 (K, 4). J1 and Z1
share a legal representative; J2 holds shares in Z2: graph walks cross the district line
there. Penalties and abnormal listings give the screening something to find.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from riskwatch.api import create_app
from riskwatch.auth.config import ServiceSettings
from riskwatch.services.ingest import IngestService
from riskwatch.services.users import UserService
from riskwatch.settings import Settings
from riskwatch.store.models.users import forget_sessions
from tests.conftest import ENTERPRISE_HEADER, CityFolder, enterprise_row, make_uscc

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx; the client still works
    from fastapi.testclient import TestClient

__all__ = ["PASSWORD", "Api", "TestClient", "api", "create_app", "uscc"]

PASSWORD = "Passw0rd-riskwatch"
SECRET = "test-secret-key-that-is-long-enough-0123456789"
J, Z, K = "410105", "410102", "410200"


def uscc(i: int) -> str:
    """The uscc of enterprise i (1–12 金水, 101–112 中原, 201–204 开封)."""
    region = J if i < 100 else Z if i < 200 else K
    return make_uscc(i, region)


def _city(root: Path) -> CityFolder:
    city = CityFolder(root)
    rows = []
    for i in [*range(1, 13), *range(101, 113), *range(201, 205)]:
        row = enterprise_row(i, name=f"测试{i}有限公司", person=i)
        row[0] = uscc(i)
        row[7] = J if i < 100 else Z if i < 200 else K
        rows.append(row)
    rows[12][9] = rows[0][9]  # Z101 shares J1's legal representative
    city.csv("enterprises.csv", ENTERPRISE_HEADER, rows)
    city.csv(
        "investments.csv",
        ["统一社会信用代码", "股东类型", "股东证件号码", "股东名称", "认缴出资额(万元)"],
        [[uscc(102), "企业", uscc(2), "测试2有限公司", 50]],
    )
    city.csv(
        "penalties.csv",
        ["决定书文号", "统一社会信用代码", "处罚决定日期", "处罚机关", "违法行为类型", "处罚种类",
         "罚没金额(万元)"],
        [[f"罚{i}号", uscc(i), "2025-03-05", "市场监督管理局", "虚假宣传", "警告、罚款", 2]
         for i in (3, 4, 103, 104)],
    )  # fmt: skip
    city.csv(
        "abnormal_listings.csv",
        ["统一社会信用代码", "列入日期", "列入原因"],
        [[uscc(i), "2024-07-01", "未按规定报送年度报告"] for i in (5, 105)],
    )
    return city


@dataclass
class Api:
    """The running app, its settings and a token per account."""

    client: TestClient
    settings: Settings
    service: ServiceSettings
    users: UserService
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        """Authorization header of an account."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def login(self, name: str, password: str = PASSWORD) -> str:
        r = self.client.post("/api/auth/token", data={"username": name, "password": password})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("api")
    settings = Settings(home=root / "home", batch_rows=1000)
    service = ServiceSettings(
        environment="test", secret_key=SECRET, cookie_secure=False, rate_per_minute=10_000
    )
    city = _city(root / "city")
    report = IngestService(settings).run(city.root)
    assert not report.rejected_files
    users = UserService(settings, service)
    users.add_user("admin", "admin", "410000", PASSWORD)
    users.add_user("jinshui", "analyst", J, PASSWORD)
    users.add_user("zhongyuan", "inspector", Z, PASSWORD)
    users.add_user("zhengzhou", "analyst", "410100", PASSWORD)
    users.add_user("zhujian", "partner", "410100", None)
    with TestClient(create_app(settings, service)) as client:
        a = Api(client, settings, service, users, {})
        for name in ("admin", "jinshui", "zhongyuan", "zhengzhou"):
            a.tokens[name] = a.login(name)
        yield a
    forget_sessions()
