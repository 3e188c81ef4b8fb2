"""Fuzzing the whole API: schemathesis over every operation the service serves (its live
OpenAPI schema, as committed in openapi.json: MatterHub's API, Globus Search and OPTIMADE), as anonymous, an ordinary
user, a dataset owner and an admin, over a hub holding public and private data and a
servable; and hypothesis over the query languages through HTTP (the hub's Lucene-style
``q``, Globus Search's ``q`` and OPTIMADE's ``filter``).  No request may get a 5xx.

Three schemathesis cases in four are made of what the hub holds (real dataset names,
servables, users, tokens, queries and fields: :mod:`fuzz_world`), sent by the caller the
operation needs, so that they reach the routes' work and not only their refusals; the
fourth stays as generated.

tests/service/test_openapi_fuzz.py runs a short schemathesis pass (and the schema
conformance checks) in the default suite; this module's short versions run too, and
``make reliability`` runs the long ones.  The cases tried are recorded, by operation and
by status class (2xx, 4xx, 5xx).
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
from fuzz_world import World, caller_for
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from reliability_server import record, scale
from schemathesis.checks import not_a_server_error

from hub import Hub
from hub.service import create_app
from hub.service.testing import LiveServer

CALLERS = [None, "bob", "alice", "root"]
COUNTS: Counter[str] = Counter()
#: schemathesis's cases by operation: {"GET /api/search": {"cases": n, "2xx": a, "4xx": b, "5xx": c}}
ENDPOINTS: dict[str, Counter[str]] = {}


def triple(x: float) -> float:
    return 3 * x


def doomed(x: float) -> float:
    return x


class FuzzService:
    """A hub with public and private data and servables, served on loopback, and the
    :class:`~fuzz_world.World` of what it holds (victims for the operations that destroy)."""

    def __init__(self, home: Path, src: Path) -> None:
        self.hub = Hub(home, progress=False)
        self.tokens: dict[str | None, str | None] = {None: None}
        for name, groups in {"alice": ["lab"], "bob": [], "root": ["admin"]}.items():
            self.hub.users.ensure_user(name, groups)
            self.tokens[name], _ = self.hub.users.create_token(self.hub.principal, name, label="fuzz")
        victims, members = [f"victim{i}" for i in range(40)], [f"member{i}" for i in range(4)]
        for name in victims + members:
            self.hub.users.ensure_user(name, [])
        tokens = [
            self.hub.users.create_token(self.hub.principal, name, label="fuzz")[1].id
            for name in members
            for _ in range(10)
        ]
        alice = self.hub.acting_as(self.hub.users.authenticate(self.tokens["alice"]))
        submissions = []
        for i, (vis, el) in enumerate([(["public"], "Cu"), (["group:lab"], "Fe")]):
            folder = src / f"d{i}"
            folder.mkdir(parents=True)
            bulk(el, "fcc" if el == "Cu" else "bcc", a=3.6 if el == "Cu" else 2.87).write(
                folder / f"{el}.cif"
            )
            (folder / "notes.txt").write_text(f"dataset {i}\n")
            sub = alice.submit(folder, f"Dataset {i}", ["Ward, Logan"], visible_to=vis)
            assert sub.ok
            submissions.append(sub.id)
        pending = []
        for i in range(8):
            folder = src / f"pending{i}"
            folder.mkdir(parents=True)
            (folder / "notes.txt").write_text(f"waiting {i}\n")
            pending.append(alice.submit(folder, f"Pending {i}", ["Ward, Logan"], curate=True).id)
        alice.publish_servable(alice.describe(triple, name="triple"))
        for _ in range(12):
            alice.publish_servable(alice.describe(doomed, name="doomed"))
        for _ in range(3):
            alice.publish_servable(alice.describe(doomed, name="worn"))
        task = alice.run("alice/triple", 2.0, asynchronous=True)
        datasets = self.hub.search(
            "*", kinds=["dataset"], filters={"mdf.status": "published"}, limit=100
        ).hits
        records = self.hub.search("*", kinds=["record"], limit=100).hits
        self.world = World(
            datasets=[h.document["mdf"]["source_id"] for h in datasets]
            + [h.document["mdf"]["source_name"] for h in datasets],
            source_names=sorted({h.document["mdf"]["source_name"] for h in datasets}),
            files=["Cu.cif", "Fe.cif", "notes.txt"],
            records=[h.id for h in records],
            servable=("alice", "triple"),
            doomed=("alice", "doomed"),
            doomed_versions=list(range(1, 13)),
            worn=("alice", "worn"),
            users=["alice", "bob", "root"],
            victims=victims,
            members=members,
            tokens=tokens,
            submissions=submissions,
            pending=pending,
            tasks=[task.id],
            fields=sorted(self.hub.fields()),
        )
        self.app = create_app(self.hub)
        self.server = LiveServer(self.app).start()
        self.url = self.server.url
        self.turn = itertools.cycle(CALLERS)
        self.turns: Counter[str] = Counter()

    def headers(self) -> dict[str, str]:
        token = self.tokens[next(self.turn)]
        return {"Authorization": f"Bearer {token}"} if token else {}

    def headers_for(self, case: Any) -> dict[str, str]:
        """The headers of the caller :func:`fuzz_world.caller_for` picks for ``case``."""
        op = case.operation
        self.turns[op.label] += 1
        token = self.tokens[caller_for(op.method, op.path, self.turns[op.label])]
        return {"Authorization": f"Bearer {token}"} if token else {}

    def close(self) -> None:
        self.server.stop()
        self.hub.close()


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzService]:
    root = tmp_path_factory.mktemp("api-fuzz")
    svc = FuzzService(root / "hub", root / "src")
    COUNTS.clear()
    ENDPOINTS.clear()
    try:
        yield svc
    finally:
        svc.close()
        if ENDPOINTS:
            total = Counter[str]()
            for counts in ENDPOINTS.values():
                total.update(counts)
            record(
                "fuzzing: every API operation (schemathesis)",
                cases=total["cases"],
                server_errors=total["5xx"],
                status_2xx=total["2xx"],
                status_4xx=total["4xx"],
                made_valid=svc.world.made.get("valid", 0),
                left_as_generated=svc.world.made.get("as generated", 0),
                endpoints={label: dict(counts) for label, counts in sorted(ENDPOINTS.items())},
            )
        if COUNTS:
            record(
                "fuzzing: the query languages over HTTP (hypothesis)",
                cases=COUNTS["cases"],
                server_errors=COUNTS["5xx"],
                **{k.replace(" ", "_"): v for k, v in COUNTS.items() if k not in ("cases", "5xx")},
            )


#: The committed schema, which tests/service/test_openapi_fuzz.py checks is the one served.
schema = schemathesis.openapi.from_path(Path(__file__).resolve().parents[2] / "openapi.json")
FUZZ = settings(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _call(case: Any, svc: FuzzService) -> None:
    """Send ``case`` (three in four made of what the hub holds) as the caller its operation needs.

    The cases of the coverage phase are made when the tests are collected, before the hub
    exists, so the valid values go in here rather than in a schemathesis hook.
    """
    counts = ENDPOINTS.setdefault(case.operation.label, Counter())
    counts["cases"] += 1
    case = svc.world.make_valid(case)
    response = case.call(base_url=svc.url, headers=svc.headers_for(case), timeout=120)
    counts[f"{response.status_code // 100}xx"] += 1
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
        COUNTS["cases"] += 1
        COUNTS[f"status {r.status_code // 100}xx"] += 1
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
