"""Content-addressed blobs on any fsspec filesystem.

A blob lives at ``{root}/{sha[:2]}/{sha}`` (git's layout: 256 folders).  Writes go to a temporary
name and are moved into place, so a blob that exists is complete; putting the
same content twice stores it once.  Reads can verify the sha256 as they stream.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import IO, Any, BinaryIO

from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from hub.exceptions import IntegrityError, NotFoundError, SourceChangedError
from hub.store.entry import StoredFile
from hub.store.hashing import CHUNK


class VerifyingReader:
    """A read-only binary file over a blob that checks its sha256 when fully read.

    ``source``, for a file read at its source (published by reference), names it
    (``<source_id>/<path>``): a mismatch is then a :class:`~hub.exceptions.SourceChangedError`
    naming the file rather than a corrupt blob.
    """

    def __init__(
        self, f: IO[bytes], sha256: str, length: int | None = None, *, source: str | None = None
    ) -> None:
        self._f = f
        self._source = source
        self._expected = sha256
        self._hash = hashlib.sha256()
        self._read = 0
        self._length = length
        self._sequential = True

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all that is left when negative).

        Raises
        ------
        IntegrityError
            When a sequential read reaches the end of the blob and its content does not
            hash to its sha256 (:class:`~hub.exceptions.SourceChangedError` for a file read
            at its source).
        """
        data = self._f.read(size)
        if self._sequential and size != 0:
            self._hash.update(data)
            self._read += len(data)
            whole = size is None or size < 0
            if whole or not data or (self._length is not None and self._read >= self._length):
                self._check()
        return data

    def _check(self) -> None:
        if self._sequential and self._hash.hexdigest() != self._expected:
            self._sequential = False
            if self._source is not None:
                raise SourceChangedError(
                    f"{self._source} changed at its source: it now hashes to {self._hash.hexdigest()}, "
                    f"not the sha256 the hub recorded ({self._expected}); the dataset's owner may "
                    "re-submit it"
                )
            raise IntegrityError(
                f"blob {self._expected} is corrupt: its content hashes to {self._hash.hexdigest()}. "
                "Restore it from a backup or re-submit the dataset."
            )
        self._sequential = False

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move to ``offset``; any move but a rewind before reading ends the hash check."""
        # random access: checking the whole-file hash is no longer possible
        if not (offset == 0 and whence == 0 and self._read == 0):
            self._sequential = False
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        """The current position in the blob."""
        return self._f.tell()

    def readable(self) -> bool:
        """Whether the file can be read: always."""
        return True

    def seekable(self) -> bool:
        """Whether the file supports :meth:`seek`: always."""
        return True

    def close(self) -> None:
        """Close the underlying file."""
        self._f.close()

    @property
    def closed(self) -> bool:
        """Whether the underlying file is closed."""
        return bool(self._f.closed)

    def __enter__(self) -> VerifyingReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __iter__(self) -> Any:
        return iter(lambda: self.read(CHUNK), b"")


class BlobStore:
    """Blobs under ``url`` (a local path or any fsspec URL such as ``s3://bucket/hub``)."""

    def __init__(self, url: str | os.PathLike[str], **storage_options: Any) -> None:
        self.url = str(url)
        self.fs, self.root = url_to_fs(self.url, **storage_options)
        self.fs.makedirs(self.root, exist_ok=True)
        #: Whether the store is a local folder (small blobs are then written with plain calls).
        self.local = isinstance(self.fs, LocalFileSystem)
        self._dirs: set[str] = set()

    def path(self, sha256: str) -> str:
        """Where blob ``sha256`` lives on the store's filesystem: ``{root}/{sha256[:2]}/{sha256}``."""
        return f"{self.root}/{sha256[:2]}/{sha256}"

    def url_of(self, sha256: str) -> str:
        """An fsspec URL of the blob, for readers outside the hub."""
        url: str = self.fs.unstrip_protocol(self.path(sha256))
        return url

    def exists(self, sha256: str) -> bool:
        """Whether blob ``sha256`` is in the store."""
        return bool(self.fs.exists(self.path(sha256)))

    def put_file(self, local_path: str | os.PathLike[str], sha256: str | None = None) -> StoredFile:
        """Store a local file, hashing it as it is copied; returns its entry.

        Idempotent: content already stored is not stored twice.  The entry holds
        the sha256 and length of what was stored (extraction takes them from it, so
        no extractor reads the file again to hash it).  If ``sha256`` is given and
        the content does not match it (the file changed since it was hashed),
        nothing is stored and :class:`IntegrityError` says so.
        """
        path = Path(local_path)
        mtime_ns = path.stat().st_mtime_ns  # before reading: a change while copying shows later
        tmp = f"{self.root}/.tmp-{uuid.uuid4().hex}"
        h = hashlib.sha256()
        length = 0
        try:
            with open(path, "rb") as src, self.fs.open(tmp, "wb") as out:
                while chunk := src.read(CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                    length += len(chunk)
            sha = h.hexdigest()
            if sha256 is not None and sha != sha256:
                raise IntegrityError(
                    f"{os.fspath(local_path)} changed while it was being submitted "
                    f"(expected sha256 {sha256}, read {sha}); submit it again"
                )
            target = self.path(sha)
            if self.fs.exists(target):
                self.fs.rm_file(tmp)
            else:
                self._ensure_parent(target)
                self.fs.mv(tmp, target)
        except BaseException:
            if self.fs.exists(tmp):
                self.fs.rm_file(tmp)
            raise
        return StoredFile(path, sha, length, mtime_ns)

    def _ensure_parent(self, target: str) -> None:
        parent = target.rsplit("/", 1)[0]
        if parent not in self._dirs:
            self.fs.makedirs(parent, exist_ok=True)
            self._dirs.add(parent)

    def put_bytes(self, data: bytes) -> str:
        """Store ``data`` (once: content already stored is not stored again); return its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if self.local:  # the same steps in plain calls: fsspec's file objects cost ~0.4 ms a blob
            if not os.path.exists(target):
                self._ensure_parent(target)
                tmp = f"{self.root}/.tmp-{uuid.uuid4().hex}"
                with open(tmp, "wb") as out:
                    out.write(data)
                os.replace(tmp, target)
        elif not self.fs.exists(target):
            self._ensure_parent(target)
            tmp = f"{self.root}/.tmp-{uuid.uuid4().hex}"
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, target)
        return sha

    def open(self, sha256: str, *, verify: bool = True, length: int | None = None) -> BinaryIO:
        """Open a blob for reading; with ``verify`` a full sequential read checks its sha256.

        ``length``, the blob's size when known, lets the check run as soon as the last
        byte is read.

        Raises
        ------
        NotFoundError
            When the blob is not in the store.
        """
        target = self.path(sha256)
        try:
            f = self.fs.open(target, "rb")
        except FileNotFoundError:
            # no store URL in the message: it reaches whoever reads the file
            raise NotFoundError(
                f"blob {sha256} is missing from the hub's blob store; its admins can list what is "
                "missing with hub.verify(source_id)"
            ) from None
        return VerifyingReader(f, sha256, length) if verify else f  # type: ignore[return-value]

    def get_bytes(self, sha256: str) -> bytes:
        """The content of blob ``sha256``, its sha256 checked.

        Raises
        ------
        NotFoundError
            When the blob is not in the store.
        IntegrityError
            When its content does not hash to its name.
        """
        with self.open(sha256) as f:
            return f.read()

    def verify(self, sha256: str) -> bool:
        """Whether the stored blob hashes to its name."""
        try:
            with self.fs.open(self.path(sha256), "rb") as f:
                h = hashlib.sha256()
                while chunk := f.read(CHUNK):
                    h.update(chunk)
        except FileNotFoundError:
            return False
        return h.hexdigest() == sha256

    def copy_to(self, sha256: str, dest: str | os.PathLike[str]) -> Path:
        """Copy a blob to a local file, verifying its sha256 on the way; atomic."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part-{uuid.uuid4().hex[:8]}")
        try:
            with self.open(sha256) as src, open(tmp, "wb") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
            os.replace(tmp, dest)
        finally:
            if tmp.exists():
                tmp.unlink()
        return dest
