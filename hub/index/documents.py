"""Turning catalog documents (records, datasets, servables) into index documents."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from typing import Any

import tantivy

from hub.index.analysis import leaves, normalize, tokenize, value_type

#: Longest string value kept whole in ``pv`` (longer ones are still in ``tx``/``all``).
MAX_KEYWORD = 256


def seq_of(doc_id: str) -> int:
    """A stable 63-bit integer for an id (scroll order, tie-break)."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") >> 1


def strings_of(doc: Any) -> dict[str, Any]:
    """The document with only its string leaves (for the analyzed JSON field)."""
    if isinstance(doc, dict):
        out = {k: strings_of(v) for k, v in doc.items()}
        return {k: v for k, v in out.items() if v not in (None, [], {})}
    if isinstance(doc, list):
        return [s for s in (strings_of(v) for v in doc) if s not in (None, [], {})]  # type: ignore[return-value]
    return doc if isinstance(doc, str) else None  # type: ignore[return-value]


_NUMERIC_TEXT = re.compile(r"^[+-]?\d{1,15}(\.\d{1,15})?$")


def numeric_strings(doc: Any) -> Any:
    """The document's strings that are numbers (``"2019"``, ``"-1.5"``), as floats; None if none."""
    if isinstance(doc, dict):
        out = {k: n for k, v in doc.items() if (n := numeric_strings(v)) is not None}
        return out or None
    if isinstance(doc, list):
        items = [n for v in doc if (n := numeric_strings(v)) is not None]
        return items or None
    if isinstance(doc, str) and _NUMERIC_TEXT.match(doc):
        return float(doc)
    return None


#: Paths kept in the stored document but not indexed: bulk per-site data nobody
#: searches by value (it would make each structure record hundreds of terms).
NOT_INDEXED: dict[str, frozenset[str]] = {
    "crystal_structure": frozenset({"cartesian_site_positions", "species_at_sites"}),
}


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


def field_types(doc: dict[str, Any]) -> Counter[tuple[str, str]]:
    """(path, type) pairs present in a document's searchable part, each counted once."""
    return Counter({(path, t): 1 for path, v in leaves(searchable(doc)) if (t := value_type(v))})


def index_document(
    doc_id: str, kind: str, source: str, acl: list[str], doc: dict[str, Any]
) -> tantivy.Document:
    d = tantivy.Document()
    d.add_text("id", doc_id)
    d.add_text("kind", kind)
    d.add_text("source", source)
    for principal in acl:
        d.add_text("acl", principal)
    d.add_integer("seq", seq_of(doc_id))
    stored, doc = doc, searchable(doc)
    d.add_json("kw", normalize(doc))
    numbers = numeric_strings(doc)
    if numbers:
        d.add_json("nm", numbers)
    text = strings_of(doc)
    if text:
        d.add_json("tx", text)
    words: dict[str, None] = {}  # each distinct string once, in document order
    seen_pv: set[str] = set()
    seen_pt: set[str] = set()
    for path, value in leaves(doc):
        if not isinstance(value, str):
            continue
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
    d.add_text("src", json.dumps(stored, separators=(",", ":")))
    return d
