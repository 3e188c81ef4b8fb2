"""The entry of a stored file: what :meth:`hub.store.blobs.BlobStore.put_file` read.

Connect stores every collected file before extraction and hands these entries to the
extractors (:attr:`hub.extractors.base.ExtractionContext.stored`), so the generic
extractor takes a file's sha256 and length from its entry instead of reading the file
again, and the manifest names exactly the blobs that were stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hub.store.hashing import sha256_file


@dataclass(frozen=True)
class StoredFile:
    """A local file as the blob store stored it.

    Attributes
    ----------
    path : Path
        The local file that was read.
    sha256 : str
        The sha256 of the content stored: the blob's name.
    length : int
        The number of bytes stored.
    mtime_ns : int
        The file's modification time (ns) before it was read, to tell whether it changed since.
    """

    path: Path
    sha256: str
    length: int
    mtime_ns: int

    def changed(self) -> bool:
        """Whether the local file no longer holds what was stored.

        Its size and modification time are compared first; only when they differ is
        the file hashed again (a file touched but not changed has not changed).
        """
        st = self.path.stat()
        if st.st_size == self.length and st.st_mtime_ns == self.mtime_ns:
            return False
        return sha256_file(self.path) != self.sha256


@dataclass(frozen=True)
class ReferencedFile(StoredFile):
    """A file published by reference: read where it is, never copied into the blob store.

    ``path`` is where extraction sees it (below the submission's staging root; a local
    copy exists there only when an extractor needed one), ``sha256`` and ``length`` what
    was read of it at its source, ``url`` where it stays.

    Attributes
    ----------
    url : str
        The file's fsspec URL at its source.
    """

    url: str = ""

    def changed(self) -> bool:
        """Never: its sha256 is what was read at the source (later changes are caught by reads and verify)."""
        return False
