"""Fuzzing the whole API: schemathesis over every operation the service serves (its live
OpenAPI schema, as committed in openapi.json: MatterHub's API, Globus Search and OPTIMADE), as anonymous, an ordinary
user, a dataset owner and an admin, over a hub holding public and private data and a
servable; and hypothesis over the query languages through HTTP (the hub's Lucene-style
``q``, Globus Search's ``q`` and OPTIMADE's ``filter``).  No request may get a 5xx.

tests/service/test_openapi_fuzz.py runs a short schemathesis pass (and the schema
conformance checks) in the default suite; this module's short versions run too, and
``make reliability`` runs the long ones.  The number of cases tried is recorded.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from ase.build import bulk
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from reliability_server import record, scale
from schemathesis.checks import not_a_server_error

from hub import Hub
from hub.service import create_app
from hub.service.testing import LiveServer

CALLERS = [None, "bob", "alice", "root"]
COUNTS: Counter[str] = Counter()


def triple(x: float) -> float:
    return 3 * x


class FuzzService:
    def __init__(self, home: Path, src: Path) -> None:
        self.hub = Hub(home, progress=False)
        self.tokens: dict[str | None, str | None] = {None: None}
        for name, groups in {"alice": ["lab"], "bob": [], "root": ["admin"]}.items():
            self.hub.users.ensure_user(name, groups)
            self.tokens[name], _ = self.hub.users.create_token(self.hub.principal, name, label="fuzz")
        alice = self.hub.acting_as(self.hub.users.authenticate(self.tokens["alice"]))
        for i, (vis, el) in enumerate([(["public"], "Cu"), (["group:lab"], "Fe")]):
            folder = src / f"d{i}"
            folder.mkdir(parents=True)
            bulk(el, "fcc" if el == "Cu" else "bcc", a=3.6 if el == "Cu" else 2.87).write(
                folder / f"{el}.cif"
            )
            (folder / "notes.txt").write_text(f"dataset {i}\n")
            assert alice.submit(folder, f"Dataset {i}", ["Ward, Logan"], visible_to=vis).ok
        alice.publish_servable(alice.describe(triple, name="triple"))
        self.app = create_app(self.hub)
        self.server = LiveServer(self.app).start()
        self.url = self.server.url
        self.turn = itertools.cycle(CALLERS)

    def headers(self) -> dict[str, str]:
        token = self.tokens[next(self.turn)]
        return {"Authorization": f"Bearer {token}"} if token else {}

    def close(self) -> None:
        self.server.stop()
        self.hub.close()


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzService]:
    root = tmp_path_factory.mktemp("api-fuzz")
    svc = FuzzService(root / "hub", root / "src")
    COUNTS.clear()
    try:
        yield svc
    finally:
        svc.close()
        if COUNTS:
            record(
                "fuzzing: every API operation (schemathesis) and the query languages over HTTP",
                cases=sum(v for k, v in COUNTS.items() if k.startswith("cases:")),
                server_errors=COUNTS["5xx"],
                **{
                    k.replace("cases:", "cases_").replace(" ", "_"): v
                    for k, v in COUNTS.items()
                    if k != "5xx"
                },
            )


#: The committed schema, which tests/service/test_openapi_fuzz.py checks is the one served.
schema = schemathesis.openapi.from_path(Path(__file__).resolve().parents[2] / "openapi.json")
FUZZ = settings(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _call(case: Any, svc: FuzzService) -> None:
    COUNTS["cases:schemathesis"] += 1
    response = case.call(base_url=svc.url, headers=svc.headers(), timeout=120)
    COUNTS[f"status {response.status_code // 100}xx"] += 1
    if response.status_code >= 500:
        COUNTS["5xx"] += 1
    case.validate_response(response, checks=[not_a_server_error])


@schema.parametrize()
@settings(FUZZ, max_examples=3, phases=[Phase.generate])  # the coverage phase only in the long run
def test_every_operation_short(case: Any, fuzz_service: FuzzService) -> None:
    _call(case, fuzz_service)


@pytest.mark.reliability
@schema.parametrize()
@settings(FUZZ, max_examples=scale(3, 60))
def test_every_operation_long(case: Any, fuzz_service: FuzzService) -> None:
    _call(case, fuzz_service)


# -- the query languages through HTTP ---------------------------------------------------------

HUB_QUERIES = [
    "material.elements:Cu AND crystal_structure.number_of_atoms:[1 TO 4]",
    'mdf.source_name:"dataset_0" OR NOT material.elements:(Fe OR Co)',
    "crystal_structure.volume:>=10.5 AND _exists_:material.composition",
    "files.filename:*.cif AND material.composition:/Cu.*/",
    "dc.titles.title:Datset~1 AND -mdf.resource_type:dataset",
]
OPTIMADE_FILTERS = [
    'elements HAS "Cu"',
    'elements HAS ALL "Cu","Fe" AND nelements>=2',
    'chemical_formula_reduced="Cu" OR nsites<5',
    'NOT id="x" AND elements LENGTH 1',
    'chemical_formula_descriptive STARTS WITH "C"',
]
PIECES = [
    *list(":\"()[]{}<>=*?~^+-!&|/\\ .,'"),
    "AND",
    "OR",
    "NOT",
    "TO",
    "HAS",
    "ALL",
    "ANY",
    "LENGTH",
    "\n",
    "\x00",
    "é",
]


@st.composite
def mutated(draw: st.DrawFn, valid: list[str]) -> str:
    q = draw(st.sampled_from(valid))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(q)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "cut"]))
        piece = draw(st.sampled_from(PIECES))
        q = {
            "insert": q[:i] + piece + q[i:],
            "delete": q[:i] + q[i + 1 :],
            "replace": q[:i] + piece + q[i + 1 :],
            "cut": q[:i],
        }[op]
    return q


def queries(valid: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        mutated(valid),
        st.text(max_size=60),
        st.sampled_from(["(" * 2000 + "a" + ")" * 2000, "NOT " * 2000 + "a"]),
    )


def _query_case(svc: FuzzService, q: str, filt: str) -> None:
    headers = svc.headers()
    with httpx.Client(base_url=svc.url, headers=headers, timeout=120) as http:
        answers = [
            http.get("/api/search", params={"q": q, "facets": ["material.elements"]}),
            http.post("/api/search", json={"q": q, "sort": "-crystal_structure.volume", "limit": 5}),
            http.post("/api/search/scroll", json={"q": q, "size": 2}),
            http.get("/api/servables", params={"q": q}),
            http.get("/globus-search/v1/index/mdf/search", params={"q": q, "advanced": "true"}),
            http.get("/optimade/v1/structures", params={"filter": filt}),
        ]
    for r in answers:
        COUNTS["cases:query requests"] += 1
        if r.status_code >= 500:
            COUNTS["5xx"] += 1
        if r.status_code != 404:  # an API that is not served
            assert r.status_code < 500, (q, filt, r.request.url, r.status_code, r.text[:500])
            assert r.status_code in (200, 400, 401, 422) or (
                r.status_code == 501 and "optimade" in str(r.request.url)
            ), (q, filt, r.status_code, r.text[:300])


def _queries(svc: FuzzService, examples: int) -> None:
    @settings(FUZZ, max_examples=examples)
    @given(queries(HUB_QUERIES), queries(OPTIMADE_FILTERS))
    def prop(q: str, filt: str) -> None:
        _query_case(svc, q, filt)

    prop()


def test_query_languages_over_http_short(fuzz_service: FuzzService) -> None:
    _queries(fuzz_service, 20)


@pytest.mark.reliability
def test_query_languages_over_http_long(fuzz_service: FuzzService) -> None:
    _queries(fuzz_service, scale(20, 600))
