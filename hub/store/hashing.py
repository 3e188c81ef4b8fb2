"""sha256 of files, computed once per file version and shared by the generic
extractor and the blob store (keyed by path, size and mtime)."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


def sha256_stream(f: BinaryIO) -> tuple[str, int]:
    """Hash an open binary stream; returns (hex digest, bytes read)."""
    h = hashlib.sha256()
    n = 0
    while chunk := f.read(CHUNK):
        h.update(chunk)
        n += len(chunk)
    return h.hexdigest(), n


@lru_cache(maxsize=65536)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as f:
        return sha256_stream(f)[0]


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 of a local file, cached while the file is unchanged."""
    st = os.stat(path)
    return _sha256_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
