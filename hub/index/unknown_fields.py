"""Warnings for the fields a search names that no document the caller may see has.

A mistyped field (``material.element:Co``, ``facets=["material.element"]``) is not an
error: the query runs and finds nothing.  The search says why, naming the nearest fields the
caller's documents do have (``did you mean 'material.elements'?``).  Only what the caller
may see counts (:meth:`hub.index.engine.SearchIndex.field_types`), so a warning tells
nothing about hidden documents.

Each warning is a dict: ``field`` (the path as given), ``where`` (``query``, ``filters``,
``facets`` or ``sort``), ``did_you_mean`` (up to three known paths) and ``message``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from luqum import tree

from hub.exceptions import did_you_mean
from hub.index.query import ALIASES, EXISTS, parse


def query_fields(query: str) -> list[str]:
    """The field paths ``query`` names, in order, once each (``*`` and bare words name none).

    >>> query_fields("material.elements:Co AND (dft.code:VASP OR material:(composition:CoO))")
    ['material.elements', 'dft.code', 'material.composition']
    >>> query_fields("_exists_:custom.gap cobalt")
    ['custom.gap']
    """
    return list(_query_fields(query))


@lru_cache(maxsize=4096)
def _query_fields(query: str) -> tuple[str, ...]:
    """:func:`query_fields`, kept for the queries asked most (a search parses its query once more here)."""
    if query.strip() in ("", "*", "*:*"):
        return ()
    return tuple(dict.fromkeys(_fields(parse(query), None)))


def _fields(node: tree.Item, outer: str | None) -> Iterator[str]:
    if isinstance(node, tree.SearchField):
        if node.name == EXISTS:
            if isinstance(node.expr, tree.Word):
                yield ALIASES.get(node.expr.value, node.expr.value)
            return
        if node.name == "*" and outer is None:
            yield from _fields(node.expr, None)
            return
        path = node.name if outer is None else f"{outer}.{node.name}"
        path = ALIASES.get(path, path)
        nested = list(_fields(node.expr, path))
        yield from nested or [path]
        return
    for child in node.children:
        yield from _fields(child, outer)


def _known(path: str, known: Collection[str]) -> bool:
    """Whether ``path`` is a field of ``known``, or an object holding some (``material``)."""
    return path in known or any(k.startswith(path + ".") for k in known)


def unknown_field_warnings(
    known: Collection[str],
    *,
    query: str = "*",
    filters: Mapping[str, Any] | None = None,
    facets: Sequence[str] = (),
    sort: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One warning per field path the search names that is not in ``known``.

    Parameters
    ----------
    known
        The field paths of the documents the caller may see.
    query, filters, facets, sort
        The search's query, its filters, its facets' fields and its sort paths.

    Returns
    -------
    list of dict
        ``field``, ``where``, ``did_you_mean`` and ``message`` of each unknown field.
    """
    named = {
        "query": query_fields(query),
        "filters": list(filters or {}),
        "facets": list(facets),
        "sort": [p for p in sort if p != "_score"],
    }
    warnings: list[dict[str, Any]] = []
    for where, paths in named.items():
        for path in dict.fromkeys(paths):
            if _known(path, known):
                continue
            nearest = did_you_mean(path, known)
            hint = (
                f"did you mean {' or '.join(repr(n) for n in nearest)}?"
                if nearest
                else "hub.fields() (matterhub fields) lists the fields there are"
            )
            warnings.append(
                {
                    "field": path,
                    "where": where,
                    "did_you_mean": nearest,
                    "message": f"no document you may see has the field {path!r} (in the {where}); {hint}",
                }
            )
    return warnings


__all__ = ["query_fields", "unknown_field_warnings"]
