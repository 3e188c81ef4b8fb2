"""The files of an embedded hub's datasets as an fsspec filesystem, read through the hub.

``matterhub://<source_id>/<path>``, with the storage options ``hub`` (the hub's
folder), ``user`` and ``groups`` (the principal; None for the local owner), names one
file of a dataset version.  Every open goes through the hub's file API
(:meth:`hub.hubs.embedded.EmbeddedHub.open`), so the access policy decides it each time: a catalog
entry naming a file gives no way around access, whoever reads it and whenever.

A file is opened in place when the hub's blob store is on this machine; otherwise its
content is copied once into the cache (``$MATTERHUB_CACHE/hub``, named by sha256 and
checked on the way), as is a file published by reference (read at its source through
the hub: a changed source is an error naming the file, never different bytes).  The filesystem reports ``local_file``, so readers that need a
path (:func:`hub.catalog.locate.local_file`) get one without another cache layer.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from fsspec.spec import AbstractFileSystem

from hub.api import PROTOCOL
from hub.catalog.hubdata import hub_at
from hub.catalog.locate import cache_dir
from hub.exceptions import IntegrityError

CHUNK = 1 << 20


class HubFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """``matterhub://<source_id>/<path>``: dataset files read through a hub as a principal.

    Parameters
    ----------
    hub
        The hub's folder.
    user, groups
        The principal to read as (None: the hub's local owner).
    """

    protocol = PROTOCOL
    root_marker = ""
    local_file = True

    def __init__(self, hub: str, user: str | None = None, groups: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(hub=hub, user=user, groups=list(groups), **kwargs)
        self.location = hub
        self.user = user
        self.groups = sorted(groups)

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        text = str(path)
        if text.startswith(f"{PROTOCOL}://"):
            text = text[len(PROTOCOL) + 3 :]
        return text.lstrip("/")

    @staticmethod
    def split(path: str) -> tuple[str, str]:
        """``(source_id, path in the dataset)`` of a path of this filesystem."""
        source_id, _, rel = HubFileSystem._strip_protocol(path).partition("/")
        if not source_id or not rel:
            raise FileNotFoundError(f"{path!r} names no file: use {PROTOCOL}://<source_id>/<path>")
        return source_id, rel

    def _hub(self) -> Any:
        return hub_at(self.location, self.user, self.groups)

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """The file's name, size and sha256 (the hub's :meth:`~hub.hubs.embedded.EmbeddedHub.file_info`)."""
        source_id, rel = self.split(path)
        f = self._hub().file_info(source_id, rel)
        return {"name": f"{source_id}/{rel}", "size": f["length"], "type": "file", "sha256": f["sha256"]}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """The file itself (a dataset's files are listed by the hub, not browsed here)."""
        entry = self.info(path)
        return [entry] if detail else [entry["name"]]

    def ukey(self, path: str) -> str:
        """The file's sha256: its content never changes under a name."""
        return str(self.info(path)["sha256"])

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> IO[bytes]:
        if mode != "rb":
            raise PermissionError(f"{PROTOCOL}:// files are read-only; submit a new version to change one")
        source_id, rel = self.split(path)
        hub = self._hub()
        info = hub.file_info(source_id, rel)
        if "url" in info:  # published by reference: read at the source once, checked, then cached
            return open(_cached_copy(hub, source_id, rel, info["sha256"]), "rb")
        f: IO[bytes] = hub.open(source_id, rel, verify=False)
        name = getattr(f, "name", None)
        if isinstance(name, str) and os.path.isfile(name):
            return f  # the blob itself, on this machine
        f.close()
        sha = hub.file_info(source_id, rel)["sha256"]
        return open(_cached_copy(hub, source_id, rel, sha), "rb")


def _cached_copy(hub: Any, source_id: str, path: str, sha256: str) -> Path:
    """A local copy of a file whose blob is elsewhere, named by its sha256 (checked as it is copied)."""
    target = cache_dir() / "hub" / sha256[:2] / sha256
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{sha256}.part-{uuid.uuid4().hex[:8]}")
    digest = hashlib.sha256()
    try:
        with hub.open(source_id, path, verify=False) as src, open(tmp, "wb") as out:
            while block := src.read(CHUNK):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != sha256:
            raise IntegrityError(
                f"{source_id}/{path} does not match its sha256 {sha256}; the hub's copy (or, for a "
                "dataset published by reference, the source) changed"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
