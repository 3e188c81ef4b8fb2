"""Files published by reference: read where they are, through fsspec, their sha256 checked.

A dataset submitted with ``copy=False`` keeps its files at their source (``https://``,
``s3://``, ``gs://``, a local path, ``memory://``, ...); the hub records each one's sha256,
length and URL (a :class:`Reference`).  Reads open the source again: a file that is
gone is a :class:`~hub.exceptions.NotFoundError` naming it, a file whose size changed a
:class:`~hub.exceptions.SourceChangedError` at once, and a full read whose bytes do not
hash to the recorded sha256 a :class:`~hub.exceptions.SourceChangedError` at its end
(:class:`~hub.store.blobs.VerifyingReader`): never silently different bytes.

Partial reads (an extractor reading a header, an HTTP ``Range``) go through fsspec's
block cache, so a remote file is fetched in range requests of :data:`RANGE_BLOCK` bytes,
only the blocks read.  ``options`` are the fsspec storage options to open a URL with
(the service's address guard, :func:`hub.connect.urlguard.guarded_storage_options`).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from fsspec.core import url_to_fs

from hub.exceptions import NotFoundError, SourceChangedError
from hub.store.blobs import VerifyingReader
from hub.store.hashing import CHUNK

#: The block of a partial read at a source: one range request each, kept in a small LRU.
RANGE_BLOCK = 1 << 17
#: The block of a full read (hashing, downloads): few large requests.
STREAM_BLOCK = 8 << 20


@dataclass(frozen=True)
class Reference:
    """A file of a dataset version kept at its source.

    Attributes
    ----------
    url : str
        Where the file is (an fsspec URL).
    sha256 : str
        The sha256 of its bytes when it was published.
    length : int
        Its size in bytes when it was published.
    name : str
        How errors name it: ``<source_id>/<path>``.
    """

    url: str
    sha256: str
    length: int
    name: str


def open_source(url: str, options: Mapping[str, Any], *, whole: bool = False, name: str = "") -> IO[bytes]:
    """Open ``url`` for reading: in small cached blocks, or in large ones for a ``whole`` read.

    Raises
    ------
    NotFoundError
        When nothing is at ``url`` (``name``, else the URL, says which file).
    """
    fs, path = url_to_fs(url, **dict(options))
    block = STREAM_BLOCK if whole else RANGE_BLOCK
    cache = "readahead" if whole else "blockcache"
    try:
        f: IO[bytes] = fs.open(path, "rb", block_size=block, cache_type=cache)
    except FileNotFoundError:
        raise NotFoundError(
            f"{name or url} is no longer at its source ({url}): it was moved or deleted"
        ) from None
    return f


def source_size(url: str, options: Mapping[str, Any]) -> int:
    """The size in bytes of the file at ``url`` (asked of the source: an HTTP ``HEAD``)."""
    fs, path = url_to_fs(url, **dict(options))
    try:
        return int(fs.size(path))
    except FileNotFoundError:
        raise NotFoundError(f"{url} is not at its source: it was moved or deleted") from None


def open_reference(ref: Reference, options: Mapping[str, Any], *, verify: bool = True) -> IO[bytes]:
    """Open a referenced file at its source; with ``verify`` a full sequential read checks its sha256.

    Raises
    ------
    NotFoundError
        When the file is gone from its source.
    SourceChangedError
        When its size is no longer the one recorded (and, at the end of a full read, when
        its bytes do not hash to the recorded sha256).
    """
    f = open_source(ref.url, options, name=ref.name)
    size = getattr(f, "size", None)
    if size is not None and int(size) != ref.length:
        f.close()
        raise SourceChangedError(
            f"{ref.name} changed at its source ({ref.url}): it is now {int(size):,} bytes, the hub "
            f"recorded {ref.length:,}; the dataset's owner may re-submit it"
        )
    if not verify:
        return f
    return VerifyingReader(f, ref.sha256, ref.length, source=ref.name)  # type: ignore[return-value]


def hash_source(
    url: str, options: Mapping[str, Any], dest: str | os.PathLike[str] | None = None
) -> tuple[str, int]:
    """The sha256 and length of the file at ``url``, read once in full.

    With ``dest`` the bytes are also written there (atomically), for an extractor that
    needs a local file; otherwise nothing is kept.
    """
    h = hashlib.sha256()
    length = 0
    tmp = None if dest is None else Path(dest).with_name(f".{Path(dest).name}.part-{uuid.uuid4().hex[:8]}")
    try:
        with open_source(url, options, whole=True) as src, ExitStack() as stack:
            out = None if tmp is None else stack.enter_context(open(tmp, "wb"))
            while chunk := src.read(STREAM_BLOCK):
                h.update(chunk)
                length += len(chunk)
                if out is not None:
                    out.write(chunk)
        if tmp is not None and dest is not None:
            os.replace(tmp, dest)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return h.hexdigest(), length


def copy_reference(ref: Reference, dest: str | os.PathLike[str], options: Mapping[str, Any]) -> Path:
    """Copy a referenced file from its source to ``dest``, verifying its sha256 on the way; atomic.

    Raises
    ------
    NotFoundError, SourceChangedError
        As :func:`open_reference`; nothing is left at ``dest``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part-{uuid.uuid4().hex[:8]}")
    try:
        with open_reference(ref, options) as src, open(tmp, "wb") as out:
            while chunk := src.read(CHUNK):
                out.write(chunk)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def reference_intact(ref: Reference, options: Mapping[str, Any]) -> bool:
    """Whether the file is still at its source with the recorded size and sha256 (read in full)."""
    try:
        with open_reference(ref, options) as f:
            while f.read(STREAM_BLOCK):
                pass
    except Exception:  # gone, changed, unreachable: not what was published
        return False
    return True
