"""Limits on the size of a query, for whoever runs queries for others (the service).

:func:`check_query` measures a query before it is parsed: its length, how many
clauses it holds (words, phrases and regular expressions: each is one query of the
engine), how many of those are patterns (wildcards, regular expressions and fuzzy
words, which each read the index's term dictionary) and how deeply it nests
(parentheses, ``NOT``, ``-``, ``+`` and ``field:``).  It lexes the query once, in time
linear in its length, and stops at the first limit passed; the parse that follows is
linear too (:mod:`hub.index.lucene`).

    check_query("material.elements:(Co OR Fe)", QueryLimits())   # passes
"""

from __future__ import annotations

from dataclasses import dataclass, field

from luqum import tree
from luqum.exceptions import IllegalCharacterError

from hub.exceptions import QueryError, excerpt
from hub.index import lucene

#: Tokens that are one clause of the engine's query each.
_LEAVES = frozenset({"TERM", "PHRASE", "REGEX"})
#: Tokens that nest what follows them one level deeper.
_UNARY = frozenset({"NOT", "MINUS", "PLUS", "COLUMN"})


@dataclass(frozen=True)
class QueryLimits:
    """How large a query may be.

    Attributes
    ----------
    max_length : int
        Characters.
    max_clauses : int
        Words, phrases and regular expressions (Lucene's default: 1,024).
    max_patterns : int
        Wildcard words, regular expressions and fuzzy words (``co*``, ``/c.o/``, ``cobalt~``):
        each reads the whole term dictionary of its field, so their cost grows with the hub.
    max_depth : int
        Levels of nesting: parentheses, ``NOT``, ``-``, ``+`` and ``field:``.
    """

    max_length: int = 32_768
    max_clauses: int = 1_024
    max_patterns: int = 16
    max_depth: int = 32


@dataclass
class _Count:
    """What :func:`check_query` has counted so far."""

    clauses: int = 0
    patterns: int = 0
    #: the levels open here, and the most levels open anywhere so far
    depth: int = 0
    deepest: int = 0
    #: the levels that each open parenthesis added (itself and the operators before it)
    opened: list[int] = field(default_factory=list)
    #: operators (NOT, -, +, field:) waiting for what they apply to
    pending: int = 0
    #: the kind of the last word, phrase or regular expression
    last: str = ""


def check_query(query: str, limits: QueryLimits) -> None:
    """Check that ``query`` is within ``limits`` before it is parsed.

    A query the lexer cannot read is left to the parser, which says where.

    Raises
    ------
    QueryError
        For a query past a limit, saying which, pointing at where it was passed.
    """
    if len(query) > limits.max_length:
        raise QueryError(
            f"the query is {len(query):,} characters long; this service takes at most {limits.max_length:,}",
            excerpt(query),
            hint="search for fewer values at once, or split the query into several searches",
        )
    lexer = lucene.lexer()
    lexer.input(query)
    count = _Count()
    try:
        for token in iter(lexer.token, None):
            _step(count, token.type, token.value)
            _check(count, limits, query, token.lexpos)
    except IllegalCharacterError:
        return


def _step(count: _Count, kind: str, value: object) -> None:
    if kind in _UNARY:
        count.pending += 1
    elif kind == "LPAREN":
        count.opened.append(count.pending + 1)
        count.depth += count.pending + 1
        count.pending = 0
    elif kind == "RPAREN":
        count.depth -= count.opened.pop() if count.opened else 0
    elif kind in _LEAVES:
        count.clauses += 1
        if kind == "REGEX" or (isinstance(value, tree.Word) and value.has_wildcard()):
            count.patterns += 1
        count.last = kind
    elif kind == "APPROX" and count.last == "TERM":  # a fuzzy word (after a phrase: proximity)
        count.patterns += 1
    count.deepest = max(count.deepest, count.depth + count.pending)
    if kind in _LEAVES:
        count.pending = 0


def _check(count: _Count, limits: QueryLimits, query: str, position: int) -> None:
    hint = "search for fewer values at once, or split the query into several searches"
    if count.clauses > limits.max_clauses:
        raise QueryError(
            f"the query holds more than {limits.max_clauses:,} words, phrases and patterns; "
            f"this service takes at most {limits.max_clauses:,}",
            query,
            position,
            hint,
        )
    if count.patterns > limits.max_patterns:
        raise QueryError(
            f"the query holds more than {limits.max_patterns:,} wildcards, regular expressions and "
            f"fuzzy words; this service takes at most {limits.max_patterns:,}",
            query,
            position,
            "use exact words or ranges where you can",
        )
    if count.deepest > limits.max_depth:
        raise QueryError(
            f"the query nests more than {limits.max_depth} levels deep (parentheses, NOT, -, +, field:); "
            f"this service takes at most {limits.max_depth}",
            query,
            position,
            "use fewer parentheses and NOTs",
        )
