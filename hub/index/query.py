"""The query language: Lucene syntax parsed by luqum, compiled to tantivy queries.

- bare words search every string of a document (``cobalt oxide``);
- ``field:value`` on any dotted path matches the exact value, or a word of it
  when the value is text (``material.elements:Co``, ``dc.titles.title:oxide``);
- phrases (``"cobalt oxide"``), proximity (``"cobalt oxide"~3``);
- AND, OR, NOT, ``+``, ``-``, parentheses; words side by side are joined by AND;
- ranges on numbers, dates and keywords: ``[a TO b]``, ``{a TO b}``, ``>=x``, ``<x``;
- fuzzy ``term~`` (2 edits) and ``term~1``; wildcards ``*`` and ``?``; regular
  expressions ``/.../``; ``_exists_:field``; boosts ``^2``.

A malformed query raises :class:`~hub.exceptions.QueryError` with the position
of the problem and a hint, never another exception.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any

import tantivy
from luqum import tree
from luqum.exceptions import ParseError
from luqum.parser import parser

from hub.exceptions import QueryError
from hub.index.analysis import parse_date, rfc3339, tokenize

Occur = tantivy.Occur
Q = tantivy.Query

#: Field names MDF/Globus users write, and the paths they mean here.
ALIASES = {
    "dc.creators.creatorName": "dc.creators.name",
    "dc.titles.titleType": "dc.titles.titleType",
    "dc.publisher": "dc.publisher",
}
EXISTS = "_exists_"
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_RUST_META = set("\\.+*?()|[]{}^$#&-~")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
MAX_FUZZY = 2


def rust_escape(text: str) -> str:
    """Escape ``text`` for tantivy's (Rust) regex syntax."""
    return "".join("\\" + c if c in _RUST_META else c for c in text)


def wildcard_regex(text: str) -> str:
    out = []
    for c in text:
        out.append(".*" if c == "*" else "." if c == "?" else rust_escape(c))
    return "".join(out)


def parse(query: str) -> tree.Item:
    """The luqum tree of ``query``, or a QueryError pointing at the problem."""
    if not query.strip():
        raise QueryError("the query is empty", query, 0, "search everything with *")
    try:
        return parser.parse(query)
    except ParseError as exc:
        text = str(exc)
        m = re.search(r"position (\d+)", text)
        pos = int(m.group(1)) if m else len(query)
        hint = (
            "check parentheses and quotes"
            if "unmatched" in text or m is None
            else ('quote or escape special characters (\\: \\( \\) \\[ \\] \\" \\/)')
        )
        raise QueryError(
            f"cannot parse the query: {text.removeprefix('Syntax error in input : ')}", query, pos, hint
        ) from None
    except Exception as exc:  # luqum's lexer can raise plain errors on odd input
        raise QueryError(f"cannot parse the query: {exc}", query, 0, "check the syntax") from None


@dataclass
class Compiler:
    """Compiles a luqum tree for one index schema."""

    schema: tantivy.Schema
    index: tantivy.Index
    query: str
    default_and: bool = True

    # -- entry ---------------------------------------------------------------------

    def compile(self, node: tree.Item, field: str | None = None) -> tantivy.Query:
        try:
            return self._compile(node, field)
        except QueryError:
            raise
        except (ValueError, TypeError) as exc:
            raise QueryError(
                f"cannot run this part of the query: {exc}",
                self.query,
                getattr(node, "pos", None),
                "check the value's type and syntax",
            ) from None

    def _err(self, node: tree.Item, message: str, hint: str = "") -> QueryError:
        return QueryError(message, self.query, getattr(node, "pos", None), hint)

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
        if isinstance(node, tree.Not | tree.Prohibit):
            return Q.boolean_query(
                [(Occur.Must, Q.all_query()), (Occur.MustNot, self.compile(node.a, field))]
            )
        if isinstance(node, tree.Plus):
            return self.compile(node.a, field)
        if isinstance(node, tree.Boost):
            return Q.boost_query(
                self.compile(node.expr, field), float(node.force if node.force is not None else 1)
            )
        if isinstance(node, tree.Word):
            return self._word(node, field)
        if isinstance(node, tree.Phrase):
            return self._phrase(node, field, 0)
        if isinstance(node, tree.Proximity):
            return self._phrase(node.term, field, int(node.degree or 1))
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
        raise self._err(node, f"'{node}' is not supported here", "see the query syntax in hub.index.query")

    def _boolean(self, children: Any, field: str | None, and_: bool) -> tantivy.Query:
        clauses: list[tuple[Any, tantivy.Query]] = []
        for child in children:
            if isinstance(child, tree.Not | tree.Prohibit):
                if and_:
                    clauses.append((Occur.MustNot, self.compile(child.a, field)))
                else:
                    clauses.append((Occur.Should, self.compile(child, field)))
            elif isinstance(child, tree.Plus):
                clauses.append((Occur.Must, self.compile(child.a, field)))
            else:
                clauses.append((Occur.Must if and_ else Occur.Should, self.compile(child, field)))
        if and_ and all(o == Occur.MustNot for o, _ in clauses):
            clauses.append((Occur.Must, Q.all_query()))
        return Q.boolean_query(clauses)

    def _field(self, node: tree.SearchField, outer: str | None) -> tantivy.Query:
        name = node.name
        if name == EXISTS:
            if not isinstance(node.expr, tree.Word):
                raise self._err(node, "_exists_ takes a field path", "e.g. _exists_:dft.total_energy")
            return Q.exists_query(f"kw.{self._path(node.expr.value, node)}", True)
        path = name if outer is None else f"{outer}.{name}"
        return self.compile(node.expr, self._path(path, node))

    def _path(self, path: str, node: tree.Item) -> str:
        path = ALIASES.get(path, path)
        if not _PATH.match(path):
            raise self._err(
                node,
                f"{path!r} is not a field path",
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
        text = node.unescaped_value if hasattr(node, "unescaped_value") else node.value
        if text == "*" and field is None:
            return Q.all_query()
        if text == "*":
            return Q.exists_query(f"kw.{field}", True)
        if node.has_wildcard():
            return self._wildcard(text, field)
        if field is None:
            tokens = tokenize(text)
            if not tokens:
                return Q.empty_query()
            if len(tokens) == 1:
                return Q.term_query(self.schema, "all", tokens[0])
            return Q.phrase_query(self.schema, "all", _words(tokens))
        kw, tx = f"kw.{field}", f"tx.{field}"
        queries = [Q.term_query(self.schema, kw, text)]
        if _NUMBER.match(text):
            queries.append(Q.term_query(self.schema, kw, float(text)))
        if text.lower() in ("true", "false"):
            queries.append(Q.term_query(self.schema, kw, text.lower() == "true"))
        date = parse_date(text)
        if date is not None:
            queries.append(self._date_term(field, text, date))
        tokens = tokenize(text)
        if len(tokens) == 1:
            queries.append(Q.term_query(self.schema, tx, tokens[0]))
        elif len(tokens) > 1:
            queries.append(Q.phrase_query(self.schema, tx, _words(tokens)))
        return self._any(queries)

    def _date_term(self, field: str, text: str, date: _dt.datetime) -> tantivy.Query:
        if len(text) == 10:  # a day: the whole day
            end = date + _dt.timedelta(days=1)
            return self.index.parse_query(f"kw.{field}:[{rfc3339(date)} TO {rfc3339(end)}}}")
        return Q.term_query(self.schema, f"kw.{field}", date)

    def _wildcard(self, text: str, field: str | None) -> tantivy.Query:
        rx = wildcard_regex(text)
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
        try:
            re.compile(pattern)
        except re.error as exc:
            raise self._err(
                node, f"bad regular expression /{pattern}/: {exc}", "escape special characters"
            ) from None
        if field is None:
            return Q.regex_query(self.schema, "all", pattern)
        prefix = rust_escape(f"{field}=")
        return self._any(
            [
                Q.regex_query(self.schema, "pv", prefix + pattern),
                Q.regex_query(self.schema, "pt", prefix + pattern),
            ]
        )

    def _fuzzy(self, node: tree.Fuzzy, field: str | None) -> tantivy.Query:
        word = node.term
        if not isinstance(word, tree.Word):
            raise self._err(node, "fuzzy matching applies to a single word", "e.g. cobalt~ or cobalt~1")
        text = word.value
        degree = node.degree
        distance = MAX_FUZZY if degree is None or float(degree) < 1 else int(float(degree))
        if distance > MAX_FUZZY:
            raise self._err(node, f"fuzzy distance {distance} is too large", f"use ~1 or ~{MAX_FUZZY}")
        if field is None:
            return Q.fuzzy_term_query(self.schema, "all", text.lower(), distance=distance)
        queries = [Q.fuzzy_term_query(self.schema, f"kw.{field}", text, distance=distance)]
        tokens = tokenize(text)
        if len(tokens) == 1:
            queries.append(Q.fuzzy_term_query(self.schema, f"tx.{field}", tokens[0], distance=distance))
        return self._any(queries)

    def _phrase(self, node: tree.Item, field: str | None, slop: int) -> tantivy.Query:
        if not isinstance(node, tree.Phrase):
            raise self._err(node, "proximity applies to a phrase", 'e.g. "cobalt oxide"~3')
        text = node.value[1:-1]
        tokens = tokenize(text)
        target = "all" if field is None else f"tx.{field}"
        queries: list[tantivy.Query] = []
        if len(tokens) == 1:
            queries.append(Q.term_query(self.schema, target, tokens[0]))
        elif tokens:
            queries.append(Q.phrase_query(self.schema, target, _words(tokens), slop))
        if field is not None:
            queries.append(Q.term_query(self.schema, f"kw.{field}", text))
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
        kinds = {k for k, _ in (lo, hi) if k != "open"}
        if len(kinds) > 1:
            raise self._err(
                node,
                f"the range mixes {' and '.join(sorted(kinds))} bounds",
                "use numbers on both sides, dates on both sides, or words on both sides",
            )
        if lo[0] == "open" and hi[0] == "open":
            return Q.exists_query(f"kw.{field}", True)
        if lo[0] == "open":
            op = "<=" if incl_high else "<"
            return self.index.parse_query(f"kw.{field}:{op}{hi[1]}")
        if hi[0] == "open":
            op = ">=" if incl_low else ">"
            return self.index.parse_query(f"kw.{field}:{op}{lo[1]}")
        left = "[" if incl_low else "{"
        right = "]" if incl_high else "}"
        return self.index.parse_query(f"kw.{field}:{left}{lo[1]} TO {hi[1]}{right}")

    def _bound(self, item: Any, node: tree.Item) -> tuple[str, str]:
        if item is None:
            return ("open", "*")
        text = (item.value if hasattr(item, "value") else str(item)).strip()
        if isinstance(item, tree.Phrase):
            text = text[1:-1]
        if text == "*":
            return ("open", "*")
        if _NUMBER.match(text):
            return ("number", repr(float(text)))
        date = parse_date(text)
        if date is not None:
            return ("date", rfc3339(date))
        if re.fullmatch(r"[A-Za-z0-9_.:+-]+", text):
            return ("keyword", text)
        raise self._err(
            node,
            f"range bound {text!r} is not a number, a date or a simple word",
            "ranges on text take words of letters, digits, _ . - : +",
        )


def _words(tokens: list[str]) -> list[str | tuple[int, str]]:
    return list(tokens)


def compile_query(
    query: str, schema: tantivy.Schema, index: tantivy.Index, default_and: bool = True
) -> tantivy.Query:
    """Parse and compile ``query``; ``*`` (or an empty string) matches everything."""
    if query.strip() in ("", "*", "*:*"):
        return Q.all_query()
    return Compiler(schema, index, query, default_and).compile(parse(query))
