"""Helpers of the access tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_rows(folder: Path, rows: list[dict[str, Any]], name: str = "rows.json") -> Path:
    """A folder holding ``rows`` as one JSON file (for a submission with a mapping)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(rows, indent=1))
    return folder
