"""Publish: content-addressed blobs, manifests and root hashes."""

from hub.store.blobs import BlobStore
from hub.store.entry import StoredFile
from hub.store.hashing import sha256_file
from hub.store.manifest import ManifestEntry, manifest_document, root_hash

__all__ = ["BlobStore", "ManifestEntry", "StoredFile", "manifest_document", "root_hash", "sha256_file"]
