"""Random records, random queries: the index answers what a brute-force Python
evaluation of the same query over the same records answers.

The evaluator below is written from the query language's documented meaning
(hub/index/query.py), not from the compiler: a keyword value matches its exact
text or any run of its words; numbers compare as numbers whether written
``2`` or ``2.0``; a day is the whole day; wildcards and regexes match a whole
value (case-sensitive) or one of its words (lower case); NOT is the complement.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .conftest import ADMIN, index_of

#: Shrinking rebuilds a hub (or an index) per step: minutes. The failure report
#: names the query and the records instead.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)

# -- the random schema ---------------------------------------------------------------

VOCAB = ["alpha", "Alpha", "ALPHA", "beta", "gamma-ray", "Delta", "x1", "x10", "epsilon zeta", "b", "zeta"]
WORDS = [
    "alpha",
    "Alpha",
    "beta",
    "BETA",
    "gamma",
    "ray",
    "gamma-ray",
    "delta",
    "x1",
    "x10",
    "zeta",
    "b",
    "epsilon",
]
RANGE_WORDS = ["a", "Alpha", "alpha", "b", "beta", "Delta", "gamma", "x1", "x2", "zeta", "Z", "epsilon"]
NUMBERS = [-3.5, -2, -0.5, 0, 0.25, 1, 2, 2.0, 2.5, 3, 10, 1e-7, -1e-7, 1e20]
DATES = [
    "2020-01-05",
    "2020-01-05T10:00:00Z",
    "2020-01-06T00:30:00+01:00",  # 2020-01-05T23:30Z
    "2020-01-04T23:00:00-01:00",  # 2020-01-05T00:00Z
    "2019-12-31T23:59:59Z",
    "2021-06-30",
    "2021-07-01T00:00:00Z",
]
DAYS = ["2019-12-31", "2020-01-04", "2020-01-05", "2020-01-06", "2021-06-30", "2021-07-01", "2022-01-01"]
KEYWORD_FIELDS = ("kw", "tags")
NUMBER_FIELDS = ("n", "ns")


def record_strategy(i: int) -> st.SearchStrategy[dict[str, Any]]:
    maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
    return st.fixed_dictionaries(
        {
            "id": st.just(f"doc-{i:03d}"),
            "kw": maybe(st.sampled_from(VOCAB)),
            "tags": st.lists(st.sampled_from(VOCAB), max_size=3),
            "n": maybe(st.sampled_from(NUMBERS)),
            "ns": st.lists(st.sampled_from(NUMBERS), max_size=3),
            "b": maybe(st.booleans()),
            "d": maybe(st.sampled_from(DATES)),
        }
    ).map(lambda r: {k: v for k, v in r.items() if v is not None and v != []})


@st.composite
def corpora(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """Records in 1 to 3 sources (each one a commit, so a segment of its own)."""
    n = draw(st.integers(1, 14))
    records = [draw(record_strategy(i)) for i in range(n)]
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=2)))
    bounds = [0, *cuts, n]
    return [records[a:b] for a, b in itertools.pairwise(bounds) if b > a] or [records]


# -- queries: an AST that renders to text and evaluates in Python -------------------


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def contains_run(words: list[str], run: list[str]) -> bool:
    return bool(run) and any(words[i : i + len(run)] == run for i in range(len(words) - len(run) + 1))


def instant(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def values(doc: dict[str, Any], field: str) -> list[Any]:
    v = doc.get(field)
    return [] if v is None else v if isinstance(v, list) else [v]


def strings(doc: dict[str, Any]) -> list[str]:
    return [v for field in doc for v in values(doc, field) if isinstance(v, str)]


def osa(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions counting one (as tantivy's fuzzy query)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def wildcard_to_re(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


class Node:
    def text(self) -> str:
        raise NotImplementedError

    def match(self, doc: dict[str, Any]) -> bool:
        raise NotImplementedError


@dataclass
class KeywordTerm(Node):
    field: str | None  # None: a bare word
    value: str

    def text(self) -> str:
        written = f'"{self.value}"' if " " in self.value else self.value
        return written if self.field is None else f"{self.field}:{written}"

    def match(self, doc):
        run = words_of(self.value)
        if self.field is None:
            return any(contains_run(words_of(s), run) for s in strings(doc))
        return any(v == self.value or contains_run(words_of(v), run) for v in values(doc, self.field))


@dataclass
class NumberTerm(Node):
    field: str
    value: float
    written: str

    def text(self):
        return f"{self.field}:{self.written}"

    def match(self, doc):
        return any(float(v) == self.value for v in values(doc, self.field))


@dataclass
class BoolTerm(Node):
    value: bool
    written: str

    def text(self):
        return f"b:{self.written}"

    def match(self, doc):
        return self.value in values(doc, "b")


@dataclass
class DateTerm(Node):
    written: str
    quoted: bool

    def text(self):
        if self.quoted:
            return f'd:"{self.written}"'
        return f"d:{self.written.replace(':', chr(92) + ':')}"  # d:2020-01-05T10\:00\:00Z

    def match(self, doc):
        if len(self.written) == 10:
            start = instant(self.written)
            return any(start <= instant(v) < start + dt.timedelta(days=1) for v in values(doc, "d"))
        return any(instant(v) == instant(self.written) for v in values(doc, "d"))


@dataclass
class Range(Node):
    field: str
    kind: str  # number | date | keyword
    low: Any  # None: open
    high: Any
    incl_low: bool
    incl_high: bool
    style: str  # brackets | compare (only one bound)

    def _bound(self, b: Any) -> str:
        if b is None:
            return "*"
        if self.kind == "number":
            return b[1]
        return f'"{b}"' if ":" in b else b

    def text(self):
        if self.style == "compare":
            if self.low is not None:
                return f"{self.field}:{'>=' if self.incl_low else '>'}{self._bound(self.low)}"
            return f"{self.field}:{'<=' if self.incl_high else '<'}{self._bound(self.high)}"
        left, right = "[" if self.incl_low else "{", "]" if self.incl_high else "}"
        return f"{self.field}:{left}{self._bound(self.low)} TO {self._bound(self.high)}{right}"

    def _interval(self) -> tuple[Any, bool, Any, bool]:
        """(low, low inclusive, high, high inclusive) in the field's own values."""
        lo, hi, il, ih = self.low, self.high, self.incl_low, self.incl_high
        if self.kind == "number":
            return (None if lo is None else lo[0], il, None if hi is None else hi[0], ih)
        if self.kind == "keyword":
            return lo, il, hi, ih
        day = dt.timedelta(days=1)
        if lo is not None:
            lo_t = instant(lo)
            if len(lo) == 10 and not il:  # a day bound is the whole day
                lo_t, il = lo_t + day, True
            lo = lo_t
        if hi is not None:
            hi_t = instant(hi)
            if len(hi) == 10 and ih:
                hi_t, ih = hi_t + day, False
            hi = hi_t
        return lo, il, hi, ih

    def match(self, doc):
        lo, il, hi, ih = self._interval()
        converters: dict[str, Callable[[Any], Any]] = {"number": float, "keyword": str, "date": instant}
        convert = converters[self.kind]
        for raw in values(doc, self.field):
            v = convert(raw)
            if lo is not None and (v < lo or (v == lo and not il)):
                continue
            if hi is not None and (v > hi or (v == hi and not ih)):
                continue
            return True
        return False


@dataclass
class Exists(Node):
    field: str
    style: int

    def text(self):
        return [f"_exists_:{self.field}", f"{self.field}:*", f"{self.field}:[* TO *]"][self.style]

    def match(self, doc):
        return bool(values(doc, self.field))


@dataclass
class Wildcard(Node):
    field: str | None
    pattern: str

    def text(self):
        return self.pattern if self.field is None else f"{self.field}:{self.pattern}"

    def match(self, doc):
        rx = wildcard_to_re(self.pattern)
        if self.field is None:
            return any(re.fullmatch(rx.lower(), w) for s in strings(doc) for w in words_of(s))
        return any(
            re.fullmatch(rx, v, re.S) or any(re.fullmatch(rx.lower(), w) for w in words_of(v))
            for v in values(doc, self.field)
        )


@dataclass
class Regex(Node):
    field: str
    pattern: str

    def text(self):
        return f"{self.field}:/{self.pattern}/"

    def match(self, doc):
        return any(
            re.fullmatch(self.pattern, v, re.S) or any(re.fullmatch(self.pattern, w) for w in words_of(v))
            for v in values(doc, self.field)
        )


@dataclass
class Fuzzy(Node):
    field: str | None
    word: str
    distance: int

    def text(self):
        return (
            f"{self.word}~{self.distance}"
            if self.field is None
            else f"{self.field}:{self.word}~{self.distance}"
        )

    def match(self, doc):
        token = words_of(self.word)
        lowered = token[0] if len(token) == 1 else self.word.lower()
        if self.field is None:
            return any(osa(lowered, w) <= self.distance for s in strings(doc) for w in words_of(s))
        return any(
            osa(self.word, v) <= self.distance
            or (len(token) == 1 and any(osa(token[0], w) <= self.distance for w in words_of(v)))
            for v in values(doc, self.field)
        )


@dataclass
class FieldGroup(Node):
    field: str
    items: list[tuple[str, float]]  # (written, value): numbers, possibly negative
    op: str

    def text(self):
        return f"{self.field}:({f' {self.op} '.join(w for w, _ in self.items)})"

    def match(self, doc):
        hits = [any(float(v) == x for v in values(doc, self.field)) for _, x in self.items]
        return all(hits) if self.op == "AND" else any(hits)


@dataclass
class And(Node):
    a: Node
    b: Node
    style: int

    def text(self):
        a, b = self.a.text(), self.b.text()
        return [f"({a} AND {b})", f"({a} {b})", f"(+({a}) +({b}))"][self.style]

    def match(self, doc):
        return self.a.match(doc) and self.b.match(doc)


@dataclass
class Or(Node):
    a: Node
    b: Node

    def text(self):
        return f"({self.a.text()} OR {self.b.text()})"

    def match(self, doc):
        return self.a.match(doc) or self.b.match(doc)


@dataclass
class Not(Node):
    a: Node
    style: int

    def text(self):
        return [f"NOT ({self.a.text()})", f"-({self.a.text()})", f"(*:* AND NOT {self.a.text()})"][self.style]

    def match(self, doc):
        return not self.a.match(doc)


@dataclass
class AndNot(Node):
    """``a -b``: a prohibited clause beside a required one."""

    a: Node
    b: Node

    def text(self):
        return f"({self.a.text()} -{self.b.text()})"

    def match(self, doc):
        return self.a.match(doc) and not self.b.match(doc)


def written_number(draw: st.DrawFn, x: float) -> str:
    forms = [repr(float(x)), str(x)]
    if float(x).is_integer() and abs(x) < 1e15:
        forms += [str(int(x)), f"{int(x)}.0"]
    return draw(st.sampled_from(forms))


@st.composite
def number_bound(draw: st.DrawFn) -> tuple[float, str]:
    x = draw(st.sampled_from([*NUMBERS, 1.5, -1, 2.25, 100]))
    return float(x), written_number(draw, x)


@st.composite
def wildcard_pattern(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from([w for w in VOCAB if " " not in w] + ["epsilon", "zeta"]))
    chars = list(word)
    for _ in range(draw(st.integers(1, 2))):
        i = draw(st.integers(0, len(chars) - 1))
        chars[i] = draw(st.sampled_from(["*", "?"]))
    if draw(st.booleans()):
        chars.append("*")
    return "".join(chars)


@st.composite
def regex_pattern(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(VOCAB))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return re.escape(word).replace("\\ ", " ").replace("\\-", "-")
    if kind == 1:  # some letters any character
        return "".join("." if draw(st.booleans()) else c for c in word if c not in " -")
    if kind == 2:  # a prefix, then anything
        return word[: draw(st.integers(1, len(word)))].replace(" ", "").replace("-", "") + ".*"
    other = draw(st.sampled_from(VOCAB)).replace(" ", "").replace("-", "")
    return f"{word.replace(' ', '').replace('-', '')}|{other[:2]}.*"  # an alternation


@st.composite
def leaf(draw: st.DrawFn) -> Node:
    kind = draw(
        st.sampled_from(
            ["kw", "bare", "num", "bool", "date", "range", "exists", "wild", "regex", "fuzzy", "group"]
        )
    )
    if kind == "kw":
        return KeywordTerm(draw(st.sampled_from(KEYWORD_FIELDS)), draw(st.sampled_from(WORDS + VOCAB)))
    if kind == "bare":
        return KeywordTerm(None, draw(st.sampled_from([*WORDS, "epsilon zeta", "alpha beta"])))
    if kind == "num":
        x, w = draw(number_bound())
        return NumberTerm(draw(st.sampled_from(NUMBER_FIELDS)), x, w)
    if kind == "bool":
        value = draw(st.booleans())
        return BoolTerm(value, draw(st.sampled_from([str(value).lower(), str(value).upper(), str(value)])))
    if kind == "date":
        return DateTerm(draw(st.sampled_from(DATES + DAYS)), draw(st.booleans()))
    if kind == "range":
        rkind = draw(st.sampled_from(["number", "date", "keyword"]))
        field = {
            "number": draw(st.sampled_from(NUMBER_FIELDS)),
            "date": "d",
            "keyword": draw(st.sampled_from(KEYWORD_FIELDS)),
        }[rkind]
        bound = {
            "number": number_bound(),
            "date": st.sampled_from(DAYS + DATES),
            "keyword": st.sampled_from(RANGE_WORDS),
        }[rkind]
        style = draw(st.sampled_from(["brackets", "compare"]))
        low = draw(bound) if style == "brackets" else None
        high = draw(bound) if style == "brackets" else None
        if style == "compare":
            if draw(st.booleans()):
                low = draw(bound)
            else:
                high = draw(bound)
        elif draw(st.integers(0, 4)) == 0:
            low, high = (None, high) if draw(st.booleans()) else (low, None)
        return Range(field, rkind, low, high, draw(st.booleans()), draw(st.booleans()), style)
    if kind == "exists":
        return Exists(draw(st.sampled_from(["kw", "tags", "n", "ns", "b", "d"])), draw(st.integers(0, 2)))
    if kind == "wild":
        return Wildcard(draw(st.sampled_from([*KEYWORD_FIELDS, None])), draw(wildcard_pattern()))
    if kind == "regex":
        return Regex(draw(st.sampled_from(KEYWORD_FIELDS)), draw(regex_pattern()))
    if kind == "fuzzy":
        word = draw(st.sampled_from(["alpha", "Alpah", "bet", "gama", "x1", "zeta", "Delta", "epsilon", "x"]))
        return Fuzzy(draw(st.sampled_from([*KEYWORD_FIELDS, None])), word, draw(st.integers(0, 2)))
    items = [draw(number_bound()) for _ in range(draw(st.integers(1, 3)))]
    return FieldGroup(
        draw(st.sampled_from(NUMBER_FIELDS)), [(w, x) for x, w in items], draw(st.sampled_from(["OR", "AND"]))
    )


def queries() -> st.SearchStrategy[Node]:
    return st.recursive(
        leaf(),
        lambda inner: st.one_of(
            st.builds(And, inner, inner, st.integers(0, 2)),
            st.builds(Or, inner, inner),
            st.builds(Not, inner, st.integers(0, 2)),
            st.builds(AndNot, inner, inner),
        ),
        max_leaves=5,
    )


# -- the property ----------------------------------------------------------------


def check(index: Any, docs: list[dict[str, Any]], node: Node) -> None:
    q = node.text()
    expected = {d["id"] for d in docs if node.match(d)}
    res = index.search(q, ADMIN, limit=100)
    got = {h.id for h in res.hits}
    assert got == expected, (
        f"query {q!r}\n  missing {sorted(expected - got)}\n  unexpected {sorted(got - expected)}\n"
        f"  records: {[d for d in docs if d['id'] in got ^ expected]}"
    )
    assert res.total == len(expected), q


@settings(
    max_examples=50,
    phases=NO_SHRINK,  # examples are costly: report the first failure as found
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(corpora(), st.lists(queries(), min_size=1, max_size=25))
def test_index_agrees_with_brute_force(sources: list[list[dict[str, Any]]], nodes: list[Node]):
    docs = [d for part in sources for d in part]
    with tempfile.TemporaryDirectory() as tmp:
        index = index_of(Path(tmp) / "index", {f"s{i}": part for i, part in enumerate(sources)})
        for node in nodes:
            check(index, docs, node)


def test_evaluator_knows_the_documented_meaning():
    """A few fixed points of the evaluator itself (so a bug there cannot hide one in the index)."""
    doc = {
        "id": "doc-1",
        "kw": "epsilon zeta",
        "tags": ["Alpha", "gamma-ray"],
        "n": 2,
        "d": "2020-01-06T00:30:00+01:00",
    }
    assert KeywordTerm("kw", "zeta").match(doc) and KeywordTerm("tags", "ray").match(doc)
    assert not KeywordTerm(None, "alpha gamma").match(doc)  # words of two values are not a phrase
    assert NumberTerm("n", 2.0, "2.0").match(doc)
    assert DateTerm("2020-01-05", False).match(doc) and not DateTerm("2020-01-06", True).match(doc)
    day_range = Range("d", "date", None, "2020-01-05", True, True, "compare")
    assert day_range.match(doc) and not Range("d", "date", None, "2020-01-05", True, False, "compare").match(
        doc
    )
    assert Wildcard("tags", "al*").match(doc) and not Wildcard("tags", "al?").match(doc)
    assert Regex("kw", "eps.*").match(doc) and not Regex("kw", "zet").match(doc)
    assert Fuzzy("tags", "Alpah", 1).match(doc) and not Fuzzy("tags", "Alpah", 0).match(doc)
    assert osa("alpha", "alpah") == 1 and osa("alpha", "beta") == 4
