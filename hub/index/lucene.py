"""Lucene syntax parsed in time linear in the query's length, safely from any thread.

The grammar, lexer and tree are luqum's (:mod:`luqum.parser`, :mod:`luqum.tree`), with
its three binary rules (``a AND b``, ``a OR b`` and words side by side) replaced.
luqum joins a chain ``w1 OR w2 OR ... OR wn`` by copying every operand gathered so
far at each step, which costs time quadratic in the chain (40,000 terms: 7 s); here
a chain's operands are gathered in one deque and frozen into the tuple luqum's nodes
hold once the parse is done.  The trees are luqum's, node for node (positions,
heads and tails included).

PLY's lexer holds the state of one parse, so each thread lexes with its own clone.

    >>> parse("a OR b OR c")
    OrOperation(Word('a'), Word('b'), Word('c'))
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import ply.lex as lex
import ply.yacc as yacc
from luqum import parser as luqum_parser
from luqum import tree
from luqum.head_tail import head_tail


def _chain(cls: type[tree.BaseOperation], a: tree.Item, b: tree.Item, op_tail: str) -> tree.BaseOperation:
    """``a`` and ``b`` joined by operation ``cls``, as luqum's ``create_operation`` does.

    An operand that is already a ``cls`` gives its operands, without copying them:
    the shorter side is added to the longer side's deque.
    """
    left = a.operands if isinstance(a, cls) else deque([a])
    right = b.operands if isinstance(b, cls) else deque([b])
    right[0].head += op_tail
    if len(left) >= len(right):
        left.extend(right)
        operands = left
    else:
        right.extendleft(reversed(left))
        operands = right
    node = cls()
    node.operands = operands
    return node


_Action = TypeVar("_Action", bound=Callable[[Any], None])


def _rule(grammar: str) -> Callable[[_Action], _Action]:
    """Give a parser action its grammar rule (PLY reads it from ``__doc__``, as ``ply.lex.TOKEN`` does)."""

    def mark(action: _Action) -> _Action:
        action.__doc__ = grammar
        return action

    return mark


class _Grammar:
    """luqum's grammar for PLY: its tokens, precedence and rules, three rules replaced."""

    tokens = luqum_parser.tokens
    precedence = luqum_parser.precedence
    start = "expression"

    @staticmethod
    @_rule("expression : expression OR_OP expression")
    def p_expression_or(p: Any) -> None:
        p[0] = _chain(tree.OrOperation, p[1], p[3], p[2].tail)
        head_tail.binary_operation(p, op_tail=p[2].tail)

    @staticmethod
    @_rule("expression : expression AND_OP expression")
    def p_expression_and(p: Any) -> None:
        p[0] = _chain(tree.AndOperation, p[1], p[3], p[2].tail)
        head_tail.binary_operation(p, op_tail=p[2].tail)

    @staticmethod
    @_rule("expression : expression expression %prec IMPLICIT_OP")
    def p_expression_implicit(p: Any) -> None:
        p[0] = _chain(tree.UnknownOperation, p[1], p[2], "")
        head_tail.binary_operation(p, op_tail="")


for _name in dir(luqum_parser):
    if _name.startswith("p_") and not hasattr(_Grammar, _name):
        setattr(_Grammar, _name, staticmethod(getattr(luqum_parser, _name)))

_parser = yacc.yacc(module=_Grammar, write_tables=False, debug=False, errorlog=yacc.NullLogger())
_local = threading.local()


def lexer() -> lex.Lexer:
    """A clone of luqum's lexer for the calling thread (PLY's lexer holds the state of one input)."""
    lex = getattr(_local, "lexer", None)
    if lex is None:
        lex = _local.lexer = luqum_parser.lexer.clone()
    return lex


def parse(text: str) -> tree.Item:
    """The luqum tree of ``text`` (Lucene syntax).

    Raises
    ------
    luqum.exceptions.ParseError
        Where luqum's parser raises it, with the same message.
    """
    root = _parser.parse(text, lexer=lexer())
    _freeze(root)
    return root


def _freeze(root: tree.Item) -> None:
    """Make every operation's operands a tuple, as luqum's nodes hold them (no recursion)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, tree.BaseOperation) and isinstance(node.operands, deque):
            node.operands = tuple(node.operands)
        stack.extend(node.children)
