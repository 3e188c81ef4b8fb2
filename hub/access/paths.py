"""The hub's own folders, which only its admins are shown.

A submission's messages and per-file errors, and an asynchronous run's error and
output, may name the hub's folder, its staging or uploads folder, its blob store or
search index, or the temporary folder.  Whoever is not an admin (the policy's
``administer`` right on the hub) is shown them with every such path written
logically (:meth:`ServerPaths.redact`): an uploaded file as ``upload:<name>``, the rest
as ``<staging>/...``, ``<store>/...``, ``<index>/...``, ``<hub>/...`` or ``<tmp>/...``.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from hub.access.policy import Action, Kind, Resource, allowed
from hub.access.principal import Principal

if TYPE_CHECKING:
    from hub.config import HubConfig

T = TypeVar("T")
#: A character of a path written in a message (where a path in a text ends).
_PATH_CHAR = r"[^\s'\"`,;:)\]}>]"
#: Before a path in a text: not the middle of a word, a URL or another path.
_PATH_START = r"(?<![\w/.~-])"


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
        Where the hub service keeps uploaded sources (one folder each).
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
        """(pattern, label) pairs, the most specific folders first."""
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
            if "://" in folder:
                continue  # an object store's URL names no folder of this machine
            for root in _spellings(folder):
                path = rf"{_PATH_START}{re.escape(root)}(?P<rest>(?:/{_PATH_CHAR}*)?)(?!{_PATH_CHAR})"
                rules.append((re.compile(path), label))
        return rules

    def redact(self, text: str) -> str:
        """``text`` with every path under the hub's folders (and the temporary folder) written logically."""
        for pattern, label in self._rules:
            text = pattern.sub(label + r"\g<rest>", text)
        return text

    def holds(self, path: str) -> bool:
        """Whether the local ``path`` lies under the hub's folders or the temporary folder."""
        local = path.removeprefix("file://")
        return self.redact(local) != local

    def redacted(self, value: T) -> T:
        """``value`` (text, or lists and dicts of it) with :meth:`redact` applied to every string."""
        out: object = value
        if isinstance(value, str):
            out = self.redact(value)
        elif isinstance(value, list):
            out = [self.redacted(v) for v in value]
        elif isinstance(value, dict):
            out = {k: self.redacted(v) for k, v in value.items()}
        return out  # type: ignore[return-value]

    def shown(self, principal: Principal, value: T) -> T:
        """``value`` as ``principal`` may be shown it: as it is for admins, else :meth:`redacted`."""
        return value if shows_paths(principal) else self.redacted(value)


def shows_paths(principal: Principal) -> bool:
    """Whether ``principal`` is shown the hub's own paths (its admins: ``administer`` on the hub)."""
    return allowed(principal, Action.ADMINISTER, Resource(Kind.HUB))


def _spellings(folder: str | Path) -> list[str]:
    """The ways a folder may be written in a message: as configured and resolved, longest first."""
    given = Path(folder)
    out = {str(given).rstrip("/")}
    try:
        out.add(str(given.resolve()).rstrip("/"))
    except OSError:
        pass
    return sorted((s for s in out if s not in ("", "/")), key=len, reverse=True)
