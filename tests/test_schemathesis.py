"""Property-based run of the whole OpenAPI contract (schemathesis): no input gets a 5xx,
and every answer matches what the document promises."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def caller(app, make_member, auth_headers):
    """An admin (so that every operation is reachable) with a fresh session per example."""
    admin = make_member(role="admin", display_name="模糊测试员")

    def headers() -> dict[str, str]:
        return auth_headers(admin)

    return headers


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_breaks_the_api(app, case, caller):
    # every operation and example runs in this one test's transaction: each example is rolled
    # back after it, so examples start alike and the tables do not grow through the whole run
    # (on PostgreSQL the admin's thousands of sessions made every later sign-in slower)
    example = app.extensions["test_connection"].begin_nested()
    try:
        headers = caller()
        if case.operation.path == "/api/v1/auth/refresh":
            headers = {}  # let it send what it generates; a wrong token type is a 401, not a 500
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)
    finally:
        example.rollback()
