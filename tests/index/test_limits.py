"""Query limits measured before the parse (hub/index/limits.py)."""

from __future__ import annotations

import time

import pytest

from hub.exceptions import QueryError
from hub.index.limits import QueryLimits, check_query

LIMITS = QueryLimits(max_length=1_000, max_clauses=10, max_patterns=3, max_depth=4)


@pytest.mark.parametrize(
    "query",
    [
        "*",
        "material.elements:(Co OR Fe) AND NOT dft.converged:false",
        " OR ".join(f"w{i}" for i in range(10)),
        "co* /c.o/ cobalt~",
        '"cobalt oxide"~3 "a b"~2 "c d"~1 "e f"~4',  # proximity is not fuzzy
        "((((a))))",
        "NOT NOT x:(y)",
        "a:b:c",
        "x:[1 TO 2] AND y:>=3",
        "a \x00 b",  # what the lexer cannot read is left to the parser
    ],
)
def test_within_the_limits(query: str) -> None:
    check_query(query, LIMITS)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("a" * 1_001, "1,001 characters"),
        (" OR ".join(f"w{i}" for i in range(11)), "more than 10 words"),
        ('a "b c" /d/ e f g h i j k l', "more than 10 words"),
        ("co* ca? /x/ y~", "more than 3 wildcards"),
        ("(((((a)))))", "more than 4 levels"),
        ("NOT NOT NOT NOT NOT a", "more than 4 levels"),
        ("x:(y:(z:a))", "more than 4 levels"),
    ],
)
def test_past_a_limit(query: str, words: str) -> None:
    with pytest.raises(QueryError, match=words) as info:
        check_query(query, LIMITS)
    assert info.value.status_code == 400 and info.value.hint
    assert len(info.value.to_dict()["query"]) <= 203


def test_a_huge_query_is_measured_in_no_time() -> None:
    limits = QueryLimits()
    start = time.process_time()
    for query in ["w " * 100_000, "(" * 100_000, "a" * 10_000_000]:
        with pytest.raises(QueryError):
            check_query(query, limits)
    assert time.process_time() - start < 5
