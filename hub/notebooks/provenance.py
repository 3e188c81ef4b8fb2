"""Executed notebooks kept as the provenance of notebook servable runs, and who reads them.

A notebook servable's run puts the executed notebook in the hub's blob store and
names in it (``metadata.matterhub.servable_artifact``) the servable artifact it ran
from (:func:`stamp`).  Reading a blob by its sha256 follows the access policy's blob
rule (:data:`hub.access.policy.BLOB_HOLDERS`): a blob is read by whoever may see a
dataset file or a servable holding it, and an executed notebook by whoever may see a
servable version of the artifact it ran from.  Nothing else in the store (task
inputs, other runs' results, hidden datasets' files) can be read by sha256.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from hub.access import Principal
from hub.exceptions import NotFoundError, ValidationError

if TYPE_CHECKING:
    from hub.db.database import Database
    from hub.store.blobs import BlobStore

#: The notebook metadata key MatterHub writes.
KEY = "matterhub"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def stamp(notebook: Any, artifact_sha256: str | None) -> None:
    """Name in an executed notebook (an ``nbformat`` node) the servable artifact it ran from."""
    if artifact_sha256:
        notebook.metadata.setdefault(KEY, {})["servable_artifact"] = artifact_sha256


def stamped(data: bytes, artifact_sha256: str) -> bytes:
    """An executed notebook's bytes (from a worker, so not trusted) naming the artifact it ran from.

    Raises
    ------
    ValueError
        When ``data`` is not a notebook (a JSON object).
    """
    try:
        nb = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the executed notebook is not JSON: {exc}") from None
    if not isinstance(nb, dict) or not isinstance(nb.setdefault("metadata", {}), dict):
        raise ValueError("the executed notebook is not a notebook (a JSON object with metadata)")
    meta = nb["metadata"].get(KEY)
    nb["metadata"][KEY] = {**(meta if isinstance(meta, dict) else {}), "servable_artifact": artifact_sha256}
    return json.dumps(nb, indent=1, ensure_ascii=False).encode() + b"\n"


def artifact_of(data: bytes) -> str | None:
    """The servable artifact an executed notebook names, or None (not a notebook, or not stamped)."""
    try:
        nb = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    meta = nb.get("metadata") if isinstance(nb, dict) else None
    named = (meta or {}).get(KEY, {}).get("servable_artifact") if isinstance(meta, dict) else None
    return named if isinstance(named, str) and _SHA256.match(named) else None


def read_provenance(catalog: Database, store: BlobStore, principal: Principal, sha256: str) -> bytes:
    """The blob ``sha256`` (an executed notebook, or a file) if ``principal`` may read it.

    Raises
    ------
    ValidationError
        When ``sha256`` is not a sha256 (64 lowercase hex digits).
    NotFoundError
        When there is no such blob, or ``principal`` may not read it (the same answer,
        so the store's content is not revealed).
    """
    if not _SHA256.match(sha256):
        raise ValidationError(f"{sha256!r} is not a sha256 (64 lowercase hex digits, as a run reports it)")
    if catalog.blob_readable(principal, sha256):
        return store.get_bytes(sha256)
    if store.exists(sha256):
        data = store.get_bytes(sha256)
        artifact = artifact_of(data)
        if artifact is not None and catalog.blob_readable(principal, artifact):
            return data
    raise NotFoundError(
        f"no executed notebook {sha256} that {principal.name} may read: a run's notebook is read by "
        "those who may see its servable, a file by those who may see its dataset"
    )
