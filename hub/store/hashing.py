"""sha256 of files, computed once per file version: the blob store hashes a
file while it copies it and :func:`remember` s the result, so the generic
extractor's :func:`sha256_file` does not read the file again."""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
_MAX_CACHED = 200_000
_cache: OrderedDict[tuple[str, int, int], str] = OrderedDict()


def sha256_stream(f: BinaryIO) -> tuple[str, int]:
    """Hash an open binary stream; returns (hex digest, bytes read)."""
    h = hashlib.sha256()
    n = 0
    while chunk := f.read(CHUNK):
        h.update(chunk)
        n += len(chunk)
    return h.hexdigest(), n


def _key(path: str | os.PathLike[str]) -> tuple[str, int, int]:
    st = os.stat(path)
    return (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def remember(path: str | os.PathLike[str], sha256: str) -> None:
    """Record the sha256 of a local file as it is now (size and mtime are part of the key)."""
    _cache[_key(path)] = sha256
    if len(_cache) > _MAX_CACHED:
        _cache.popitem(last=False)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 of a local file, cached while the file is unchanged."""
    key = _key(path)
    sha = _cache.get(key)
    if sha is None:
        with open(path, "rb") as f:
            sha = sha256_stream(f)[0]
        _cache[key] = sha
        if len(_cache) > _MAX_CACHED:
            _cache.popitem(last=False)
    return sha


def clear_cache() -> None:
    _cache.clear()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
