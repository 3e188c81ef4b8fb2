"""sha256 of files, streams and bytes, read in chunks of :data:`CHUNK` bytes.

Nothing is cached: the blob store hashes a file while it copies it and returns the
hash in the file's entry (:class:`hub.store.entry.StoredFile`), which is how the
extractors get it.
"""

from __future__ import annotations

import hashlib
import os
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


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the sha256 of a local file, read now."""
    with open(path, "rb") as f:
        return sha256_stream(f)[0]


def sha256_bytes(data: bytes) -> str:
    """Return the sha256 of ``data``, as hex."""
    return hashlib.sha256(data).hexdigest()
