"""The index mapping (``GET /beta/index/{index_id}/mapping``): field path -> type.

MDF Forge's ``show_fields`` reads it.  Types are those of Globus Search (the
Elasticsearch names): ``text`` for strings, ``double`` for numbers, ``date``,
``boolean``; a field holding several types gets the type most documents give it.
Only what the caller may see contributes a field.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hub.hubs.embedded import EmbeddedHub
from hub.index.analysis import value_type
from hub.service.globus.indexes import GlobusIndex

TYPE_NAMES = {"keyword": "text", "number": "double", "date": "date", "boolean": "boolean"}
#: Servable documents read to list the servables index's fields.
MAX_SERVABLES = 10_000


def _walk(node: Any, path: str, out: dict[str, Counter[str]], seen: set[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _walk(value, f"{path}.{key}" if path else str(key), out, seen)
    elif isinstance(node, list):
        for value in node:
            _walk(value, path, out, seen)
    else:
        typ = value_type(node)
        if typ is not None and path and (path, typ) not in seen:
            seen.add((path, typ))
            out.setdefault(path, Counter())[typ] += 1


def _servable_fields(hub: EmbeddedHub) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {}
    for hit in hub.servables("*", limit=MAX_SERVABLES).hits:
        _walk(hit.document, "", out, set())
    return {p: dict(c) for p, c in sorted(out.items())}


def field_types(hub: EmbeddedHub, index: GlobusIndex) -> dict[str, str]:
    """``{path: type}`` of the fields the caller may see in ``index``."""
    fields = _servable_fields(hub) if index.kind == "dlhub" else hub.fields()
    out = {path: TYPE_NAMES.get(max(sorted(t), key=t.__getitem__), "text") for path, t in fields.items()}
    if index.kind == "mdf" and out:
        out.setdefault("mdf.scroll_id", "double")  # dataset entries sit at scroll id 0
    return dict(sorted(out.items()))


def mapping_document(hub: EmbeddedHub, index: GlobusIndex, field: str | None = None) -> dict[str, Any]:
    """The ``UGFieldMappings`` document of ``index``: every field's type, or only ``field``'s.

    ``mappings`` is empty when ``field`` is not a field the caller may see.
    """
    types = field_types(hub, index)
    if field is not None:
        types = {field: types[field]} if field in types else {}
    return {"@datatype": "UGFieldMappings", "@version": "2017-09-01", "mappings": types}
