"""Merge: the parts extractors gave for one group become record documents.

Parts are deep-merged in extractor order (the grouping or most specific
extractor first, the generic one last): nested dicts merge, and the first value
set for a field wins.  A part that is a list (a mapped table: one entry per
row) makes one record per entry, each with the group's ``files`` block.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.extractors.base import Extracted


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` merged into a copy of ``base``; values already in ``base`` win."""
    out = dict(base)
    for key, value in extra.items():
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = deep_merge(out[key], value)
        elif key not in out or out[key] in (None, [], {}):
            out[key] = value
    return out


def merge_parts(parts: Sequence[tuple[str, Extracted]]) -> list[tuple[dict[str, Any], list[str]]]:
    """Record bodies (without the ``mdf`` block) and the extractors behind each."""
    single: dict[str, Any] = {}
    names: list[str] = []
    many: list[dict[str, Any]] | None = None
    many_name = ""
    for name, part in parts:
        if isinstance(part, list):
            if many is None:
                many, many_name = part, name
            continue
        single = deep_merge(single, part)
        names.append(name)
    if many is None:
        return [(single, names)] if single else []
    files = single.get("files")
    rows = []
    for body in many:
        rows.append(
            (
                {**body, "files": files} if files else dict(body),
                [many_name, "generic"] if files else [many_name],
            )
        )
    return rows
