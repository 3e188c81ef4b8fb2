"""Helpers shared by the index tests: the real mineral CIFs, and small indexes
built straight from documents (no catalog) for property tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ase
import pytest

from hub.access import Principal
from hub.index.engine import IndexDoc, SearchIndex

MINERALS = Path(ase.__file__).parent / "test" / "testdata" / "minerals"
#: Sees everything (the filter is skipped for admins).
ADMIN = Principal("root", frozenset({"admin"}))


@pytest.fixture(scope="session")
def minerals() -> Path:
    """The 8 COD mineral CIFs shipped in the ase wheel."""
    if not MINERALS.is_dir():
        pytest.skip("this ase build ships no test data")
    return MINERALS


def write_rows(folder: Path, rows: list[dict[str, Any]], name: str = "rows.json") -> Path:
    """A folder holding ``rows`` as one JSON file (for a submission with a mapping)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(rows, indent=1))
    return folder


def index_of(
    path: Path, sources: dict[str, list[dict[str, Any]]], acl: Iterable[str] = ("public",)
) -> SearchIndex:
    """A SearchIndex at ``path`` holding ``{source: [doc, ...]}``; each document's
    id is its ``id`` key.  One commit (one segment) per source."""
    index = SearchIndex(path)
    for source, docs in sources.items():
        index.replace_sources([source], [IndexDoc(d["id"], "record", source, list(acl), d) for d in docs])
    return index


def hit_ids(result: Any) -> set[str]:
    return {h.id for h in result.hits}
