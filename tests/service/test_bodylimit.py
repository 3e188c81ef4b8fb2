"""The body limits' parts (hub/service/bodylimit.py): which limit a route has, and the
nesting of a JSON text measured without decoding it.  tests/reliability/test_request_limits.py
drives them through a live ``matterhub serve``."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.exceptions import ValidationError
from hub.service.bodylimit import FORM_ROOM, BodyLimitMiddleware, json_depth_exceeds, json_field
from hub.service.settings import ServiceSettings


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


TRICKY = st.sampled_from(['a"[b', "\\", '\\"', '"]', "{[", "", '\\\\"[[[', "]]]}}}"])
JSON = st.recursive(
    st.one_of(st.none(), st.integers(), TRICKY, st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(TRICKY, st.text(max_size=3)), inner, max_size=3),
    ),
    max_leaves=30,
)


@settings(max_examples=600, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(JSON)
def test_the_depth_is_the_decoders(value: Any) -> None:
    text = json.dumps(value).encode()
    depth = _depth(value)
    for limit in (max(depth - 1, 0), depth, depth + 1):
        assert json_depth_exceeds(text, limit) == (depth > limit), (text, depth, limit)


def test_large_bodies_are_measured_in_linear_time() -> None:
    bodies = [
        json.dumps([["[", "{"]] * 400_000).encode(),
        json.dumps([{"a": "b"}] * 400_000).encode(),
        json.dumps(["ab"] * 1_000_000).encode(),
        b"[" + b"[]," * 2_000_000 + b"[]]",
    ]
    start = time.process_time()
    assert not any(json_depth_exceeds(b, 64) for b in bodies)
    assert time.process_time() - start < 10
    assert json_depth_exceeds(b"[" * 65 + b"]" * 65, 64)


def test_json_fields() -> None:
    assert json_field('{"a": [1]}', "metadata", 64) == {"a": [1]}
    with pytest.raises(ValidationError, match="more than 64 levels"):
        json_field("[" * 10_000, "metadata", 64)
    with pytest.raises(ValidationError, match="metadata is not JSON"):
        json_field("{", "metadata", 64)


def test_each_route_has_its_limit() -> None:
    s = ServiceSettings(max_upload_bytes=10_000, max_run_body_bytes=500, max_body_bytes=100)
    middleware = BodyLimitMiddleware(lambda *a: None, settings=s)  # type: ignore[arg-type,return-value]
    for method, path, limit in [
        ("POST", "/api/submissions/upload", 10_000 + FORM_ROOM),
        ("POST", "/api/servables", 10_000 + FORM_ROOM),
        ("POST", "/api/servables/", 10_000 + FORM_ROOM),
        ("POST", "/api/servables/alice/triple/run", 500),
        ("POST", "/api/servables/alice/triple/run/", 500),
        ("POST", "/api/servables/search", 100),
        ("POST", "/api/search", 100),
        ("PATCH", "/api/datasets/x", 100),
        ("GET", "/api/servables/a/b/run", 100),
    ]:
        assert middleware.limit_for({"method": method, "path": path}) == limit, (method, path)
