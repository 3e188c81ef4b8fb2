"""OPTIMADE filters, translated into the hub's own query language.

A filter is parsed with the OPTIMADE grammar shipped in the ``optimade`` package and
its parse tree turned, rule by rule, into a small boolean tree, which is simplified and written out as a hub query
(Lucene syntax, see :mod:`hub.index.query`) over the fields of
:mod:`.properties`.  ``hub.search`` then runs it, with the caller's access rules, like
any other query.

    >>> translate('elements HAS ALL "Co","O" AND nelements=2').query
    'optimade.elements:Co AND optimade.elements:O AND optimade.nelements:2'

Semantics (OPTIMADE 1.2, "API Filtering Format Specification"):

- a comparison matches only structures whose property is known; ``NOT`` is the
  complement, so ``NOT nsites=2`` also matches structures without ``nsites``, while
  ``nsites!=2`` does not;
- a property with another database's prefix (``_exmpl_band_gap``) is unknown: its
  comparisons match nothing (with a warning); an unknown property without a prefix,
  or with ours, is a 400;
- OPTIONAL features the hub does not implement are 501s that say which; so are
  comparisons of values of different types.

String comparisons are case-sensitive, and the index matches words case-insensitively
(``pt``: lower-cased words of every string).  Equality uses a range on the exact
values, ``["O2Si" TO "O2Si"]``, which only reads exact values.  Substring operators
use a regular expression over exact values, which the index also tries on the
lower-cased words; a word can only match a pattern whose every character is one of
a-z and 0-9, so a pattern holding any other character (an upper-case letter, ``_``,
``.``) is exact.  For properties whose every value holds such a character ("marked":
ids, source ids, chemical formulas) a pattern without one is made to require one
elsewhere in the value, which keeps it exact.  Ordering comparisons on strings use
ranges, whose bounds the hub takes as words of letters, digits and ``_ . : + -``.

The parser is the grammar's own, built as an LALR parser (the ``optimade`` package's
``LarkParser`` builds an Earley parser from the same file: 3.6 ms a filter against
0.2 ms; the trees are the same).  The grammar's ``bool`` rule drops the words TRUE and
FALSE; they are kept by naming them as terminals.  Translations are cached: the pages
of one search repeat its filter.

The ``optimade`` package (and its ``lark``) is imported when the first filter is
parsed, so this module imports in the core, without the ``service`` extra; without
the package, :func:`translate` raises :class:`~hub.exceptions.MissingDependencyError`.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.exceptions import MissingDependencyError
from hub.optimade.errors import FilterError, NotImplementedFilter
from hub.optimade.fields import BLOCK, chemical_symbols
from hub.optimade.properties import PREFIX, PROPERTIES, Property

if TYPE_CHECKING:
    from lark import Lark, Token, Tree
    from lark.exceptions import UnexpectedInput

#: Matches every structure record (every structure has an ``optimade`` block, with nsites).
STRUCTURE_QUERY = f"_exists_:{BLOCK}.nsites"
#: A character that never occurs in a lower-cased index word.
_OTHER = "[^a-z0-9]"
_REVERSED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
#: Values the hub reads as words in a range bound (letters, digits, _ . : + -), minus those
#: it reads as something else (numbers, dates, true/false, inf/nan).
_RANGE_WORD = re.compile(r"^[A-Za-z0-9_.:+-]+$")
_NUMBER_LIKE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_ENGINE_TYPED = re.compile(r"^(true|false|[+-]?(?i:inf|infinity|nan))$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_ESCAPE = re.compile(r'\\(["\\])')
_BOOL_RULE = 'bool: ( "TRUE" | "FALSE" )'


# -- the boolean tree ------------------------------------------------------------------------


class Node:
    """A part of a translated filter."""


@dataclass(frozen=True)
class Const(Node):
    value: bool


@dataclass(frozen=True)
class Leaf(Node):
    """A hub query: one field clause (``simple``), or several.

    ``structural`` when it can only match a structure record (it tests a field of the
    ``optimade`` block).
    """

    text: str
    structural: bool = False
    simple: bool = True


@dataclass(frozen=True)
class And(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    item: Node


TRUE = Const(True)
FALSE = Const(False)


def and_(*items: Node) -> Node:
    flat: list[Node] = []
    for item in items:
        if item == FALSE:
            return FALSE
        if item == TRUE:
            continue
        flat.extend(item.items if isinstance(item, And) else (item,))
    if not flat:
        return TRUE
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def or_(*items: Node) -> Node:
    flat: list[Node] = []
    for item in items:
        if item == TRUE:
            return TRUE
        if item == FALSE:
            continue
        flat.extend(item.items if isinstance(item, Or) else (item,))
    if not flat:
        return FALSE
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def not_(item: Node) -> Node:
    if isinstance(item, Const):
        return Const(not item.value)
    if isinstance(item, Not):
        return item.item
    return Not(item)


def _atomic(node: Node) -> bool:
    """Whether ``node`` renders as one term of a boolean expression (no parentheses needed)."""
    return (isinstance(node, Leaf) and node.simple) or (isinstance(node, Not) and _atomic(node.item))


def render(node: Node) -> str:
    """The hub query of ``node``, with parentheses only where needed.

    The hub parses every query, and each parenthesis costs it time.

    Raises
    ------
    ValueError
        For a constant (:data:`TRUE`, :data:`FALSE`), which has no query.
    """
    if isinstance(node, Leaf):
        return node.text
    if isinstance(node, And | Or):
        joiner = " AND " if isinstance(node, And) else " OR "
        return joiner.join(render(i) if _atomic(i) else f"({render(i)})" for i in node.items)
    if isinstance(node, Not):
        return f"NOT {render(node.item)}" if _atomic(node.item) else f"NOT ({render(node.item)})"
    raise ValueError(f"a constant has no query: {node!r}")


def structural(node: Node) -> bool:
    """Whether every match of ``node`` is a structure record."""
    if isinstance(node, Leaf):
        return node.structural
    if isinstance(node, And):
        return any(structural(i) for i in node.items)
    if isinstance(node, Or):
        return all(structural(i) for i in node.items)
    return False


# -- hub query clauses -----------------------------------------------------------------------


def _leaf(path: str, clause: str) -> Leaf:
    return Leaf(f"{path}:{clause}", structural=path.startswith(f"{BLOCK}."))


def _exists(path: str) -> Leaf:
    return Leaf(f"_exists_:{path}", structural=path.startswith(f"{BLOCK}."))


def _number(value: int | float) -> str:
    return str(value) if isinstance(value, int) else repr(value)


def _range(path: str, op: str, bound: str) -> Leaf:
    """A range on ``path`` (``bound`` as the hub reads it: a number, or a quoted word or date)."""
    clause = {
        "<": f"[* TO {bound}}}",
        "<=": f"[* TO {bound}]",
        ">": f"{{{bound} TO *]",
        ">=": f"[{bound} TO *]",
        "=": f"[{bound} TO {bound}]",
    }[op]
    return _leaf(path, clause)


def _number_clause(path: str, op: str, value: int | float) -> Leaf:
    """``path`` compared with a number: a term, or a one-sided range (``nsites:>10``)."""
    return _leaf(path, _number(value) if op == "=" else f"{op}{_number(value)}")


def _regex_literal(text: str) -> str:
    r"""``text`` as a Rust regex literal.

    Every character but ASCII letters and digits is written as ``\x{..}`` (nothing left
    for the query parser or the regex engine to read).
    """
    return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):X}}}" for c in text)


def _regex(path: str, pattern: str) -> Leaf:
    return _leaf(path, f"/{pattern}/")


def _has_other(text: str) -> bool:
    """Whether ``text`` holds a character that no lower-cased index word holds."""
    return re.search(_OTHER, text) is not None


def _range_word(text: str) -> bool:
    return bool(
        _RANGE_WORD.match(text)
        and not _NUMBER_LIKE.match(text)
        and not _DATE_LIKE.match(text)
        and not _ENGINE_TYPED.match(text)
    )


def _compare_values(a: Any, op: str, b: Any) -> bool:
    result: bool = {
        "=": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[op]
    return result


def parse_timestamp(text: str) -> _dt.datetime:
    """An RFC 3339 date-time (``2024-05-01T12:00:00Z``), timezone-aware."""
    if not _RFC3339.match(text):
        raise FilterError(
            f"{text!r} is not an RFC 3339 date-time",
            hint='timestamps are written like "2024-05-01T12:00:00Z" or "2024-05-01T14:00:00+02:00"',
        )
    value = _dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00").replace("t", "T"))
    return value.astimezone(_dt.UTC)


# -- references to properties ------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A property named in a filter: known (``prop``), or another database's (unknown)."""

    name: str
    prop: Property | None
    position: int


@dataclass(frozen=True)
class Rhs:
    """The right-hand side of a comparison: ``kind`` is op, known, fuzzy, has or length."""

    kind: str
    op: str | None = None
    value: Any = None
    values: tuple[tuple[str | None, Any], ...] = ()


def _terminal(arg: object) -> str | None:
    """The terminal name of a token of the parse tree, None for a value a rule returned.

    Lark's ``Token`` is a ``str`` with a ``type`` (``OPERATOR``, ``ALL``, ...).
    """
    return getattr(arg, "type", None) if isinstance(arg, str) else None


class _Translator:
    """Lark tree -> :class:`Node` (one instance per filter).

    It has a method for each rule of the grammar, as the ``optimade`` package's
    ``BaseTransformer`` does, taking the rule's translated children.
    """

    def transform(self, tree: Tree[Token]) -> Any:
        """The translation of ``tree``: children first, then the rule's method.

        What lark's ``Transformer.transform`` does, without its per-node attribute
        lookups: a filter is translated per request.
        """
        rules = _rules()
        # a child is a token (a str) or a subtree
        children = [c if isinstance(c, str) else self.transform(c) for c in tree.children]
        method = rules.get(tree.data)
        if method is None:
            raise self._unsupported(f"the grammar's rule {tree.data!r} is not translated here")
        return method(self, children)

    def __init__(self, text: str) -> None:
        self.text = text
        self.warnings: list[str] = []

    # -- errors ------------------------------------------------------------------------

    def _bad(self, message: str, ref: Ref | None = None, hint: str = "") -> FilterError:
        return FilterError(message, self.text, ref.position if ref else None, hint)

    def _unsupported(self, message: str, ref: Ref | None = None, hint: str = "") -> NotImplementedFilter:
        return NotImplementedFilter(message, self.text, ref.position if ref else None, hint)

    # -- structure ---------------------------------------------------------------------

    def filter(self, args: list[Any]) -> Node:
        return args[0] if args else TRUE

    def expression(self, args: list[Node]) -> Node:
        return or_(*args)

    def expression_clause(self, args: list[Node]) -> Node:
        return and_(*args)

    def expression_phrase(self, args: list[Any]) -> Node:
        if len(args) == 2:
            return not_(args[1])
        node: Node = args[0]
        return node

    # -- leaves ------------------------------------------------------------------------

    def property(self, args: list[Token]) -> Ref:
        name = ".".join(str(a) for a in args)
        position = int(args[0].start_pos or 0)
        prop = PROPERTIES.get(name)
        if prop is not None:
            return Ref(name, prop, position)
        head = str(args[0])
        parts = head.split("_")
        if head.startswith("_") and len(parts) >= 3 and parts[1] and parts[1] != PREFIX:
            self.warnings.append(
                f"{name!r} belongs to the database with the prefix {parts[1]!r}, not this one: it was "
                "treated as unknown (its comparisons match nothing)"
            )
            return Ref(name, None, position)
        ours = sorted(p.name for p in PROPERTIES.values() if p.listed)
        if head in ("references", "calculations", "structures"):
            raise self._unsupported(
                f"filtering on relationships ({name!r}) is not supported: structures here have none"
            )
        raise FilterError(
            f"{name!r} is not a property of structures here",
            self.text,
            position,
            f"properties: {', '.join(ours)} (info/structures describes them); another database's "
            "properties are prefixed _<prefix>_ and treated as unknown",
        )

    # (plain methods taking the list of children: lark's v_args wrappers cost a wrapper per call)

    def _first(self, args: list[Any]) -> Any:
        return args[0]

    value = constant = non_string_value = comparison = _first

    def signed_int(self, args: list[Token]) -> int:
        return int(args[0])

    def string(self, args: list[Token]) -> str:
        return _ESCAPE.sub(r"\1", str(args[0])[1:-1])

    def number(self, args: list[Token]) -> int | float:
        token = args[0]
        value: int | float = int(token) if token.type == "SIGNED_INT" else float(token)
        if isinstance(value, float) and not math.isfinite(value):
            raise NotImplementedFilter(
                f"the number {str(token)!r} is outside the range of 64-bit floats (±1.8e308)",
                self.text,
                int(token.start_pos or 0),
            )
        return value

    def bool(self, args: list[Token]) -> builtins.bool:
        if not args:  # the grammar as shipped, whose rule drops the word
            raise self._unsupported("TRUE and FALSE are not supported by this version of the grammar")
        return str(args[0]) == "TRUE"

    def not_implemented_string(self, args: list[Any]) -> Any:
        raise self._unsupported(
            "a comparison of two strings is not supported (the specification asks for a 501)",
            hint='compare a property with a value: chemical_formula_reduced="O2Si"',
        )

    # -- right-hand sides --------------------------------------------------------------

    def value_op_rhs(self, args: list[Any]) -> Rhs:
        return Rhs("op", str(args[0]), args[1])

    def known_op_rhs(self, args: list[Token]) -> Rhs:
        return Rhs("known", value=str(args[1]) == "KNOWN")

    def fuzzy_string_op_rhs(self, args: list[Any]) -> Rhs:
        return Rhs("fuzzy", str(args[0]), args[-1])

    def value_list(self, args: list[Any]) -> tuple[tuple[str | None, Any], ...]:
        pairs: list[tuple[str | None, Any]] = []
        op: str | None = None
        for arg in args:
            if _terminal(arg) == "OPERATOR":
                op = str(arg)
            else:
                pairs.append((op, arg))
                op = None
        return tuple(pairs)

    def set_op_rhs(self, args: list[Any]) -> Rhs:
        words = [str(a) for a in args if _terminal(a) in ("ALL", "ANY", "ONLY")]
        if words:
            return Rhs("has", words[0], values=args[-1])
        op = next((str(a) for a in args if _terminal(a) == "OPERATOR"), None)
        return Rhs("has", "ONE", values=((op, args[-1]),))

    def length_op_rhs(self, args: list[Any]) -> Rhs:
        op = next((str(a) for a in args if _terminal(a) == "OPERATOR"), "=")
        return Rhs("length", op, args[-1])

    def set_zip_op_rhs(self, args: list[Any]) -> Any:
        raise self._unsupported(
            "correlated list filters (list1:list2 HAS ...) are an OPTIONAL feature not supported here",
            hint='combine plain HAS filters: elements HAS "Al" AND elements_ratios HAS > 0.3',
        )

    def property_zip_addon(self, args: list[Any]) -> Any:
        return self.set_zip_op_rhs(args)

    def value_zip(self, args: list[Any]) -> Any:
        return self.set_zip_op_rhs(args)

    def value_zip_list(self, args: list[Any]) -> Any:
        return self.set_zip_op_rhs(args)

    # -- comparisons -------------------------------------------------------------------

    def property_first_comparison(self, args: list[Any]) -> Node:
        return self._compare(args[0], args[1])

    def constant_first_comparison(self, args: list[Any]) -> Node:
        constant, operator, other = args[0], str(args[1]), args[2]
        if isinstance(other, Ref):
            return self._compare(other, Rhs("op", _REVERSED[operator], constant))
        if isinstance(constant, bool) or isinstance(other, bool) or not isinstance(constant, int | float):
            raise self._unsupported(
                f"{constant!r} {operator} {other!r}: comparing these values is not supported"
            )
        return Const(_compare_values(constant, operator, other))

    def _compare(self, ref: Ref, rhs: Rhs) -> Node:
        prop = ref.prop
        if prop is None:  # another database's property: null
            return Const(not rhs.value) if rhs.kind == "known" else FALSE
        if rhs.kind == "known":
            known = self._known(prop)
            return known if rhs.value else not_(known)
        for _, value in ((rhs.op, rhs.value), *rhs.values):
            if isinstance(value, Ref):
                raise self._unsupported(
                    f"comparing two properties ({ref.name} and {value.name}) is an OPTIONAL feature not "
                    "supported here",
                    ref,
                )
        if prop.constant is not None:
            return self._constant(ref, prop, prop.constant[0], rhs)
        if prop.path is None:
            raise self._unsupported(
                f"{prop.name} cannot be filtered on here, except with IS KNOWN / IS UNKNOWN", ref
            )
        if prop.type == "list":
            return self._list(ref, prop, rhs)
        if rhs.kind in ("has", "length"):
            raise self._bad(f"{'HAS' if rhs.kind == 'has' else 'LENGTH'} applies to lists; {prop.name} holds "
                            f"{prop.type} values", ref)  # fmt: skip
        if rhs.kind == "fuzzy":
            if prop.type != "string":
                raise self._bad(f"{rhs.op} applies to strings; {prop.name} holds {prop.type} values", ref)
            return self._fuzzy(ref, prop, str(rhs.op), self._typed(ref, prop, prop.type, rhs.value))
        assert rhs.op is not None
        return self._scalar(ref, prop, prop.type, prop.path, rhs.op, rhs.value)

    def _known(self, prop: Property) -> Node:
        if prop.known is None:
            return TRUE
        simple = " " not in prop.known
        structural = simple and prop.known.removeprefix("_exists_:").startswith(f"{BLOCK}.")
        return Leaf(prop.known, structural=structural, simple=simple)

    # -- by type -------------------------------------------------------------------------

    def _typed(self, ref: Ref, prop: Property, typ: str, value: Any) -> Any:
        """``value`` checked against the property's type (501 when they differ)."""
        ok = {
            "integer": isinstance(value, int | float) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "string": isinstance(value, str),
            "timestamp": isinstance(value, str),
            "boolean": isinstance(value, bool),
        }.get(typ, False)
        if not ok:
            raise self._unsupported(
                f"{prop.name} holds {typ} values; comparing it with {value!r} ({type(value).__name__}) is a "
                "comparison of different types",
                ref,
            )
        return value

    def _scalar(self, ref: Ref, prop: Property, typ: str, path: str, op: str, value: Any) -> Node:
        """One comparison of a single value (a property, or one item of a list)."""
        value = self._typed(ref, prop, typ, value)
        known = _exists(path)
        if op == "!=":
            return and_(known, not_(self._scalar(ref, prop, typ, path, "=", value)))
        if typ in ("integer", "float"):
            return _number_clause(path, op, value)
        if typ == "timestamp":
            stamp = parse_timestamp(value).strftime('"%Y-%m-%dT%H:%M:%S.%fZ"')
            return _range(path, op, stamp)
        if typ == "boolean":
            if op != "=":
                raise self._bad(f"booleans are compared with = and != only, not {op}", ref)
            return _leaf(path, "true" if value else "false")
        if op == "=":
            return self._string_equals(ref, prop, path, value)
        if not _range_word(value):
            raise self._unsupported(
                f"ordering comparisons ({op}) on strings take values of letters, digits and _ . : + - "
                f"that do not read as a number, a date, true/false or inf/nan; got {value!r}",
                ref,
            )
        return _range(path, op, f'"{value}"')

    def _string_equals(self, ref: Ref, prop: Property, path: str, value: str) -> Node:
        if prop.match == "symbol":  # a real symbol is a plain word, and its case is unique
            return _leaf(path, value) if value in chemical_symbols() else FALSE
        if _range_word(value):
            return _range(path, "=", f'"{value}"')
        if _has_other(value):
            return _regex(path, _regex_literal(value))
        if prop.match == "marked":  # every value holds a character outside a-z0-9; this one none
            return FALSE
        raise self._unsupported(
            f"{prop.name} cannot be compared exactly with {value!r} (a number-like or reserved word)", ref
        )

    def _fuzzy(self, ref: Ref, prop: Property, kind: str, text: str) -> Node:
        assert prop.path is not None
        if text == "":
            return self._known(prop) if prop.known else _exists(prop.path)
        lit = _regex_literal(text)
        anchored = {"CONTAINS": (".*", ".*"), "STARTS": ("", ".*"), "ENDS": (".*", "")}[kind]
        if _has_other(text):
            return _regex(prop.path, f"{anchored[0]}{lit}{anchored[1]}")
        if prop.match != "marked":
            raise self._unsupported(
                f"{kind} on {prop.name} needs a value holding a character other than a-z and 0-9 "
                f"(the index matches lower-case words without case); got {text!r}",
                ref,
            )
        # require a character outside a-z0-9 in the value besides the match
        patterns = {
            "CONTAINS": f".*{_OTHER}.*{lit}.*|.*{lit}.*{_OTHER}.*",
            "STARTS": f"{lit}.*{_OTHER}.*",
            "ENDS": f".*{_OTHER}.*{lit}",
        }
        return _regex(prop.path, f"({patterns[kind]})")

    def _list(self, ref: Ref, prop: Property, rhs: Rhs) -> Node:
        assert prop.path is not None and prop.items is not None
        guard = self._known(prop) if prop.guarded else TRUE
        if rhs.kind == "length":
            return and_(self._known(prop), self._length(ref, prop, str(rhs.op), rhs.value))
        if rhs.kind != "has":
            raise self._unsupported(
                f"{prop.name} is a list: compare its items with HAS, HAS ALL, HAS ANY, or its length with "
                "LENGTH",
                ref,
            )
        if rhs.op == "ONLY":
            return self._has_only(ref, prop, rhs.values)
        path, items = prop.path, prop.items
        clauses = []
        for op, value in rhs.values:
            if op == "!=":
                raise self._unsupported("HAS != (an item different from a value) is not supported", ref)
            clauses.append(self._scalar(ref, prop, items, path, op or "=", value))
        return and_(guard, and_(*clauses) if rhs.op in ("ALL", "ONE") else or_(*clauses))

    def _length(self, ref: Ref, prop: Property, op: str, n: int) -> Node:
        if prop.fixed_length is not None:
            return Const(_compare_values(prop.fixed_length, op, n))
        if prop.length_path is None:
            raise self._unsupported(f"LENGTH is not supported on {prop.name}", ref)
        return self._scalar(ref, prop, "integer", prop.length_path, op, n)

    def _has_only(self, ref: Ref, prop: Property, values: Iterable[tuple[str | None, Any]]) -> Node:
        if prop.match != "symbol":
            raise self._unsupported(
                f"HAS ONLY (OPTIONAL) is supported on element lists, not {prop.name}", ref
            )
        wanted = set()
        for op, value in values:
            if op not in (None, "="):
                raise self._unsupported("HAS ONLY takes plain values, not operators", ref)
            wanted.add(self._typed(ref, prop, "string", value))
        assert prop.path is not None
        others = sorted(chemical_symbols() - wanted)
        return and_(self._known(prop), not_(or_(*(_leaf(prop.path, s) for s in others))))

    def _constant(self, ref: Ref, prop: Property, value: Any, rhs: Rhs) -> Node:
        """A comparison with a property that has the same value for every structure."""
        if isinstance(value, tuple):  # a list
            if rhs.kind == "length":
                return Const(_compare_values(len(value), str(rhs.op), rhs.value))
            if rhs.kind != "has":
                raise self._unsupported(f"{prop.name} is a list: compare its items with HAS or LENGTH", ref)
            if rhs.op == "ONLY":
                return TRUE if not value else Const(all(v in {x for _, x in rhs.values} for v in value))
            hits = [any(_compare_values(v, op or "=", x) for v in value) for op, x in rhs.values]
            return Const(all(hits) if rhs.op in ("ALL", "ONE") else any(hits))
        if rhs.kind in ("has", "length"):
            raise self._bad(f"{prop.name} is a string: HAS and LENGTH apply to lists", ref)
        other = self._typed(ref, prop, "string", rhs.value)
        if rhs.kind == "fuzzy":
            test: Callable[[str], bool] = {"CONTAINS": value.__contains__, "STARTS": value.startswith,
                                           "ENDS": value.endswith}[str(rhs.op)]  # fmt: skip
            return Const(test(other))
        return Const(_compare_values(value, str(rhs.op), other))


@lru_cache(maxsize=1)
def _rules() -> dict[str, Callable[[_Translator, list[Any]], Any]]:
    """The translator's method for each rule of the grammar."""
    names = {str(rule.origin.name) for rule in parser().rules}
    return {n: getattr(_Translator, n) for n in names if callable(getattr(_Translator, n, None))}


# -- entry points ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    """A filter and its hub query (None when the filter matches nothing)."""

    filter: str
    query: str | None
    warnings: tuple[str, ...] = ()


def _grammars() -> dict[tuple[int, int, int], dict[str, Path]]:
    """The grammar files the installed ``optimade`` package ships, by version and variant."""
    try:
        from optimade.filterparser.lark_parser import AVAILABLE_PARSERS
    except ImportError as exc:
        raise MissingDependencyError(
            "The optimade optional dependency is missing. Please run pip install 'matterhub[service]' "
            "to install it."
        ) from exc
    grammars: dict[tuple[int, int, int], dict[str, Path]] = AVAILABLE_PARSERS
    return grammars


def grammar_version() -> tuple[int, int, int]:
    """The newest grammar the installed ``optimade`` package ships.

    Raises
    ------
    MissingDependencyError
        Without the ``optimade`` package (the ``service`` extra).
    """
    return max(v for v, variants in _grammars().items() if "default" in variants)


@lru_cache(maxsize=1)
def parser() -> Lark:
    """An LALR parser of the OPTIMADE grammar (built once, about 0.1 s).

    Raises
    ------
    MissingDependencyError
        Without the ``optimade`` package (the ``service`` extra).
    """
    grammar = Path(_grammars()[grammar_version()]["default"]).read_text()
    from lark import Lark

    if _BOOL_RULE in grammar:  # keep the words: the rule's anonymous terminals are dropped
        grammar = grammar.replace(_BOOL_RULE, "bool: TRUE | FALSE") + '\nTRUE: "TRUE"\nFALSE: "FALSE"\n'
    return Lark(grammar, parser="lalr", maybe_placeholders=False)


def _parse(text: str) -> Tree[Token]:
    """The parse tree of ``text``, or the :class:`FilterError` saying where it goes wrong."""
    grammar = parser()
    from lark.exceptions import UnexpectedInput

    try:
        return grammar.parse(text)
    except UnexpectedInput as exc:
        raise _parse_error(text, exc) from None


def _parse_error(text: str, exc: UnexpectedInput) -> FilterError:
    position = getattr(exc, "pos_in_stream", None)
    token = getattr(exc, "token", None)
    if token is not None and getattr(token, "start_pos", None) is not None:
        position = token.start_pos
    expected = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    what = f"unexpected {str(token)!r}" if token is not None and str(token) else "unexpected input"
    if token is not None and token.type == "$END":
        what, position = "the filter ends too early", len(text)
    hint = f"expected one of: {', '.join(expected[:12])}" if expected else "check quotes and parentheses"
    return FilterError(f"cannot parse the filter: {what}", text, position, hint)


@lru_cache(maxsize=1024)
def translate(text: str) -> Translation:
    """The hub query of an OPTIMADE filter over structure records.

    Raises
    ------
    FilterError
        (400) a malformed filter or an unknown property.
    NotImplementedFilter
        (501) an OPTIONAL feature that is not supported, or values of different types.
    MissingDependencyError
        Without the ``optimade`` package (the ``service`` extra).
    """
    if not text.strip():
        return Translation(text, STRUCTURE_QUERY)
    tree = _parse(text)
    translator = _Translator(text)
    try:
        node = translator.transform(tree)
    except RecursionError:
        raise FilterError("the filter nests too deeply", text, 0, "use fewer parentheses") from None
    warnings = tuple(translator.warnings)
    if node == FALSE:
        return Translation(text, None, warnings)
    if node == TRUE:
        return Translation(text, STRUCTURE_QUERY, warnings)
    if not structural(node):
        node = And(
            (Leaf(STRUCTURE_QUERY, structural=True), *(node.items if isinstance(node, And) else (node,)))
        )
    return Translation(text, render(node), warnings)


__all__ = ["STRUCTURE_QUERY", "Translation", "parse_timestamp", "parser", "translate"]
