"""Files chosen in a browser (an ``ipywidgets.FileUpload``'s value) written to a folder, so
a submission collects them like any other folder."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def safe_name(name: str) -> str:
    """The file's own name, never a path (a browser sends names; nothing may climb out)."""
    base = Path(str(name).replace("\\", "/")).name.strip()
    if base in ("", ".", ".."):
        raise ValueError(f"an uploaded file has no usable name ({name!r})")
    return base


def write_uploads(files: Iterable[Mapping[str, Any]], folder: str | Path | None = None) -> Path:
    """Write each ``{"name", "content"}`` under ``folder`` (default: a new temporary folder).

    Two files of the same name become ``name`` and ``name (2)``.  Returns the folder.
    """
    root = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="matterhub-upload-"))
    root.mkdir(parents=True, exist_ok=True)
    for f in files:
        name = safe_name(f["name"])
        target = root / name
        n = 2
        while target.exists():
            stem, dot, ext = name.partition(".")
            target = root / f"{stem} ({n}){dot}{ext}"
            n += 1
        target.write_bytes(bytes(f["content"]))
    return root
