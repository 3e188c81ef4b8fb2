r"""The manifest of a dataset version: every file's path, size and sha256, and a root hash.

The root hash is the sha256 of the manifest's canonical text, one line per file
sorted by path, in ``sha256sum`` style (``{sha256}  {length}  {path}\n``), so
anyone can recompute it with standard tools.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.store.blobs import BlobStore


@dataclass(frozen=True, order=True)
class ManifestEntry:
    """One file of a manifest: its path in the dataset, its sha256 and its length in bytes.

    ``url`` is where a file published by reference is (None: its blob is in the store);
    it is not part of the canonical text, so the root hash names the content only.
    Entries sort by path.
    """

    path: str
    sha256: str
    length: int
    url: str | None = None


def canonical_text(entries: Iterable[ManifestEntry]) -> str:
    """The manifest's canonical text: ``{sha256}  {length}  {path}`` lines, sorted by path."""
    return "".join(f"{e.sha256}  {e.length}  {e.path}\n" for e in sorted(entries))


def root_hash(entries: Iterable[ManifestEntry]) -> str:
    """The root hash of a version: the sha256 of the :func:`canonical_text` of ``entries``."""
    return hashlib.sha256(canonical_text(entries).encode()).hexdigest()


def manifest_document(source_id: str, entries: Iterable[ManifestEntry]) -> dict[str, Any]:
    """The JSON manifest of version ``source_id``: its root hash, total size and files by path."""
    items = sorted(entries)
    return {
        "source_id": source_id,
        "algorithm": "sha256",
        "root_hash": root_hash(items),
        "total_size": sum(e.length for e in items),
        "files": [{k: v for k, v in asdict(e).items() if v is not None} for e in items],
    }


def store_manifest(store: BlobStore, source_id: str, entries: Iterable[ManifestEntry]) -> str:
    """Write a version's manifest into the blob store; returns its sha256."""
    doc = manifest_document(source_id, entries)
    return store.put_bytes(json.dumps(doc, sort_keys=True, indent=1).encode())
