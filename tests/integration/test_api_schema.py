"""schemathesis against the OpenAPI schema: generated requests never cause a server error."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.integration.test_api_fixtures import Api, api

_ = api
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # starlette's httpx notice
]
# Logging out or revoking would end the admin token the run itself uses.
SKIP = {("POST", "/api/auth/logout"), ("DELETE", "/api/admin/tokens/{token_id}")}


def test_no_server_errors(api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    headers = api.h("admin")
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        if (operation.method.upper(), operation.path) in SKIP:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
        tested += 1
    assert tested >= 20
