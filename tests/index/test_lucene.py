"""The Lucene parser (hub/index/lucene.py): luqum's trees, node for node, in linear time,
from any thread."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from luqum import tree
from luqum.parser import parser as luqum_parser

from hub.index import lucene
from hub.index.lucene import parse

PIECES = [
    *list(':"()[]{}<>=*?~^+-!&|/\\ .,\''),
    " AND ", " OR ", " NOT ", " TO ", "a", "b", "kw", "x:", "1", "2.5", "2020-01-01", "  ", "foo bar",
]  # fmt: skip


def _outcome(parser: Any, text: str) -> Any:
    try:
        return parser(text)
    except Exception as exc:  # the same exception, whatever it is
        return (type(exc).__name__, str(exc))


def _same(text: str) -> None:
    ours, theirs = _outcome(parse, text), _outcome(luqum_parser.parse, text)
    if isinstance(ours, tuple) or isinstance(theirs, tuple):
        assert ours == theirs
        return
    assert ours == theirs and repr(ours) == repr(theirs) and str(ours) == str(theirs)
    stack = [(ours, theirs)]
    while stack:
        a, b = stack.pop()
        assert (a.pos, a.size, a.head, a.tail) == (b.pos, b.size, b.head, b.tail), (text, a)
        assert type(a.children) is type(b.children)
        stack.extend(zip(a.children, b.children, strict=True))


@settings(max_examples=1500, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(PIECES), max_size=15))
@example(["a", " ", "b", " ", "c"])
@example(["a", " OR ", "b", " ", "kw", " OR ", "x:", "1"])
@example(["(", "a", " OR ", "b", ")", " OR ", "(", "a", " AND ", "b", ")"])
def test_the_trees_are_luqums(pieces: list[str]) -> None:
    _same("".join(pieces))


class _CountingDeque(deque):  # type: ignore[type-arg]
    """A deque that counts the operands it is given: the parser's copying work."""

    moved = 0

    def __init__(self, items: Any = ()) -> None:
        items = list(items)
        _CountingDeque.moved += len(items)
        super().__init__(items)

    def extend(self, items: Any) -> None:
        items = list(items)
        _CountingDeque.moved += len(items)
        super().extend(items)

    def extendleft(self, items: Any) -> None:
        items = list(items)
        _CountingDeque.moved += len(items)
        super().extendleft(items)


def test_long_chains_parse_in_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """luqum copies a chain's operands at each step (40,000 terms took 7 s): n*n/2 moves.

    Counted, not timed: the operands the parser moves between deques, whatever the machine.
    """
    monkeypatch.setattr(lucene, "deque", _CountingDeque)
    for n in (2_000, 32_000):
        for sep in (" OR ", " AND ", " "):
            text = sep.join(f"w{i}" for i in range(n))
            _CountingDeque.moved = 0
            root = parse(text)
            assert len(root.children) == n and isinstance(root.children, tuple)
            assert [str(c) for c in root.children[:3]] == ["w0", "w1", "w2"]
            # each operand enters a deque once and moves once when the chain grows
            assert _CountingDeque.moved <= 2 * n, (n, sep, _CountingDeque.moved)
    # a chain built from both sides ((a OR b) OR (c OR d) ...): the shorter side moves
    n = 4_096
    words = [f"w{i}" for i in range(n)]
    while len(words) > 1:
        words = [f"({a} OR {b})" for a, b in zip(words[::2], words[1::2], strict=True)]
    _CountingDeque.moved = 0
    root = parse(words[0])
    assert _CountingDeque.moved <= n * (n.bit_length() + 1), _CountingDeque.moved


def test_threads_parse_at_once() -> None:
    texts = [f"a{i} OR (b{i} AND c{i}) OR d{i}:[1 TO {i}]" for i in range(8)]
    expected = [str(luqum_parser.parse(t)) for t in texts]
    failures: list[str] = []

    def work(i: int) -> None:
        for _ in range(200):
            got = parse(texts[i])
            if str(got) != expected[i] or not isinstance(got, tree.Item):
                failures.append(texts[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
