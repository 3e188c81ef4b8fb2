"""Any string is a query that runs or a QueryError that points at the problem:
never another exception (not a luqum error, not a tantivy ValueError, not a
Rust panic, not a RecursionError)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub import Hub
from hub.exceptions import QueryError
from hub.index.engine import SearchIndex

from .conftest import ADMIN, index_of
from .test_conformance import CASES

DOCS = [
    {"id": "a", "kw": "alpha", "n": 2, "x": 2.5, "b": True, "d": "2020-01-05", "tags": ["x", "Y"], "t": "cobalt oxide"},
    {"id": "b", "kw": "Beta", "n": -1, "x": 3, "b": False, "d": "2021-06-30T10:00:00Z", "nested": [{"k": "v"}]},
    {"id": "c", "kw": "2020", "n": 1e20, "t": "line one\nline two", "custom": {"gap": 1.5}},
]  # fmt: skip
SYNTAX = [
    *list(':"()[]{}<>=*?~^+-!&|/\\ .,'),
    "AND",
    "OR",
    "NOT",
    "TO",
    " AND ",
    " OR ",
    " TO ",
    "_exists_",
    "\n",
]
VALID = [q for q, _ in CASES] + [
    "kw:alpha AND n:[1 TO 3]",
    "n:>=-1 OR x:<2.5",
    "d:[2020-01-01 TO 2020-12-31] AND NOT b:false",
    "t:/line.*two/ OR t:lin*",
    '"cobalt oxide"~2 AND _exists_:tags',
    "kw:(alpha OR Beta) AND -(n:2)",
    "custom.gap:{1 TO 2] AND nested.k:v^2",
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return index_of(tmp_path_factory.mktemp("fuzz") / "index", {"s1": DOCS[:2], "s2": DOCS[2:]})


def run(index: SearchIndex, query: str) -> None:
    """Search, facet, sort and scroll ``query``; only QueryError may come out."""
    try:
        index.search(query, ADMIN, limit=5, facets=["kw"])
        index.search(query, ADMIN, limit=5, sort="-n")
        list(index.scroll(query, ADMIN, batch=2))
    except QueryError as exc:
        check_error(exc, query)
    except BaseException as exc:  # a Rust panic is a BaseException
        raise AssertionError(f"{query!r} raised {type(exc).__name__}: {exc}") from exc


def check_error(exc: QueryError, query: str) -> None:
    assert exc.query == query
    if exc.position is not None:
        assert 0 <= exc.position <= len(query), (query, exc.position)
    if str(exc).startswith("cannot parse"):
        assert exc.position is not None, f"a syntax error without a position: {exc}"
    assert exc.status_code == 400


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid query with a few characters inserted, deleted, replaced or cut off."""
    q = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(q)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "cut", "double"]))
        piece = draw(st.sampled_from(SYNTAX))
        if op == "insert":
            q = q[:i] + piece + q[i:]
        elif op == "delete":
            q = q[:i] + q[i + 1 :]
        elif op == "replace":
            q = q[:i] + piece + q[i + 1 :]
        elif op == "cut":
            q = q[:i]
        else:
            q = q[:i] + q[i:] + q[i:]
    return q


FUZZ = settings(
    max_examples=250, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@FUZZ
@given(st.text(max_size=40))
@example("(" * 3000 + "a" + ")" * 3000)
@example("NOT " * 3000 + "a")
@example("n:[2 TO 2.5]")  # tantivy panicked on bounds it typed differently
@example("n:>=-1e-7")  # tantivy's parser rejects -1e-07
@example("kw:[a TO true]")
@example("d:9999-12-31T23:59:59Z")
@example("x:/(?=a)/")
@example("x:/[/")
@example("a && b")
@example("\x00")
@example("kw:" + "a*" * 400)
def test_random_text(index, query):
    run(index, query)


@FUZZ
@given(
    st.lists(
        st.sampled_from([*SYNTAX, "a", "kw", "n", "x:", "d:", "0", "1.5", "2020-01-05", "-"]), max_size=12
    )
)
def test_random_syntax(index, pieces):
    run(index, "".join(pieces))


@FUZZ
@given(mutated())
def test_mutated_valid_queries(index, query):
    run(index, query)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    st.one_of(st.text(max_size=20), st.sampled_from(["-n", "kw", "n:desc", "nested.k asc", "_score", "-"]))
)
def test_random_sort_and_facets(index, spec):
    try:
        index.search("*", ADMIN, sort=spec, facets=[spec, {"field": spec or "x", "type": "histogram"}])
    except QueryError:
        pass


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("kw:(alpha", 9),  # the end, where the parenthesis is missing
        ("kw:alpha AND", 12),
        ("x:[1 TO", 7),
        ("n:>=-1 AND (", 12),  # positions count the query as written
        ("kw:/[/", 3),
        ("n:[1 TO alpha]", 2),
        ("kw:a && kw:b", 5),
        ("1x:foo", 0),
    ],
)
def test_errors_point_at_the_problem(index, query, position):
    with pytest.raises(QueryError) as info:
        index.search(query, ADMIN)
    assert info.value.position == position, str(info.value)
    assert f"(position {position})" in str(info.value) and info.value.hint


def test_through_the_hub(tmp_path: Path, minerals: Path):
    hub = Hub(tmp_path / "hub", progress=False)
    hub.submit(minerals, "COD minerals", ["Ward, Logan"])
    for query in ["material.elements:(Co", "x:[a TO 1]", "(" * 600 + "a" + ")" * 600, "a && b", "x:/(?=a)/"]:
        with pytest.raises(QueryError) as info:
            hub.search(query)
        check_error(info.value, query)
    assert hub.search("material.elements:Co AND crystal_structure.volume:>=-1").total == 2
