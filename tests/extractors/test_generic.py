"""The generic extractor: size, MIME type and sha256 of every file, the sha256 taken from the
entry the blob store returned when it stored the file (no hash is cached anywhere)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hub.extractors.base import ExtractionContext
from hub.extractors.generic import GenericExtractor
from hub.store.blobs import BlobStore
from hub.store.entry import StoredFile
from hub.store.hashing import sha256_file


def test_the_sha256_comes_from_the_stored_entry(tmp_path: Path) -> None:
    f = tmp_path / "data" / "POSCAR"
    f.parent.mkdir()
    f.write_text("Cu\n1.0\n")
    entry = BlobStore(tmp_path / "blobs").put_file(f)
    assert entry.sha256 == hashlib.sha256(f.read_bytes()).hexdigest() and entry.length == f.stat().st_size

    context = ExtractionContext(root=f.parent, stored={f: entry})
    (got,) = GenericExtractor().extract((f,), context)["files"]
    assert got == {
        "filename": "POSCAR",
        "path": "POSCAR",
        "length": entry.length,
        "mime_type": "text/plain",
        "sha256": entry.sha256,
        "data_type": "text",
    }
    # the extractor does not read the file to hash it: an entry's word is taken
    told = StoredFile(f, "0" * 64, entry.length, entry.mtime_ns)
    (taken,) = GenericExtractor().extract((f,), ExtractionContext(root=f.parent, stored={f: told}))["files"]
    assert taken["sha256"] == "0" * 64
    # without an entry (outside Connect) it hashes the file itself
    (hashed,) = GenericExtractor().extract((f,), ExtractionContext(root=f.parent))["files"]
    assert hashed == got


def test_no_hash_is_cached(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"first")
    st = f.stat()
    entry = BlobStore(tmp_path / "blobs").put_file(f)
    assert sha256_file(f) == entry.sha256 and not entry.changed()
    f.write_bytes(b"other")  # same size, and the same modification time put back
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert sha256_file(f) == hashlib.sha256(b"other").hexdigest()
    assert not entry.changed()  # size and time say unchanged: the entry does not read the file
    f.write_bytes(b"changed!")
    assert entry.changed()
