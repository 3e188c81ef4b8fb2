"""The query language: Lucene syntax parsed with luqum's grammar, compiled to tantivy queries.

The parse (:mod:`hub.index.lucene`) takes time linear in the query's length.

- bare words search every string of a document (``cobalt oxide``);
- ``field:value`` on any dotted path matches the exact value, or a word of it
  when the value is text (``material.elements:Co``, ``dc.titles.title:oxide``);
- phrases (``"cobalt oxide"``), proximity (``"cobalt oxide"~3``);
- AND, OR, NOT, ``+``, ``-``, parentheses; words side by side are joined by AND;
  NOT is the complement, also inside OR (``a OR NOT b``); in a field, ``-8`` is
  the number -8 (``dft.total_energy:-8``, ``>=-5``, ``(-8 OR -7.5)``), ``NOT 8``
  excludes 8;
- ranges on numbers, dates and keywords: ``[a TO b]``, ``{a TO b}``, ``>=x``, ``<x``;
- fuzzy ``term~`` (2 edits), ``term~1`` and ``term~0`` (exact); wildcards ``*``
  and ``?``; regular expressions ``/.../`` (Rust syntax, whole value; ``.`` matches
  newlines, as in Lucene); ``_exists_:field``; boosts ``^2``.

A day (``2020-12-31``) stands for the whole day, in a term and as a range bound
(as in Elasticsearch): ``[2020-01-01 TO 2020-12-31]`` includes all of December
31st, ``>2020-12-31`` starts on January 1st.  A quoted value on a field matches
typed values too (``custom.gap:"2.5"``, ``dft.converged:"true"``).

A malformed query raises :class:`~hub.exceptions.QueryError` with the position
of the problem and a hint, never another exception.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import tantivy
from luqum import tree
from luqum.exceptions import ParseError

from hub.exceptions import QueryError, excerpt, quoted
from hub.index import lucene
from hub.index.analysis import MAX_DATE, parse_date, positioned_tokens, rfc3339, tokenize
from hub.index.failures import engine_failure, is_panic

Occur = tantivy.Occur
Q = tantivy.Query

#: Field names MDF/Globus users write, and the paths they mean here.
ALIASES = {
    "dc.creators.creatorName": "dc.creators.name",
    "dc.titles.titleType": "dc.titles.titleType",
    "dc.publisher": "dc.publisher",
}
EXISTS = "_exists_"
ALL_TYPES = frozenset({"keyword", "number", "boolean", "date"})
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_RUST_META = set("\\.+*?()|[]{}^$#&-~")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Words tantivy's query parser reads as a boolean or a float: no keyword range can use them.
_ENGINE_TYPED = re.compile(r"^(true|false|[+-]?(?i:inf|infinity|nan))$")
#: An escaped character, or a wildcard, in a Lucene term as written.
_WILDCARD = re.compile(r"\\(.)|([*?])", re.DOTALL)
MAX_FUZZY = 2
#: The largest proximity (``"a b"~N``) and boost (``a^N``) a query may give.
MAX_SLOP = 1_000
MAX_BOOST = 1e6
#: Lucene's C-style operators, which luqum reads as words.
_OPERATORS = ("&&", "||")


def rust_escape(text: str) -> str:
    """Escape ``text`` for tantivy's (Rust) regex syntax."""
    return "".join("\\" + c if c in _RUST_META else c for c in text)


def wildcard_regex(value: str) -> str:
    r"""A Rust regex for a Lucene wildcard term as written (escapes included).

    ``*`` is any characters, ``?`` one character (newlines included), ``\*`` a star.
    """
    out = []
    pos = 0
    for m in _WILDCARD.finditer(value):
        out.append(rust_escape(value[pos : m.start()]))
        if m.group(1) is not None:
            out.append(rust_escape(m.group(1)))
        else:
            out.append(".*" if m.group(2) == "*" else ".")
        pos = m.end()
    out.append(rust_escape(value[pos:]))
    return "(?s:" + "".join(out) + ")"


def number_text(value: float) -> str:
    """``value`` as tantivy's query parser reads it (it rejects ``-1e-07``)."""
    return format(Decimal(repr(value)), "f")


def engine_number_type(value: float) -> str:
    """How tantivy types a number bound of a JSON field: ``i64``, ``u64`` or ``f64``.

    A whole number that fits 64 signed bits is an ``i64``, one that fits 64 unsigned
    bits a ``u64``, anything else an ``f64``.  A range whose two bounds it types
    differently makes it panic, so such a range is run as two one-sided ranges.
    """
    if value.is_integer() and -(2**63) <= value < 2**63:
        return "i64"
    if value.is_integer() and 0 <= value < 2**64:
        return "u64"
    return "f64"


#: ``field:>=-5``: luqum's lexer rejects a minus after ``<``/``>``, so it is escaped first.
_NEGATIVE_BOUND = re.compile(r"(?<=:)([<>]=?)-(?=\.?\d)")


def _escape_negative_bounds(query: str) -> tuple[str, list[int]]:
    r"""``query`` with ``:>=-5`` written ``:>=\-5``, and where backslashes were inserted."""
    inserted: list[int] = []

    def escape(m: re.Match[str]) -> str:
        inserted.append(m.end(1))
        return m.group(1) + "\\-"

    return _NEGATIVE_BOUND.sub(escape, query), inserted


def _original_pos(pos: int | None, inserted: list[int]) -> int | None:
    return None if pos is None else pos - sum(1 for i in inserted if i < pos)


def parse(query: str) -> tree.Item:
    """The luqum tree of ``query``, or a QueryError pointing at the problem."""
    return _parse(query)[0]


def _parse(query: str) -> tuple[tree.Item, list[int]]:
    if not query.strip():
        raise QueryError("the query is empty", query, 0, "search everything with *")
    text, inserted = _escape_negative_bounds(query)
    try:
        return lucene.parse(text), inserted
    except ParseError as exc:
        text = _quoting_briefly(str(exc))
        m = re.search(r"position (\d+)", text)
        pos = _original_pos(int(m.group(1)), inserted) if m else len(query)
        hint = (
            "check parentheses and quotes"
            if "unmatched" in text or m is None
            else ('quote or escape special characters (\\: \\( \\) \\[ \\] \\" \\/)')
        )
        raise QueryError(
            f"cannot parse the query: {text.removeprefix('Syntax error in input : ')}", query, pos, hint
        ) from None
    except RecursionError:
        raise _too_deep(query) from None
    except Exception as exc:  # luqum's lexer can raise plain errors on odd input
        raise QueryError(
            f"cannot parse the query: {_quoting_briefly(str(exc))}", query, 0, "check the syntax"
        ) from None


#: A token quoted by the parser's messages (luqum's and PLY's: ``unexpected  'x' at position 3``).
_QUOTED_TOKEN = re.compile(r"'(.*)'(?= at position)", re.DOTALL)


def _quoting_briefly(message: str) -> str:
    """The parser's ``message`` with the token it quotes cut to an excerpt.

    PLY quotes the rest of the input after a character its lexer cannot read.
    """
    return _QUOTED_TOKEN.sub(lambda m: repr(excerpt(m.group(1))), message, count=1)


def _too_deep(query: str) -> QueryError:
    return QueryError(
        "the query nests too deeply", query, 0, "use fewer parentheses and NOTs, or split the query"
    )


@dataclass
class Compiler:
    """Compiles a luqum tree for one index schema."""

    schema: tantivy.Schema
    index: tantivy.Index
    query: str
    default_and: bool = True
    #: where :func:`_parse` inserted characters (node positions are mapped back)
    inserted: tuple[int, ...] = ()
    #: the value types each indexed path holds (``{"dft.converged": {"boolean"}}``); a path
    #: missing here may hold anything.  Lets ``field:value`` skip alternatives that cannot match.
    types: Mapping[str, Collection[str]] | None = None
    #: how deep the compiler is inside ``NOT`` clauses, where only which documents match
    #: counts (never their score): there a word needs no query that cannot add a match
    excluding: int = 0

    # -- entry ---------------------------------------------------------------------

    def compile(self, node: tree.Item, field: str | None = None) -> tantivy.Query:
        """The tantivy query of ``node`` (inside ``field:(...)`` when ``field`` is given).

        Raises
        ------
        QueryError
            For a part of the query the index cannot run, pointing at it.
        """
        try:
            return self._compile(node, field)
        except QueryError:
            raise
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise self._cannot(node, exc) from None
        except BaseException as exc:
            if not is_panic(exc):
                raise
            raise self._cannot(node, exc) from None

    def _cannot(self, node: tree.Item, exc: BaseException) -> QueryError:
        """The plain error of a part the engine refused (its own words go to the log only)."""
        engine_failure(exc, self.query)
        return self._err(node, "cannot run this part of the query", "check the value's type and syntax")

    def _pos(self, node: tree.Item) -> int | None:
        return _original_pos(getattr(node, "pos", None), list(self.inserted))

    def _err(self, node: tree.Item, message: str, hint: str = "") -> QueryError:
        return QueryError(message, self.query, self._pos(node), hint)

    # -- structure --------------------------------------------------------------------

    def _compile(self, node: tree.Item, field: str | None) -> tantivy.Query:
        if isinstance(node, tree.SearchField):
            return self._field(node, field)
        if isinstance(node, tree.Group | tree.FieldGroup):
            return self.compile(node.expr, field)
        if isinstance(node, tree.AndOperation):
            return self._boolean(node.children, field, and_=True)
        if isinstance(node, tree.OrOperation):
            return self._boolean(node.children, field, and_=False)
        if isinstance(node, tree.UnknownOperation):
            return self._boolean(node.children, field, and_=self.default_and)
        if (number := self._negative_number(node, field)) is not None:
            return self._word(number, field)
        if isinstance(node, tree.Not | tree.Prohibit):
            return Q.boolean_query(
                [(Occur.Must, Q.all_query()), (Occur.MustNot, self._excluded(node.a, field))]
            )
        if isinstance(node, tree.Plus):
            return self.compile(node.a, field)
        if isinstance(node, tree.Boost):
            force = float(node.force if node.force is not None else 1)
            if not 0 <= force <= MAX_BOOST:
                raise self._err(
                    node, f"boost {node.force} is not a number from 0 to {MAX_BOOST:g}", "e.g. cobalt^2"
                )
            return Q.boost_query(self.compile(node.expr, field), force)
        if isinstance(node, tree.Word):
            return self._word(node, field)
        if isinstance(node, tree.Phrase):
            return self._phrase(node, field, 0)
        if isinstance(node, tree.Proximity):
            slop = float(node.degree or 1)
            if not 0 <= slop <= MAX_SLOP:
                raise self._err(
                    node, f"proximity {node.degree} is too large", f'use at most ~{MAX_SLOP}, e.g. "a b"~3'
                )
            return self._phrase(node.term, field, int(slop))
        if isinstance(node, tree.Fuzzy):
            return self._fuzzy(node, field)
        if isinstance(node, tree.Regex):
            return self._regex(node, field)
        if isinstance(node, tree.Range):
            return self._range(node, field, node.low, node.high, node.include_low, node.include_high)
        if isinstance(node, tree.From):
            return self._range(node, field, node.a, None, node.include, True)
        if isinstance(node, tree.To):
            return self._range(node, field, None, node.a, True, node.include)
        raise self._err(
            node, f"{quoted(str(node))} is not supported here", "see the query syntax in hub.index.query"
        )

    @staticmethod
    def _negative_number(node: tree.Item, field: str | None) -> tree.Word | None:
        """In a field, ``-8`` is the number -8 (luqum reads "not 8"; ``NOT 8`` still is)."""
        if (
            field is not None
            and isinstance(node, tree.Prohibit)
            and isinstance(node.a, tree.Word)
            and _NUMBER.match(node.a.unescaped_value)
        ):
            return tree.Word("\\-" + node.a.value, pos=node.pos, size=node.size)
        return None

    @staticmethod
    def _wordless(node: tree.Item, field: str | None) -> bool:
        """Whether ``node`` is a bare word or phrase with nothing to search (``&``, ``-``).

        Such a node is dropped from a boolean, as an analyzer drops it (it would
        otherwise match nothing).
        """
        if isinstance(node, tree.Not | tree.Prohibit | tree.Plus):
            node = node.a
        if field is not None or not isinstance(node, tree.Word | tree.Phrase):
            return False
        if isinstance(node, tree.Word) and (node.has_wildcard() or node.value in _OPERATORS):
            return False
        text = node.value[1:-1] if isinstance(node, tree.Phrase) else node.unescaped_value
        return not tokenize(text)

    def _boolean(self, children: Any, field: str | None, and_: bool) -> tantivy.Query:
        clauses: list[tuple[Any, tantivy.Query]] = []
        for child in children:
            if self._wordless(child, field):
                continue
            child = self._negative_number(child, field) or child
            if isinstance(child, tree.Not | tree.Prohibit):
                if and_:
                    clauses.append((Occur.MustNot, self._excluded(child.a, field)))
                else:
                    clauses.append((Occur.Should, self.compile(child, field)))
            elif isinstance(child, tree.Plus):
                clauses.append((Occur.Must, self.compile(child.a, field)))
            else:
                clauses.append((Occur.Must if and_ else Occur.Should, self.compile(child, field)))
        if not clauses:
            return Q.empty_query()
        if and_ and all(o == Occur.MustNot for o, _ in clauses):
            clauses.append((Occur.Must, Q.all_query()))
        return Q.boolean_query(clauses)

    def _excluded(self, node: tree.Item, field: str | None) -> tantivy.Query:
        """``node`` as a ``MustNot`` clause: compiled for its matches alone (:attr:`excluding`)."""
        self.excluding += 1
        try:
            return self.compile(node, field)
        finally:
            self.excluding -= 1

    def _field(self, node: tree.SearchField, outer: str | None) -> tantivy.Query:
        name = node.name
        if name == EXISTS:
            if not isinstance(node.expr, tree.Word):
                raise self._err(node, "_exists_ takes a field path", "e.g. _exists_:dft.total_energy")
            return Q.exists_query(f"kw.{self._path(node.expr.value, node)}", True)
        if name == "*" and outer is None:  # every field: *:* is everything, *:cobalt a bare word
            return self.compile(node.expr, None)
        path = name if outer is None else f"{outer}.{name}"
        return self.compile(node.expr, self._path(path, node))

    def _path(self, path: str, node: tree.Item) -> str:
        path = ALIASES.get(path, path)
        if not _PATH.match(path):
            raise self._err(
                node,
                f"{quoted(path)} is not a field path",
                "fields are dotted names such as material.elements or custom.band_gap",
            )
        return path

    # -- leaves -----------------------------------------------------------------------

    @staticmethod
    def _any(queries: list[tantivy.Query]) -> tantivy.Query:
        if len(queries) == 1:
            return queries[0]
        return Q.boolean_query([(Occur.Should, q) for q in queries])

    def _word(self, node: tree.Word, field: str | None) -> tantivy.Query:
        if node.value in _OPERATORS or node.value.startswith("!"):
            raise self._err(
                node,
                f"{node.value if node.value in _OPERATORS else '!'!r} is not an operator here",
                "write AND, OR and NOT (or +word, -word); escape a literal one as \\! \\&\\&",
            )
        text = node.unescaped_value
        if text == "*" and field is None:
            return Q.all_query()
        if text == "*":
            return Q.exists_query(f"kw.{field}", True)
        if node.has_wildcard():
            return self._wildcard(node.value, field)
        if field is None:
            return self._text(text, "all", 0) or Q.empty_query()
        types = self._types(field)
        words = self._text(text, f"tx.{field}", 0) if "keyword" in types else None
        values = self._values(field, text, types)
        if words is not None and self.excluding and len(tokenize(text)) == 1:
            # a document holding the keyword ``text`` at ``field`` also holds its one word
            # there (``tx`` indexes every string ``kw`` does, with this analyzer), so the
            # word's matches include the keyword's: the keyword term adds no match
            values = values[1:]
        return self._any([*values, words] if words else values)

    def _types(self, field: str) -> Collection[str]:
        known = self.types.get(field) if self.types is not None else None
        return known if known else ALL_TYPES

    def _values(self, field: str, text: str, types: Collection[str] = ()) -> list[tantivy.Query]:
        """``text`` as an exact value of ``field``, one query per type it may be.

        A keyword, and a number, a boolean or a date when it reads as one (only the types
        the field holds); the empty query when none applies.
        """
        types = types or self._types(field)
        kw = f"kw.{field}"
        queries = [Q.term_query(self.schema, kw, text)] if "keyword" in types else []
        if "number" in types and _NUMBER.match(text) and math.isfinite(float(text)):
            queries.append(Q.term_query(self.schema, kw, float(text)))
        if "boolean" in types and text.lower() in ("true", "false"):
            queries.append(Q.term_query(self.schema, kw, text.lower() == "true"))
        date = parse_date(text) if "date" in types else None
        if date is not None:
            queries.append(self._date_term(field, text, date))
        return queries or [Q.empty_query()]

    def _text(self, text: str, target: str, slop: int) -> tantivy.Query | None:
        """The words of ``text`` in the analyzed field ``target``: a term or a phrase."""
        tokens = positioned_tokens(text)
        if not tokens:
            return None
        if len(tokens) == 1:
            return Q.term_query(self.schema, target, tokens[0][1])
        first = tokens[0][0]
        gaps = tokens[-1][0] - first + 1 - len(tokens)  # words too long to index
        if not gaps:
            return Q.phrase_query(self.schema, target, [t for _, t in tokens], slop)
        if target == "all":
            return Q.phrase_query(self.schema, target, [(p - first, t) for p, t in tokens], slop)
        # a JSON path takes no offsets: let the phrase stretch over the missing words
        return Q.phrase_query(self.schema, target, [t for _, t in tokens], slop + gaps)

    def _date_term(self, field: str, text: str, date: _dt.datetime) -> tantivy.Query:
        if len(text) == 10:  # a day: the whole day
            end = min(date + _ONE_DAY, MAX_DATE)
            return self.index.parse_query(f"kw.{field}:[{rfc3339(date)} TO {rfc3339(end)}}}")
        return Q.term_query(self.schema, f"kw.{field}", date)

    def _wildcard(self, value: str, field: str | None) -> tantivy.Query:
        rx = wildcard_regex(value)
        if field is None:
            return Q.regex_query(self.schema, "all", rx.lower())
        prefix = rust_escape(f"{field}=")
        return self._any(
            [
                Q.regex_query(self.schema, "pv", prefix + rx),
                Q.regex_query(self.schema, "pt", prefix + rx.lower()),
            ]
        )

    def _regex(self, node: tree.Regex, field: str | None) -> tantivy.Query:
        pattern = node.value[1:-1]
        # grouped, so that an alternation a|b stays inside the field's values
        rx = f"(?s:{pattern})"
        try:
            if field is None:
                return Q.regex_query(self.schema, "all", rx)
            prefix = rust_escape(f"{field}=")
            return self._any(
                [
                    Q.regex_query(self.schema, "pv", prefix + rx),
                    Q.regex_query(self.schema, "pt", prefix + rx),
                ]
            )
        except ValueError as exc:
            detail = str(exc).split("error:", 1)[-1].strip().splitlines()[0]
            raise self._err(
                node,
                f"bad regular expression /{excerpt(pattern)}/: {excerpt(detail)}",
                "regular expressions use Rust syntax (no look-around, no backreferences); "
                "escape special characters with \\",
            ) from None

    def _fuzzy(self, node: tree.Fuzzy, field: str | None) -> tantivy.Query:
        word = node.term
        if not isinstance(word, tree.Word):
            raise self._err(node, "fuzzy matching applies to a single word", "e.g. cobalt~ or cobalt~1")
        text = word.unescaped_value
        degree = float(node.degree) if node.degree is not None else 0.5
        if not 0 <= degree <= MAX_FUZZY:
            raise self._err(node, f"fuzzy distance {node.degree} is too large", f"use ~1 or ~{MAX_FUZZY}")
        # luqum reads a bare ``~`` as 0.5 (Lucene's old similarity): the default, 2 edits
        distance = 0 if degree == 0 else MAX_FUZZY if degree < 1 else int(degree)
        tokens = tokenize(text)
        if field is None:
            token = tokens[0] if len(tokens) == 1 else text.lower()
            return Q.fuzzy_term_query(self.schema, "all", token, distance=distance)
        queries = [Q.fuzzy_term_query(self.schema, f"kw.{field}", text, distance=distance)]
        if len(tokens) == 1:
            queries.append(Q.fuzzy_term_query(self.schema, f"tx.{field}", tokens[0], distance=distance))
        return self._any(queries)

    def _phrase(self, node: tree.Item, field: str | None, slop: int) -> tantivy.Query:
        if not isinstance(node, tree.Phrase):
            raise self._err(node, "proximity applies to a phrase", 'e.g. "cobalt oxide"~3')
        text = tree.Term.WORD_ESCAPED_CHARS.sub(r"\1", node.value[1:-1])
        words = self._text(text, "all" if field is None else f"tx.{field}", slop)
        queries = [words] if words else []
        if field is not None:
            queries += self._values(field, text)
        return self._any(queries) if queries else Q.empty_query()

    def _range(
        self, node: tree.Item, field: str | None, low: Any, high: Any, incl_low: bool, incl_high: bool
    ) -> tantivy.Query:
        if field is None:
            raise self._err(
                node,
                "a range needs a field",
                "e.g. dft.total_energy:[-10 TO 0] or crystal_structure.volume:>=100",
            )
        lo = self._bound(low, node)
        hi = self._bound(high, node)
        kinds = {b.kind for b in (lo, hi) if b.kind != "open"}
        if len(kinds) > 1:
            raise self._err(
                node,
                f"the range mixes {' and '.join(sorted(kinds))} bounds",
                "use numbers on both sides, dates on both sides, or words on both sides",
            )
        if lo.kind == "open" and hi.kind == "open":
            return Q.exists_query(f"kw.{field}", True)
        if lo.day is not None:  # a day bound stands for the whole day
            start = lo.day if incl_low else min(lo.day + _ONE_DAY, MAX_DATE)
            lo, incl_low = _Bound("date", rfc3339(start)), True
        if hi.day is not None:
            end = min(hi.day + _ONE_DAY, MAX_DATE) if incl_high else hi.day
            hi, incl_high = _Bound("date", rfc3339(end)), incl_high and end == MAX_DATE

        def on(prefix: str) -> tantivy.Query:
            sides = []
            if lo.kind != "open":
                sides.append(f"{prefix}.{field}:{'>=' if incl_low else '>'}{lo.text}")
            if hi.kind != "open":
                sides.append(f"{prefix}.{field}:{'<=' if incl_high else '<'}{hi.text}")
            if len(sides) == 1:
                return self.index.parse_query(sides[0])
            if lo.kind == "number" and engine_number_type(float(lo.text)) != engine_number_type(
                float(hi.text)
            ):
                # two one-sided ranges: tantivy panics on a range whose bounds it types
                # differently (2.0 is read as an integer, 2.5 or 1e20 as a float)
                return Q.boolean_query([(Occur.Must, self.index.parse_query(side)) for side in sides])
            left = "[" if incl_low else "{"
            right = "]" if incl_high else "}"
            return self.index.parse_query(f"{prefix}.{field}:{left}{lo.text} TO {hi.text}{right}")

        if "number" in kinds:
            # numbers written as text (DataCite's publicationYear "2019") are indexed as numbers in ``nm``
            return self._any([on("kw"), on("nm")])
        return on("kw")

    def _bound(self, item: Any, node: tree.Item) -> _Bound:
        if item is None:
            return _Bound("open", "*")
        text = (item.value if hasattr(item, "value") else str(item)).strip()
        if isinstance(item, tree.Phrase):
            text = text[1:-1]
        text = tree.Term.WORD_ESCAPED_CHARS.sub(r"\1", text)
        if text == "*":
            return _Bound("open", "*")
        if _NUMBER.match(text):
            return _Bound("number", number_text(float(text)))
        date = parse_date(text, clamp=True)  # beyond what tantivy indexes: its first or last instant
        if date is not None:
            day = _DAY.match(text) and parse_date(text) is not None
            return _Bound("date", rfc3339(date), date if day else None)
        if _ENGINE_TYPED.match(text):
            raise self._err(
                node,
                f"range bound {quoted(text)} cannot be used on words: the engine reads it as a "
                f"{'boolean' if text in ('true', 'false') else 'number'}",
                "a range on booleans is a term (dft.converged:true); on words, pick another bound",
            )
        if re.fullmatch(r"[A-Za-z0-9_.:+-]+", text):
            return _Bound("keyword", text)
        raise self._err(
            node,
            f"range bound {quoted(text)} is not a number, a date or a simple word",
            "ranges on text take words of letters, digits, _ . - : +",
        )


_ONE_DAY = _dt.timedelta(days=1)


@dataclass(frozen=True)
class _Bound:
    """A range bound, as tantivy's query parser takes it.

    Its kind (open, number, date, keyword), its text for the parser, and the day it
    names when it is a day without a time.
    """

    kind: str
    text: str
    day: _dt.datetime | None = None


def compile_query(
    query: str,
    schema: tantivy.Schema,
    index: tantivy.Index,
    default_and: bool = True,
    types: Mapping[str, Collection[str]] | None = None,
) -> tantivy.Query:
    """Parse and compile ``query``; ``*`` (or an empty string) matches everything."""
    if query.strip() in ("", "*", "*:*"):
        return Q.all_query()
    tree_, inserted = _parse(query)
    try:
        return Compiler(schema, index, query, default_and, tuple(inserted), types).compile(tree_)
    except RecursionError:
        raise _too_deep(query) from None
