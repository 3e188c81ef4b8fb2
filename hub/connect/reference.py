"""Collect by reference (``copy=False``): list a source's files where they are, copy none.

A submission with ``copy=False`` names any fsspec URL (``https://``, ``s3://``, ``gs://``,
``memory://``) or a local path.  Its files are listed at the source; extraction sees each
one at a path below the staging folder, which holds a local copy only when one of the
file's extractors needs a local file (:meth:`hub.extractors.base.Extractor.reads_in_place`);
the others are read at the source through
:attr:`hub.extractors.base.ExtractionContext.opener`, in range requests, so an extractor
that reads a header fetches only the header.

Each file's sha256 is what was read of it: the bytes of its local copy, else one streamed
read that keeps nothing, else (when the source publishes one) its line in a
``SHA256SUMS`` file beside it (``sha256sum`` output), which every later full read and
``hub.verify`` check.  The version's files then carry their URL instead of a blob.

Under the service the address guard applies to every connection, as for submissions
copied from a URL (:mod:`hub.connect.urlguard`); URLs with a user or password are
refused: records show each file's URL to everyone who may see them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from fsspec.core import url_to_fs

from hub.connect.collect import IGNORED_NAMES, Collected
from hub.connect.origin import is_url
from hub.connect.urlguard import check_before_fetch, guarded_storage_options, refusal_in, unreadable_source
from hub.exceptions import AccessDeniedError, HubError, NotFoundError, SourceError
from hub.store.entry import ReferencedFile, StoredFile
from hub.store.remote import hash_source, open_source, source_size

#: A checksum file published beside the data, in ``sha256sum`` format.
CHECKSUMS_NAME = "SHA256SUMS"
_SUM_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def source_url(source: str) -> str:
    """The fsspec URL of a by-reference ``source`` (a local path becomes an absolute ``file://`` URL).

    Raises
    ------
    SourceError
        When the URL carries a user or password (each file's URL is shown in its record).
    """
    if not is_url(source):
        return Path(source.removeprefix("file://")).expanduser().absolute().as_uri()
    parts = urlsplit(source)
    if parts.username or parts.password:
        raise SourceError(
            "a dataset published by reference shows each file's URL to its readers; give the "
            "source without a user or password (credentials go in the environment, e.g. AWS_PROFILE)"
        )
    return source


def reference_url(entry: StoredFile) -> str | None:
    """Where a file published by reference is (None for a file stored in the blob store)."""
    return entry.url if isinstance(entry, ReferencedFile) else None


def read_options(url: str) -> dict[str, Any]:
    """The fsspec storage options to read ``url`` with here: under the service, the address guard."""
    check_before_fetch(url)
    return guarded_storage_options(urlsplit(url).scheme.lower())


@contextmanager
def source_errors(name: str) -> Iterator[None]:
    """Turn a failure to reach a referenced file into a hub error naming it.

    A refused address is an :class:`~hub.exceptions.AccessDeniedError`; any other failure
    to connect a :class:`~hub.exceptions.NotFoundError` (the source is gone or unreachable).
    """
    try:
        yield
    except Exception as exc:
        refused = refusal_in(exc)  # fsspec reports a refused connection as a missing file
        if refused:
            raise AccessDeniedError(f"{name} was not read at its source: {refused}") from None
        if isinstance(exc, HubError):
            raise
        raise NotFoundError(f"{name} cannot be read at its source: {exc}") from exc


@dataclass
class Referenced:
    """A by-reference source as collected: its files at placeholder paths, and where each one is.

    Attributes
    ----------
    collected : Collected
        The files as extraction sees them (below ``staging/reference``; none exists yet).
    urls : dict of Path to str
        Each file's URL at its source.
    sizes : dict of Path to int
        Each file's size, when the source's listing gave it.
    declared : dict of Path to str
        The sha256 a ``SHA256SUMS`` file at the source declares, for the files it lists.
    """

    collected: Collected
    urls: dict[Path, str] = field(default_factory=dict)
    sizes: dict[Path, int] = field(default_factory=dict)
    declared: dict[Path, str] = field(default_factory=dict)

    def options(self, path: Path) -> dict[str, Any]:
        """The storage options to read ``path``'s URL with."""
        return read_options(self.urls[path])

    def opener(self, local: set[Path]) -> Callable[[Path], IO[bytes]]:
        """How extractors open a file: its local copy when it has one, else at its source in ranges."""

        def open_file(path: Path) -> IO[bytes]:
            if path in local:
                return open(path, "rb")
            with source_errors(self.name(path)):
                return open_source(self.urls[path], self.options(path), name=self.name(path))

        return open_file

    def name(self, path: Path) -> str:
        """``path`` relative to the source's root, for messages."""
        return path.relative_to(self.collected.root).as_posix()

    def entries(self, local: set[Path]) -> dict[Path, ReferencedFile]:
        """Each file's entry: hashed while copied (``local``), declared, or streamed once to hash it."""
        out = {}
        for path, url in self.urls.items():
            with source_errors(self.name(path)):
                if path in local:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    sha, length = hash_source(url, self.options(path), dest=path)
                elif path in self.declared:
                    sha = self.declared[path]
                    known = self.sizes.get(path)
                    length = known if known is not None else source_size(url, self.options(path))
                else:
                    sha, length = hash_source(url, self.options(path))
            out[path] = ReferencedFile(path, sha, length, 0, url=url)
        return out


def collect_reference(source: str, staging: Path) -> Referenced:
    """List the files of ``source`` at their source (a file, or every file below a folder).

    Raises
    ------
    SourceError
        When the source does not exist, cannot be reached, holds no files, or names credentials.
    AccessDeniedError
        When the service's address guard refuses it.
    """
    url = source_url(source)
    root = staging / "reference"
    try:
        options = read_options(url)
        fs, path = url_to_fs(url, **options)
        info = fs.info(path)
        # an HTTP folder is a page of links: a URL ending in "/" names the folder
        folder = info.get("type") == "directory" or (_is_http(url) and url.split("?", 1)[0].endswith("/"))
        if folder:
            base = path.rstrip("/")
            listing: Mapping[str, dict[str, Any]] = fs.find(base, detail=True)
        else:
            base = path.rsplit("/", 1)[0]
            listing = {path: info}
    except Exception as exc:
        raise unreadable_source(exc, source, refused=AccessDeniedError) from exc
    plain_http = _is_http(url)
    referenced = Referenced(Collected(root, [], origin=source))
    for name, entry in sorted(listing.items()):
        if entry.get("type", "file") != "file":
            continue
        rel = name[len(base) :].lstrip("/").split("?", 1)[0]
        rel = unquote(rel) if plain_http else rel
        if not rel or any(part in IGNORED_NAMES or part in ("", ".", "..") for part in rel.split("/")):
            continue
        local = root / rel
        referenced.collected.files.append(local)
        referenced.urls[local] = fs.unstrip_protocol(name) if "://" not in name else name
        if entry.get("size") is not None:
            referenced.sizes[local] = int(entry["size"])
    if not referenced.collected.files:
        raise SourceError(f"source {source!r} holds no files; nothing to submit")
    _read_checksums(referenced)
    return referenced


def _is_http(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")


def _read_checksums(referenced: Referenced) -> None:
    sums = referenced.collected.root / CHECKSUMS_NAME
    if sums not in referenced.urls:
        return
    with source_errors(CHECKSUMS_NAME), open_source(referenced.urls[sums], referenced.options(sums)) as f:
        text = f.read(1 << 24).decode("utf-8", errors="replace")
    for line in text.splitlines():
        m = _SUM_LINE.match(line.strip())
        if m:
            path = referenced.collected.root / os.path.normpath(m.group(2).removeprefix("./"))
            if path in referenced.urls and path != sums:
                referenced.declared[path] = m.group(1).lower()
