"""Schemathesis fuzzes every documented operation: whatever it sends, never a server error,
every answer matches the documented response schemas, and invalid data is rejected."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
)

from tests.conftest import bearer

CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection]


def test_no_operation_fails_or_breaks_its_contract(app, tenant_a, platform_token) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        fuzz_operation(operation, platform_token if "/admin/tenants" in operation.path
                       else tenant_a.token)


def fuzz_operation(operation, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=10, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case) -> None:
        case.call_and_validate(headers=bearer(token), checks=CHECKS)

    fuzz()
