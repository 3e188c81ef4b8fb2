"""Turning catalog documents (records, datasets, servables) into index documents."""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

import tantivy

from hub.index.analysis import parse_date, rfc3339, tokenize
from hub.optimade.fields import with_optimade_fields

#: Longest string value kept whole in ``pv`` (longer ones are still in ``tx``/``all``).
MAX_KEYWORD = 256
#: Strings that are numbers (``"2019"``): also indexed as numbers (``nm``).
_NUMERIC_TEXT = re.compile(r"^[+-]?\d{1,15}(\.\d{1,15})?$")
#: Paths kept in the stored document but not indexed: bulk per-site data nobody
#: searches by value (it would make each structure record hundreds of terms).
NOT_INDEXED: dict[str, frozenset[str]] = {
    "crystal_structure": frozenset({"cartesian_site_positions", "species_at_sites"}),
}


def seq_of(doc_id: str) -> int:
    """A stable 63-bit integer for an id (scroll order, tie-break)."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") >> 1


def searchable(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` without the :data:`NOT_INDEXED` paths (a shallow copy where needed)."""
    out = doc
    for block, keys in NOT_INDEXED.items():
        inner = doc.get(block)
        if isinstance(inner, dict) and keys & inner.keys():
            if out is doc:
                out = dict(doc)
            out[block] = {k: v for k, v in inner.items() if k not in keys}
    return out


def _prepare(
    node: Any, path: str, strings: list[tuple[str, str]], types: set[tuple[str, str]]
) -> tuple[Any, Any, Any]:
    """One walk giving a node's three indexed forms.

    The walk also collects every (path, string) into ``strings`` and (path, type) into
    ``types``.  The forms:

    - keyword (``kw``): numbers as floats (a range or a term matches ints and floats
      alike), dates as RFC 3339 (tantivy indexes them as dates), non-finite numbers
      dropped;
    - numbers written as text (``nm``): ``"2019"`` as 2019.0, None when there are none;
    - strings only (``tx``), for the analyzed field.
    """
    if isinstance(node, dict):
        kw: dict[str, Any] = {}
        nm: dict[str, Any] = {}
        tx: dict[str, Any] = {}
        for key, value in node.items():
            a, b, c = _prepare(value, f"{path}.{key}" if path else str(key), strings, types)
            if a is not None and a != [] and a != {}:
                kw[key] = a
            if b is not None:
                nm[key] = b
            if c not in (None, [], {}):
                tx[key] = c
        return kw, (nm or None), tx
    if isinstance(node, list):
        kws, nms, txs = [], [], []
        for value in node:
            a, b, c = _prepare(value, path, strings, types)
            if a is not None:
                kws.append(a)
            if b is not None:
                nms.append(b)
            if c not in (None, [], {}):
                txs.append(c)
        return kws, (nms or None), txs
    if isinstance(node, bool):
        types.add((path, "boolean"))
        return node, None, None
    if isinstance(node, int | float):
        if not math.isfinite(node):
            return None, None, None
        types.add((path, "number"))
        return float(node), None, None
    if isinstance(node, str):
        strings.append((path, node))
        date = parse_date(node)
        types.add((path, "date" if date else "keyword"))
        number = float(node) if _NUMERIC_TEXT.match(node) else None
        return (rfc3339(date) if date else node), number, node
    return node, None, None


def prepare_document(
    doc_id: str, kind: str, source: str, acl: list[str], doc: dict[str, Any]
) -> tuple[tantivy.Document, set[tuple[str, str]]]:
    """The index document of ``doc`` and the (path, type) pairs of its searchable part."""
    d = tantivy.Document()
    d.add_text("id", doc_id)
    d.add_text("kind", kind)
    d.add_text("source", source)
    for principal in acl:
        d.add_text("acl", principal)
    d.add_integer("seq", seq_of(doc_id))
    strings: list[tuple[str, str]] = []
    types: set[tuple[str, str]] = set()
    kw, nm, tx = _prepare(searchable(with_optimade_fields(doc)), "", strings, types)
    d.add_json("kw", kw)
    if nm:
        d.add_json("nm", nm)
    if tx:
        d.add_json("tx", tx)
    words: dict[str, None] = {}  # each distinct string once, in document order
    seen_pv: set[str] = set()
    seen_pt: set[str] = set()
    for path, value in strings:
        words.setdefault(value, None)
        if len(value) <= MAX_KEYWORD:
            pv = f"{path}={value}"
            if pv not in seen_pv:
                seen_pv.add(pv)
                d.add_text("pv", pv)
        for token in tokenize(value):
            pt = f"{path}={token}"
            if pt not in seen_pt:
                seen_pt.add(pt)
                d.add_text("pt", pt)
    # one value per string: a phrase does not run from one string into the next
    # (tantivy leaves a position gap between the values of a field)
    for value in words:
        d.add_text("all", value)
    d.add_text("src", json.dumps(doc, separators=(",", ":")))
    return d, types


def index_document(
    doc_id: str, kind: str, source: str, acl: list[str], doc: dict[str, Any]
) -> tantivy.Document:
    """The index document of ``doc`` (see :func:`prepare_document`)."""
    return prepare_document(doc_id, kind, source, acl, doc)[0]
