"""The OPTIMADE routes under fuzzing (schemathesis, from the live service's OpenAPI schema):
no 5xx, and every response, errors included, as the schema documents it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.shared_data


def test_fuzzed_optimade_routes_answer_as_documented(live_optimade: str, structure_hub: Any) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    base = live_optimade.removesuffix("/optimade")
    schema = schemathesis.openapi.from_dict(httpx.get(f"{base}/openapi.json", timeout=60).json())
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_headers_conformance, response_schema_conformance]  # fmt: skip
    headers = {"Authorization": f"Bearer {structure_hub.tokens['bob']}"}
    fuzzed = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/optimade/"):
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def fuzz(case: Any) -> None:
            case.call_and_validate(base_url=base, headers=headers, checks=checks)

        fuzz()
        fuzzed.append(operation.path)
    assert set(fuzzed) >= {"/optimade/versions", "/optimade/v1/info", "/optimade/v1/structures",
                           "/optimade/v1/structures/{entry_id}"}  # fmt: skip
