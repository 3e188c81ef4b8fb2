"""The hub's own folders, and the logical names records and users see instead.

A shared hub must not tell its users where it keeps things.  A dataset document
names where its data came from (``data.origin``) and where its files are
(``data.location``) logically:

- ``data.origin`` (:func:`logical_origin`): ``upload:<name>`` for a file uploaded to
  the hub service, the URL it was read from (without user, password, query or
  fragment), or ``local:<name>`` for a local file or folder (its name only: the
  document is shown to everyone who may see the dataset, not only to the submitter);
- ``data.location`` (:func:`files_location`): ``matterhub://<source_id>/``, the
  version's files as the hub serves them (read through
  :meth:`hub.api.HubAPI.file_locations`, which asks the policy at every read).

A submission is shown to the submitter and the curators; shown to anyone but an admin
(:meth:`ServerPaths.submission`), every path under the hub's folder, its blob store,
its search index and the temporary folder is written as a logical name
(:meth:`ServerPaths.redact`).  Admins see the paths as they are.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from hub.access import Action, Kind, Principal, Resource, allowed
from hub.api import PROTOCOL

if TYPE_CHECKING:
    from hub.config import HubConfig
    from hub.connect.submission import Submission

#: The folder of one upload under the service's uploads folder (``uuid4().hex``).
_UPLOAD_FOLDER = re.compile(r"^[0-9a-f]{32}$")
#: How a logical origin that names no URL starts.
_LOGICAL = ("upload:", "local:")
#: A character of a path written in a message (where a path in a text ends).
_PATH_CHAR = r"[^\s'\"`,;:)\]}>]"
#: Before a path in a text: not the middle of a word, a URL or another path.
_PATH_START = r"(?<![\w/.~-])"


def is_url(source: str) -> bool:
    """Whether a submission's ``source`` is a URL to download (``file://`` is a local path)."""
    return "://" in source and not source.startswith("file://")


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
    parts = [p for p in re.split(r"[\\/]", text.removeprefix("file://")) if p]  # POSIX or Windows
    name = parts[-1] if parts else "data"
    if len(parts) >= 3 and parts[-3] == "uploads" and _UPLOAD_FOLDER.match(parts[-2]):
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


@dataclass(frozen=True)
class ServerPaths:
    """The folders of one hub that nobody but its admins is shown.

    Attributes
    ----------
    home : Path
        The hub's folder.
    staging : Path
        Where running submissions unpack and download their sources.
    uploads : Path
        Where the hub service keeps uploaded sources.
    store : str
        The blob store's folder or URL.
    index : str
        The search index's folder.
    """

    home: Path
    staging: Path
    uploads: Path
    store: str
    index: str
    _rules: list[tuple[re.Pattern[str], str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rules", self._make_rules())

    @classmethod
    def of(cls, config: HubConfig) -> ServerPaths:
        """The folders of the hub ``config`` describes."""
        return cls(config.home, config.staging, config.uploads, config.store, config.index)

    def _make_rules(self) -> list[tuple[re.Pattern[str], str]]:
        """(pattern, label) pairs, the most specific folders first; ``upload:`` names a file by itself."""
        rules: list[tuple[re.Pattern[str], str]] = []
        for root in _spellings(self.uploads):
            upload = rf"{_PATH_START}{re.escape(root)}/[0-9a-f]{{32}}/(?P<rest>{_PATH_CHAR}+)"
            rules.append((re.compile(upload), "upload:"))
        folders = [
            (str(self.staging), "<staging>"),
            (self.store, "<store>"),
            (self.index, "<index>"),
            (str(self.home), "<hub>"),
            (tempfile.gettempdir(), "<tmp>"),
        ]
        for folder, label in folders:
            if is_url(folder):
                continue  # an object store's URL names no folder of this machine
            for root in _spellings(folder):
                path = rf"{_PATH_START}{re.escape(root)}(?P<rest>(?:/{_PATH_CHAR}*)?)(?!{_PATH_CHAR})"
                rules.append((re.compile(path), label))
        return rules

    def redact(self, text: str) -> str:
        """``text`` with every path under the hub's folders (and the temporary folder) written logically.

        An uploaded file becomes ``upload:<name>``; anything else under the staging
        folder, the store, the index, the hub's folder or the temporary folder becomes
        ``<staging>/...``, ``<store>/...``, ``<index>/...``, ``<hub>/...`` or ``<tmp>/...``.
        """
        for pattern, label in self._rules:
            text = pattern.sub(label + r"\g<rest>", text)
        return text

    def shown_source(self, source: str) -> str:
        """A submission's source as non-admins see it.

        The submitter's URL or local path as given, unless it lies under the hub's folder
        or the temporary folder: then its :func:`logical_origin`.
        """
        if is_url(source):
            return source
        local = source.removeprefix("file://")
        return logical_origin(source) if self.redact(local) != local else source

    def submission(self, sub: Submission, principal: Principal) -> Submission:
        """``sub`` as ``principal`` may be shown it: as it is for admins, else with no server path."""
        if allowed(principal, Action.ADMINISTER, Resource(Kind.HUB)):
            return sub
        return dataclasses.replace(
            sub,
            source=self.shown_source(sub.source),
            message=self.redact(sub.message) if sub.message is not None else None,
            steps=[self._redact_value(s) for s in sub.steps],
            errors=[self._redact_value(e) for e in sub.errors],
        )

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self._redact_value(v) for v in value]
        if isinstance(value, dict):
            return {k: self._redact_value(v) for k, v in value.items()}
        return value


def _spellings(folder: str | Path) -> list[str]:
    """The ways a folder may be written in a message: as configured and resolved, longest first."""
    given = Path(folder)
    out = {str(given).rstrip("/")}
    try:
        out.add(str(given.resolve()).rstrip("/"))
    except OSError:
        pass
    return sorted((s for s in out if s not in ("", "/")), key=len, reverse=True)
