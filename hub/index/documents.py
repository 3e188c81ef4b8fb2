"""Turning catalog documents (records, datasets, servables) into index documents."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from typing import Any

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


#: How many distinct short strings :func:`_analyzed` remembers (then it starts again), and
#: the longest one it keeps (hashes and paths, unique to a record, are longer): a few MB.
ANALYSIS_CACHE = 65_536
CACHED_LENGTH = 48
_ANALYSIS: dict[str, tuple[str, float | None, str, tuple[str, ...]]] = {}


def _analyzed(value: str) -> tuple[str, float | None, str, tuple[str, ...]]:
    """How a string is indexed: its keyword form, its number, its type and its tokens.

    The same values recur across records (element symbols, codes, file types, dataset
    names, dates), so short strings are analyzed once and remembered.
    """
    hit = _ANALYSIS.get(value)
    if hit is None:
        date = parse_date(value)
        hit = (
            rfc3339(date) if date else value,
            float(value) if _NUMERIC_TEXT.match(value) else None,
            "date" if date else "keyword",
            tuple(tokenize(value)),
        )
        if len(value) <= CACHED_LENGTH:
            if len(_ANALYSIS) >= ANALYSIS_CACHE:
                _ANALYSIS.clear()
            _ANALYSIS[value] = hit
    return hit


def _prepare(
    node: Any, path: str, strings: list[tuple[str, str, tuple[str, ...]]], types: set[tuple[str, str]]
) -> tuple[Any, Any, Any]:
    """One walk giving a node's three indexed forms.

    The walk also collects every (path, string, tokens) into ``strings`` and (path, type)
    into ``types``.  The forms:

    - keyword (``kw``): numbers as floats (a range or a term matches ints and floats
      alike), dates as RFC 3339 (tantivy indexes them as dates), non-finite numbers
      dropped;
    - numbers written as text (``nm``): ``"2019"`` as 2019.0, None when there are none;
    - strings only (``tx``), for the analyzed field.
    """
    t = type(node)
    if t is str:
        keyword, number, typ, tokens = _analyzed(node)
        strings.append((path, node, tokens))
        types.add((path, typ))
        return keyword, number, node
    if t is float or t is int:
        if not math.isfinite(node):
            return None, None, None
        types.add((path, "number"))
        return float(node), None, None
    if t is dict:
        kw: dict[str, Any] = {}
        nm: dict[str, Any] = {}
        tx: dict[str, Any] = {}
        prefix = f"{path}." if path else ""
        for key, value in node.items():
            a, b, c = _prepare(value, f"{prefix}{key}", strings, types)
            if a is not None and a != [] and a != {}:
                kw[key] = a
            if b is not None:
                nm[key] = b
            if c is not None and c != [] and c != {}:
                tx[key] = c
        return kw, (nm or None), tx
    if t is list:
        kws, nms, txs = [], [], []
        for value in node:
            a, b, c = _prepare(value, path, strings, types)
            if a is not None:
                kws.append(a)
            if b is not None:
                nms.append(b)
            if c is not None and c != [] and c != {}:
                txs.append(c)
        return kws, (nms or None), txs
    if t is bool:
        types.add((path, "boolean"))
        return node, None, None
    # subclasses (an enum, numpy's float64): as the plain value
    if isinstance(node, bool):
        return _prepare(bool(node), path, strings, types)
    if isinstance(node, int | float):
        return _prepare(float(node), path, strings, types)
    if isinstance(node, str):
        return _prepare(str.__str__(node), path, strings, types)
    if isinstance(node, dict):
        return _prepare(dict(node), path, strings, types)
    if isinstance(node, list):
        return _prepare(list(node), path, strings, types)
    return node, None, None


def prepare_document(
    doc_id: str, kind: str, source: str, acl: list[str], doc: dict[str, Any]
) -> tuple[str, set[tuple[str, str]]]:
    """The index document of ``doc`` as JSON text, and the (path, type) pairs of its searchable part.

    The text is what :meth:`tantivy.IndexWriter.add_json` takes: tantivy parses and
    converts it without holding the GIL, so the next document is prepared meanwhile.

    Parameters
    ----------
    doc_id, kind, source : str
        The document's id, kind (``record``, ``dataset``, ``servable``) and dataset version.
    acl : list of str
        The principals that may see it (:func:`hub.access.index.document_acl`).
    doc : dict
        The catalog document, stored whole in ``src``.

    Returns
    -------
    tuple of (str, set of (str, str))
        The JSON text of the fields of :mod:`hub.index.schema`, and the (path, type)
        pairs for :class:`~hub.index.registry.FieldRegistry`.
    """
    strings: list[tuple[str, str, tuple[str, ...]]] = []
    types: set[tuple[str, str]] = set()
    kw, nm, tx = _prepare(searchable(with_optimade_fields(doc)), "", strings, types)
    words: dict[str, None] = {}  # each distinct string once, in document order
    pv: dict[str, None] = {}
    pt: dict[str, None] = {}
    for path, value, tokens in strings:
        words[value] = None
        if len(value) <= MAX_KEYWORD:
            pv[f"{path}={value}"] = None
        for token in tokens:
            pt[f"{path}={token}"] = None
    fields: dict[str, Any] = {
        "id": doc_id,
        "kind": kind,
        "source": source,
        "acl": acl,
        "seq": seq_of(doc_id),
        "kw": kw,
        "pv": list(pv),
        "pt": list(pt),
        # one value per string: a phrase does not run from one string into the next
        # (tantivy leaves a position gap between the values of a field)
        "all": list(words),
        "src": base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode("ascii"),
    }
    if nm:
        fields["nm"] = nm
    if tx:
        fields["tx"] = tx
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False), types
