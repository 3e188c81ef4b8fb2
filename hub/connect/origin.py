"""Where a dataset version's data came from and where its files are, naming no server path.

A dataset document is shown to everyone who may see the dataset, so it names both
logically:

- ``data.origin`` (:func:`logical_origin`): ``upload:<name>`` for a file uploaded to the
  hub service, the URL it was read from (without user, password, query or fragment),
  or ``local:<name>`` for a local file or folder (its name only: the path is the
  submitter's, and their submission keeps it);
- ``data.location`` (:func:`files_location`): ``matterhub://<source_id>/``, the version's
  files as the hub serves them (read through :meth:`hub.api.HubAPI.file_locations`, which
  asks the policy at every read).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hub.api import PROTOCOL
from hub.exceptions import SourceError

#: The folder of one upload under the service's uploads folder (``uuid4().hex``).
_UPLOAD_FOLDER = re.compile(r"^[0-9a-f]{32}$")
#: How a logical origin that names no URL starts: an upload, a local file or folder.
_LOGICAL = ("upload:", "local:")


def is_url(source: str) -> bool:
    """Whether a submission's ``source`` is a URL to download (``file://`` is a local path)."""
    return "://" in source and not source.startswith("file://")


def require_local_source(source: str) -> None:
    """Check that a submission's ``source`` that is not a URL exists on this machine.

    Raises
    ------
    SourceError
        When ``source`` is a local path (or ``file://`` URL) that does not exist.
    """
    if is_url(source):
        return
    local = Path(source.removeprefix("file://")).expanduser()
    if not local.exists() and not local.is_symlink():
        raise SourceError(f"source {source!r} does not exist (give a file, folder, archive or URL)")


def files_location(source_id: str) -> str:
    """``data.location`` of version ``source_id``: its files as the hub serves them."""
    return f"{PROTOCOL}://{source_id}/"


def logical_origin(source: str) -> str:
    """``data.origin`` of a submission of ``source``: where the data came from, naming no server path.

    >>> logical_origin("/srv/hub/uploads/0123456789abcdef0123456789abcdef/films.zip")
    'upload:films.zip'
    >>> logical_origin("https://alice:secret@data.example.org/films.zip?token=x")
    'https://data.example.org/films.zip'
    >>> logical_origin("/home/alice/films")
    'local:films'
    """
    text = source.strip()
    if is_url(text):
        parts = urlsplit(text)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    names = [p for p in re.split(r"[\\/]", text.removeprefix("file://")) if p]  # POSIX or Windows
    name = names[-1] if names else "data"
    if len(names) >= 3 and names[-3] == "uploads" and _UPLOAD_FOLDER.match(names[-2]):
        return _LOGICAL[0] + name
    return _LOGICAL[1] + name


def logical_data(source_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """A dataset document's ``data`` block with its location and origin logical (unchanged when they are).

    For documents written before locations were logical (migration 0005).
    """
    out = {**data, "location": files_location(source_id)}
    origin = data.get("origin")
    if isinstance(origin, str) and not origin.startswith(_LOGICAL):
        out["origin"] = logical_origin(origin)
    return out
