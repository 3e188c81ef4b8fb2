"""The engine's own failures (hub/index/failures.py) and the values that caused them
(hub/index/query.py): ranges tantivy panicked on are answered, unbounded proximities and
boosts are refused, and whatever the engine still refuses or panics on is a plain 400."""

from __future__ import annotations

import pytest

from hub.exceptions import QueryError
from hub.index import query
from hub.index.engine import SearchIndex
from hub.index.failures import engine_errors
from hub.index.query import engine_number_type

from .conftest import ADMIN, index_of

DOCS = [{"id": "a", "n": 5}, {"id": "b", "n": 2.5}, {"id": "c", "n": -3}, {"id": "d", "n": 1e25}]


class PanicException(BaseException):
    """What pyo3 raises for a Rust panic (matched by its name, as the binding's class is not exported)."""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return index_of(tmp_path_factory.mktemp("failures") / "index", {"s": DOCS})


@pytest.mark.parametrize(
    ("q", "ids"),
    [
        ("n:[0 TO 1e20]", {"a", "b"}),  # i64 and f64 bounds: tantivy panicked
        ("n:{0 TO 1e20}", {"a", "b"}),
        ("n:[-1e20 TO 10]", {"a", "b", "c"}),
        ("n:[0 TO 18446744073709551615]", {"a", "b"}),  # i64 and u64
        ("n:[0 TO 9223372036854775808]", {"a", "b"}),
        ("n:[2 TO 2.5]", {"b"}),
        ("n:[1e-300 TO 1]", set()),
        ("n:[-1e300 TO 1e300]", {"a", "b", "c", "d"}),
        ("n:[1e20 TO 1e30]", {"d"}),
        ("n:1e400", set()),  # not a number the engine takes: no match, no error
    ],
)
def test_ranges_of_any_numbers_are_answered(index: SearchIndex, q: str, ids: set[str]) -> None:
    assert {h.id for h in index.search(q, ADMIN, limit=10).hits} == ids


def test_the_engine_types_of_numbers() -> None:
    assert [engine_number_type(v) for v in (0.0, -(2.0**63), 2.0**63, 2.0**64, 2.5, 1e20)] == [
        "i64",
        "i64",
        "u64",
        "f64",
        "f64",
        "f64",
    ]


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ('"a b"~99999999999999999999', "proximity"),  # an OverflowError (a 500) before
        ('"a b"~4294967296', "proximity"),
        ("a^99999999999999999999", "boost"),
        ("a~3", "fuzzy distance"),
    ],
)
def test_unbounded_proximities_and_boosts_are_refused(index: SearchIndex, q: str, words: str) -> None:
    with pytest.raises(QueryError, match=words) as info:
        index.search(q, ADMIN)
    assert info.value.status_code == 400


def test_a_panic_is_a_plain_error() -> None:
    with pytest.raises(QueryError) as info, engine_errors("n:[0 TO 1]", "facets: "):
        raise PanicException("called `Option::unwrap()` on a `None` value at range_query_fastfield.rs:283:64")
    assert str(info.value).startswith("facets: the search engine could not run this query")
    assert "unwrap" not in str(info.value) and ".rs" not in str(info.value)
    assert info.value.status_code == 400


def test_a_refusal_is_a_plain_error() -> None:
    with pytest.raises(QueryError) as info, engine_errors("q"):
        raise ValueError("Aborting aggregation because memory limit was exceeded. Current: 18446.74 PB")
    assert "memory" not in str(info.value) and "refused" in str(info.value)


def test_other_exceptions_pass() -> None:
    with pytest.raises(KeyboardInterrupt), engine_errors("q"):
        raise KeyboardInterrupt


def test_the_compiler_names_no_engine_internals(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise PanicException("Can't create a term for Field `kw.n`: tantivy/src/schema/term.rs:99")

    monkeypatch.setattr(query.Compiler, "_word", refuse)
    with pytest.raises(QueryError) as info:
        index.search("n:5", ADMIN)
    assert str(info.value).startswith("cannot run this part of the query")
    assert "kw.n" not in str(info.value) and "term.rs" not in str(info.value)
    assert info.value.position == 2  # the word the engine refused
