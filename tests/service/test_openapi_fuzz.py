"""The committed ``openapi.json`` is what the service serves, and schemathesis, driving the
live service from it, finds no 5xx and no response that breaks the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO / "openapi.json"

schema = schemathesis.openapi.from_path(SCHEMA_FILE)

#: What the issue asks of the API under fuzzing: no 5xx, and every response as the schema says.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_served_schema_is_the_committed_one(service: Any) -> None:
    served = httpx.get(f"{service.url}/openapi.json").json()
    committed = json.loads(SCHEMA_FILE.read_text())
    assert served == committed, "the API changed: run `make openapi` and commit openapi.json"


@pytest.fixture(scope="module")
def fuzz_base(service: Any) -> str:
    return str(service.url)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_server_errors_and_conforming_responses(case: Any, fuzz_base: str, service: Any) -> None:
    headers = {"Authorization": f"Bearer {service.tokens['bob']}"}
    case.call_and_validate(base_url=fuzz_base, headers=headers, checks=CHECKS)
