"""Safe unpacking of zip and tar archives.

Refused, with the whole archive: members whose path escapes the destination
(``../escape``, absolute paths), links (symlinks and hard links), device files,
and archives that expand beyond ``max_size`` bytes or whose expansion ratio
exceeds ``max_ratio`` (zip bombs).  Sizes are enforced while writing, not only
from the sizes the archive declares, which a crafted archive can fake.
"""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from hub.exceptions import UnsafeArchiveError

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


@dataclass(frozen=True)
class ArchiveLimits:
    """The limits an archive must keep to when unpacked by :func:`extract_archive`.

    Attributes
    ----------
    max_size : int
        Bytes the archive may expand to (20 GiB by default).
    max_ratio : float
        How many times its own size the archive may expand to.
    max_members : int
        How many members the archive may hold.
    """

    max_size: int = 20 * 1024**3  #: bytes after expansion
    max_ratio: float = 200.0  #: expanded / compressed
    max_members: int = 1_000_000


def is_archive(path: str | Path) -> bool:
    """Whether ``path`` names an archive the hub unpacks, judged by its suffix (:data:`ARCHIVE_SUFFIXES`)."""
    name = str(path).lower()
    return name.endswith(ARCHIVE_SUFFIXES)


def _safe_member_path(name: str, dest: Path) -> Path:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or any(part == ".." for part in pure.parts) or name.startswith("/"):
        raise UnsafeArchiveError(
            f"archive member {name!r} points outside the archive's folder; "
            "the archive was refused as a whole (remove the member or repack it with relative paths)"
        )
    target = (dest / pure).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise UnsafeArchiveError(f"archive member {name!r} resolves outside the destination")
    return target


class _Budget:
    def __init__(self, archive_size: int, limits: ArchiveLimits, archive: str) -> None:
        self.limit = min(limits.max_size, int(max(archive_size, 1) * limits.max_ratio))
        self.limits = limits
        self.archive = archive
        self.written = 0

    def charge(self, n: int) -> None:
        self.written += n
        if self.written > self.limit:
            raise UnsafeArchiveError(
                f"{self.archive} expands to more than {self.limit:,} bytes (limit: "
                f"{self.limits.max_size:,} bytes and {self.limits.max_ratio:g}x its compressed size); "
                "it looks like a zip bomb and was refused. Split the dataset or raise the limit."
            )


def _copy(src: IO[bytes], target: Path, budget: _Budget) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        while chunk := src.read(1 << 20):
            budget.charge(len(chunk))
            out.write(chunk)


def extract_archive(archive: Path, dest: Path, limits: ArchiveLimits | None = None) -> Path:
    """Unpack ``archive`` into ``dest`` (created); on any refusal ``dest`` is removed."""
    limits = limits or ArchiveLimits()
    dest.mkdir(parents=True, exist_ok=True)
    budget = _Budget(archive.stat().st_size, limits, archive.name)
    try:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, dest, budget, limits)
        elif tarfile.is_tarfile(archive):
            _extract_tar(archive, dest, budget, limits)
        else:
            raise UnsafeArchiveError(f"{archive.name} is not a readable zip or tar archive")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise UnsafeArchiveError(f"{archive.name} is a damaged archive: {exc}") from None
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest


def _extract_zip(archive: Path, dest: Path, budget: _Budget, limits: ArchiveLimits) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise UnsafeArchiveError(
                f"{archive.name} has {len(infos):,} members (limit {limits.max_members:,})"
            )
        declared = sum(i.file_size for i in infos)
        if declared > budget.limit:
            budget.charge(declared)
        for info in infos:
            target = _safe_member_path(info.filename, dest)
            mode = (info.external_attr >> 16) & 0o170000
            if mode == 0o120000:
                raise UnsafeArchiveError(
                    f"archive member {info.filename!r} is a symbolic link; links are refused"
                )
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            with zf.open(info) as src:
                _copy(src, target, budget)


def _extract_tar(archive: Path, dest: Path, budget: _Budget, limits: ArchiveLimits) -> None:
    with tarfile.open(archive) as tf:
        count = 0
        for member in tf:
            count += 1
            if count > limits.max_members:
                raise UnsafeArchiveError(f"{archive.name} has more than {limits.max_members:,} members")
            target = _safe_member_path(member.name, dest)
            if member.issym() or member.islnk():
                raise UnsafeArchiveError(
                    f"archive member {member.name!r} is a link to {member.linkname!r}; links are refused"
                )
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                raise UnsafeArchiveError(f"archive member {member.name!r} is not a regular file")
            src = tf.extractfile(member)
            if src is None:
                continue
            with src:
                _copy(src, target, budget)
