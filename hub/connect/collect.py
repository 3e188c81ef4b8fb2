"""Collect: bring a submission's source to a local folder and list its files.

Sources: a local file or folder (read in place), a zip or tar archive (unpacked
safely into the staging folder), or any fsspec URL (``http(s)://``, ``s3://``,
``memory://``, ...; downloaded into the staging folder, then unpacked if it is
an archive).  Files that cannot be taken (unreadable, a symlink leading out of
the source, not a regular file) are per-file errors; the rest is collected.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsspec.core import url_to_fs

from hub.connect.archives import ArchiveLimits, extract_archive, is_archive
from hub.connect.origin import is_url, require_local_source
from hub.connect.urlguard import check_before_fetch, guarded_storage_options, refusal_in, unreadable_source
from hub.exceptions import SourceError

#: Names that are never data (OS and VCS litter).
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "__MACOSX", ".git", ".ipynb_checkpoints", "desktop.ini"})


@dataclass
class Collected:
    """What collect found: a local ``root``, the files below it, and per-file errors."""

    root: Path
    files: list[Path]
    origin: str
    errors: list[dict[str, Any]] = field(default_factory=list)


def collect(source: str | os.PathLike[str], staging: Path, limits: ArchiveLimits | None = None) -> Collected:
    """Collect ``source``; ``staging`` is an empty folder this submission may use."""
    limits = limits or ArchiveLimits()
    text = os.fspath(source)
    if is_url(text):
        local = _download(text, staging / "download", limits)
    else:
        require_local_source(text)
        local = Path(text.removeprefix("file://")).expanduser()
    local = local.absolute()
    if local.is_file() and is_archive(local):
        root = extract_archive(local, staging / "unpacked", limits)
        collected = _walk(root, origin=text)
        # an archive holding one top folder: that folder is the dataset's root
        entries = [p for p in root.iterdir() if p.name not in IGNORED_NAMES]
        if len(entries) == 1 and entries[0].is_dir():
            collected = _walk(entries[0], origin=text)
    elif local.is_dir():
        collected = _walk(local, origin=text)
    else:
        collected = Collected(local.parent, [], origin=text)
        _take(local, local.parent, collected)
    if not collected.files and not collected.errors:
        raise SourceError(f"source {text!r} holds no files; nothing to submit")
    return collected


def _download(url: str, dest: Path, limits: ArchiveLimits) -> Path:
    check_before_fetch(url)  # under the service: no private address, checked again now
    try:
        fs, path = url_to_fs(url, **guarded_storage_options(url.split("://", 1)[0].lower()))
        info = fs.info(path)
    except Exception as exc:
        raise unreadable_source(exc, url) from exc
    dest.mkdir(parents=True, exist_ok=True)
    if info.get("type") == "directory":
        sizes = fs.du(path, total=True)
        if sizes and sizes > limits.max_size:
            raise SourceError(f"source {url!r} holds {sizes:,} bytes, above the limit of {limits.max_size:,}")
        target = dest / (Path(path.rstrip("/")).name or "data")
        fs.get(path.rstrip("/") + "/", str(target), recursive=True)
        return target
    size = info.get("size")
    if size is not None and size > limits.max_size:
        raise SourceError(f"source {url!r} is {size:,} bytes, above the limit of {limits.max_size:,}")
    name = Path(path.split("?", 1)[0].rstrip("/")).name or "download"
    target = dest / name
    try:
        fs.get_file(path, str(target))
    except Exception as exc:
        refused = refusal_in(exc)
        if refused:
            raise SourceError(f"source {url!r} was not read: {refused}") from None
        raise SourceError(f"source {url!r} could not be downloaded: {exc}") from exc
    return target


def _walk(root: Path, origin: str) -> Collected:
    collected = Collected(root, [], origin=origin)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_NAMES)
        base = Path(dirpath)
        for d in list(dirnames):
            if (base / d).is_symlink():
                dirnames.remove(d)
                collected.errors.append(
                    _error(base / d, root, "is a symbolic link to a folder; linked folders are not followed")
                )
        for name in sorted(filenames):
            if name in IGNORED_NAMES:
                continue
            _take(base / name, root, collected)
    return collected


def _take(path: Path, root: Path, collected: Collected) -> None:
    try:
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root.resolve()):
                collected.errors.append(
                    _error(
                        path,
                        root,
                        f"is a symbolic link to {target}, outside the submitted folder; it was not collected",
                    )
                )
                return
            if not target.exists():
                collected.errors.append(_error(path, root, "is a broken symbolic link"))
                return
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            collected.errors.append(_error(path, root, "is not a regular file"))
            return
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        collected.errors.append(_error(path, root, f"cannot be read: {exc.strerror or exc}"))
        return
    collected.files.append(path)


def _error(path: Path, root: Path, message: str) -> dict[str, Any]:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = str(path)
    return {
        "path": rel,
        "step": "collect",
        "extractor": None,
        "error": "SourceError",
        "message": f"{rel} {message}",
    }
