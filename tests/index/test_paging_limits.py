"""Paging limits: a page past the window is a clear error, never an engine abort (tantivy
allocates offset + limit slots; a huge offset used to abort the whole process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import Hub
from hub.exceptions import QueryError
from hub.index.engine import MAX_WINDOW


def test_huge_offsets_and_cursors_are_query_errors(tmp_path: Path) -> None:
    hub = Hub(tmp_path / "h", progress=False)
    try:
        with pytest.raises(QueryError, match="scroll"):
            hub.search("*", offset=10**12)
        with pytest.raises(QueryError):
            hub.search("*", offset=MAX_WINDOW, limit=1)
        assert hub.search("*", offset=MAX_WINDOW - 10, limit=10).total == 0
        with pytest.raises(QueryError):
            hub.scroll_page("*", after=2**70)
        with pytest.raises(QueryError):
            hub.scroll_page("*", size=0)
    finally:
        hub.close()
