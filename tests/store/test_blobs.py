"""The content-addressed blob store and manifests."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from hub.exceptions import IntegrityError, NotFoundError
from hub.store import BlobStore, ManifestEntry, manifest_document, root_hash
from hub.store.manifest import canonical_text


def test_put_is_content_addressed_and_idempotent(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    f = tmp_path / "a.txt"
    f.write_bytes(b"hello")
    entry = store.put_file(f)
    sha = entry.sha256
    assert sha == hashlib.sha256(b"hello").hexdigest()
    assert (entry.path, entry.length) == (f, 5) and not entry.changed()
    assert store.put_file(f) == entry
    assert store.get_bytes(sha) == b"hello"
    stored = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].name == sha


def test_changed_file_is_refused(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    f = tmp_path / "a.txt"
    f.write_bytes(b"new content")
    with pytest.raises(IntegrityError, match="changed while it was being submitted"):
        store.put_file(f, sha256=hashlib.sha256(b"old").hexdigest())
    assert not [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]


def test_corruption_is_detected_on_read_and_verify(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    sha = store.put_bytes(b"x" * 5000)
    assert store.verify(sha)
    with open(store.path(sha), "r+b") as f:
        f.seek(100)
        f.write(b"y")
    assert not store.verify(sha)
    with pytest.raises(IntegrityError, match="corrupt"):
        store.get_bytes(sha)
    with pytest.raises(IntegrityError):
        store.copy_to(sha, tmp_path / "out" / "x.bin")
    assert not (tmp_path / "out" / "x.bin").exists()


def test_missing_blob(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    with pytest.raises(NotFoundError) as info:
        store.open("0" * 64)
    assert str(tmp_path) not in str(info.value)  # whoever reads the file is told, not only admins


def test_memory_filesystem_store(tmp_path):
    store = BlobStore("memory://hub-test-blobs")
    f = tmp_path / "a.bin"
    f.write_bytes(b"\x00\x01" * 1000)
    sha = store.put_file(f).sha256
    assert store.exists(sha) and store.verify(sha)
    assert store.url_of(sha).startswith("memory://")


def test_put_bytes_lays_out_blobs_alike_on_local_and_fsspec_stores(tmp_path):
    """A local store writes small blobs with plain calls, any other through fsspec: same layout."""
    local, remote = BlobStore(tmp_path / "blobs"), BlobStore("memory://hub-test-put-bytes")
    assert local.local and not remote.local
    for data in (b"", b"entry", b"\x00" * 5000):
        sha = local.put_bytes(data)
        assert sha == remote.put_bytes(data) == hashlib.sha256(data).hexdigest()
        assert local.put_bytes(data) == sha  # idempotent
        assert local.get_bytes(sha) == remote.get_bytes(sha) == data
        assert (tmp_path / "blobs" / sha[:2] / sha).read_bytes() == data
    assert not list((tmp_path / "blobs").glob(".tmp-*"))


def test_root_hash_matches_sha256sum_text(tmp_path):
    entries = [ManifestEntry("b/x.cif", "b" * 64, 10), ManifestEntry("a.txt", "a" * 64, 3)]
    text = canonical_text(entries)
    assert text.splitlines()[0].endswith("a.txt")
    (tmp_path / "m.txt").write_text(text)
    out = subprocess.run(["sha256sum", str(tmp_path / "m.txt")], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == root_hash(entries)
    doc = manifest_document("x_v1", entries)
    assert doc["total_size"] == 13 and doc["root_hash"] == root_hash(reversed(entries))
