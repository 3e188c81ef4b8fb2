"""Where the bytes of a catalog entry come from: mirror, package, cache or network.

Every reader of :mod:`hub.catalog` turns the URL of its data into something a
library can open through this module, so the same rules hold everywhere:

1. **Mirror.**  A catalog entry names the real public URL of its data and, in
   the data's metadata, where a copy sits in a mirror laid out like the public
   data (``mirror: matminer/flla_2015.csv``, or for many URLs a mapping of URL
   prefixes to mirror prefixes).  When ``$MATTERHUB_MIRROR`` points at a folder
   holding that copy, the copy is read and the network is never touched.
2. **Packages.**  ``pkg://ase/test/testdata/minerals/*.cif`` names files that a
   pip package ships (resolved with :mod:`importlib`).
3. **Local files** (plain paths, ``file://``) are read in place.
4. **Remote URLs** (``https://``, ``s3://``, a member ``tar://x::https://...``)
   are cached locally with fsspec: ``filecache::`` for readers that need the
   whole file, verified once against the sha256 the catalog knows;
   ``blockcache::`` for array readers that read only the blocks a slice needs.
   With ``$MATTERHUB_OFFLINE=1``, or when the fetch fails, the read stops with a
   :class:`RemoteDataError` that names the URL and the mirror setting.

The cache lives in ``$MATTERHUB_CACHE`` (default ``~/.cache/matterhub``).
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import re
import shutil
import tarfile
import threading
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Literal

from hub.exceptions import HubError, IntegrityError, NotFoundError

ENV_CACHE = "MATTERHUB_CACHE"
ENV_CATALOGS = "MATTERHUB_CATALOGS"
ENV_MIRROR = "MATTERHUB_MIRROR"  # hub.config.ENV_MIRROR (not imported: intake imports this module at startup)
ENV_OFFLINE = "MATTERHUB_OFFLINE"

#: Protocols whose bytes travel over a network (everything else is read in place).
REMOTE_PROTOCOLS = frozenset(
    {
        "http",
        "https",
        "s3",
        "s3a",
        "gs",
        "gcs",
        "az",
        "abfs",
        "abfss",
        "adl",
        "ftp",
        "sftp",
        "ssh",
        "github",
        "hf",
        "webdav",
        "oci",
        "dropbox",
        "box",
        "gdrive",
        "smb",
        "hdfs",
        "webhdfs",
        "dbfs",
        "lakefs",
        "root",
    }
)
#: Archive suffixes a file set may name; the archive is unpacked into the cache.
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")
_CHUNK = 1 << 20
_verified: dict[tuple[str, int, int], str] = {}
_lock = threading.Lock()


class RemoteDataError(HubError, OSError):
    """The data of a catalog entry cannot be reached (no network, no mirror copy)."""

    status_code = 503
    title = "Data unavailable"


CacheMode = Literal["whole", "blocks"]


# -- settings ---------------------------------------------------------------------


def cache_dir() -> Path:
    """The folder of MatterHub's download cache (``$MATTERHUB_CACHE``, default ``~/.cache/matterhub``)."""
    value = os.environ.get(ENV_CACHE)
    if value:
        root = Path(value).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(base).expanduser() / "matterhub"
    root.mkdir(parents=True, exist_ok=True)
    return root


def offline() -> bool:
    """Whether ``$MATTERHUB_OFFLINE`` forbids network reads (``1``, ``true``, ``yes``)."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in ("1", "true", "yes", "on")


# -- URL anatomy --------------------------------------------------------------------


def protocols(url: str) -> list[str]:
    """The protocols of every link of an fsspec URL chain (``file`` for plain paths)."""
    out = []
    for part in str(url).split("::"):
        match = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*)://", part)
        out.append(match.group(1).lower() if match else "file")
    return out


def is_remote(url: str) -> bool:
    """Whether reading ``url`` needs a network."""
    return any(p in REMOTE_PROTOCOLS for p in protocols(url))


def is_local(url: str) -> bool:
    """Whether ``url`` is a plain path or ``file://`` URL (no chain, no other protocol)."""
    return "::" not in str(url) and protocols(url) == ["file"]


def local_path(url: str) -> Path:
    """The path of a plain path or ``file://`` URL."""
    text = str(url)
    if text.startswith("file://"):
        text = text[len("file://") :]
    return Path(text).expanduser()


def basename(url: str) -> str:
    """The file name an URL ends with (the archive member for ``tar://m::...``)."""
    first = str(url).split("::", 1)[0]
    first = re.sub(r"^[A-Za-z][A-Za-z0-9+.\-]*://", "", first)
    return first.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def _package_path(url: str) -> list[str]:
    """Files a ``pkg://package/relative/glob`` URL names (sorted)."""
    rest = str(url)[len("pkg://") :]
    package, _, relative = rest.partition("/")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise NotFoundError(
            f"{url} names files of the Python package {package!r}, which is not installed. "
            f"Please run pip install {package} to install it."
        )
    pattern = str(Path(next(iter(spec.submodule_search_locations))) / relative)
    found = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
    if not found or not all(Path(f).exists() for f in found):
        raise NotFoundError(f"{url}: the installed {package} has no {relative}")
    return found


def expand(urls: str | Sequence[str]) -> list[str]:
    """``urls`` as a list, with ``pkg://`` URLs and local globs expanded to files."""
    items = [urls] if isinstance(urls, str) else list(urls)
    out: list[str] = []
    for url in items:
        url = str(url)
        if url.startswith("pkg://"):
            out += _package_path(url)
        elif is_local(url) and glob.has_magic(str(local_path(url))):
            out += sorted(glob.glob(str(local_path(url))))
        else:
            out.append(url)
    return out


# -- the mirror -----------------------------------------------------------------------


def mirror_relpath(url: str, mirror: str | Mapping[str, str] | None) -> str | None:
    """Where ``url`` sits in the mirror, relative to ``$MATTERHUB_MIRROR``.

    Parameters
    ----------
    url
        The public URL.
    mirror
        The entry's ``mirror`` metadata: the relative path of this one URL, or a
        mapping of URL prefixes to mirror prefixes (the longest match wins).
    """
    if mirror is None:
        return None
    if isinstance(mirror, str):
        return mirror.lstrip("/")
    best = max((p for p in mirror if url.startswith(p)), key=len, default=None)
    if best is None:
        return None
    return (str(mirror[best]) + url[len(best) :]).lstrip("/")


def mirrored(url: str, mirror: str | Mapping[str, str] | None) -> Path | None:
    """The mirror copy of ``url`` when ``$MATTERHUB_MIRROR`` holds one, else None."""
    from hub.config import mirror_root

    root = mirror_root()
    rel = mirror_relpath(url, mirror)
    if root is None or rel is None:
        return None
    candidate = root / rel
    return candidate if candidate.exists() else None


def _unreachable(url: str, mirror: str | Mapping[str, str] | None, reason: str) -> RemoteDataError:
    from hub.config import mirror_root

    rel = mirror_relpath(url, mirror)
    value = os.environ.get(ENV_MIRROR)
    if not value:
        setting = f"${ENV_MIRROR} is not set"
    elif mirror_root() is None:
        setting = f"${ENV_MIRROR}={value} is not a folder"
    elif rel is None:
        setting = f"${ENV_MIRROR}={value}, but this entry names no mirror path"
    else:
        setting = f"${ENV_MIRROR}={value} has no {rel}"
    where = f" (this file belongs at $MATTERHUB_MIRROR/{rel})" if rel else ""
    return RemoteDataError(
        f"cannot read {url}: {reason}; and no local copy was found: {setting}. Connect to the "
        f"network, or set {ENV_MIRROR} to a folder laid out like the public data{where}.",
        url=url,
        mirror=rel,
    )


# -- verification -----------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    """The hex sha256 of a local file's content, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, sha256: str | None, url: str, *, discard: bool = False) -> None:
    """Check that ``path`` hashes to ``sha256`` (once per file version and process).

    Parameters
    ----------
    discard
        Delete ``path`` when it does not match (a corrupt cached download).

    Raises
    ------
    IntegrityError
        When the content does not match, naming the URL and both hashes.
    """
    if not sha256 or not path.is_file():
        return
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _lock:
        if _verified.get(key) == sha256:
            return
    marker = path.with_name(path.name + ".sha256")
    if marker.exists() and marker.stat().st_mtime_ns >= st.st_mtime_ns and marker.read_text() == sha256:
        _verified[key] = sha256
        return
    got = sha256_of(path)
    if got != sha256:
        if discard:
            path.unlink(missing_ok=True)
        raise IntegrityError(
            f"{url} does not match its catalog entry: its content hashes to {got}, the catalog "
            f"says {sha256}. "
            + ("The cached copy was deleted; read it again to download it anew." if discard else ""),
            url=url,
        )
    if discard:  # a cached download: remember the check beside it
        marker.write_text(sha256)
    with _lock:
        _verified[key] = sha256


# -- turning URLs into something to open ------------------------------------------------------


def _cached_url(url: str, mode: CacheMode) -> str:
    """``url`` with fsspec caching links before its remote links.

    For whole files a ``filecache`` link also goes first, unless the URL's filesystem
    hands out local files itself, as :class:`hub.catalog.hubfiles.HubFileSystem` does.
    """
    import fsspec

    parts = str(url).split("::")
    out: list[str] = []
    for part in parts:
        if protocols(part)[0] in REMOTE_PROTOCOLS:
            out.append("filecache" if mode == "whole" else "blockcache")
        out.append(part)
    gives_local_files = getattr(fsspec.get_filesystem_class(protocols(out[0])[0]), "local_file", False)
    if mode == "whole" and out[0] != "filecache" and not gives_local_files:
        out.insert(0, "filecache")  # so the member itself lands in a local file
    return "::".join(out)


def _cache_options(mode: CacheMode, storage_options: Mapping[str, Any] | None) -> dict[str, Any]:
    options = dict(storage_options or {})
    layer = "filecache" if mode == "whole" else "blockcache"
    storage = str(cache_dir() / ("files" if mode == "whole" else "blocks"))
    options[layer] = {"cache_storage": storage, **dict(options.get(layer) or {})}
    return options


def local_file(
    url: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    mirror: str | Mapping[str, str] | None = None,
    sha256: str | None = None,
) -> Path:
    """A local file holding the whole content of ``url`` (mirror, in place, or cached).

    Parameters
    ----------
    url
        A path, ``file://``, ``pkg://`` or any fsspec URL (chains included).
    storage_options
        fsspec options of the URL's filesystems.
    mirror
        Where a mirror copy of ``url`` sits (see :func:`mirror_relpath`).
    sha256
        The expected content hash; cached downloads and mirror copies are checked.

    Raises
    ------
    RemoteDataError
        When the URL is remote and can be neither fetched nor found in the mirror.
    IntegrityError
        When the content does not match ``sha256``.
    """
    import fsspec

    copy = mirrored(url, mirror)
    if copy is not None:
        verify(copy, sha256, url)
        return copy
    if str(url).startswith("pkg://"):
        found = _package_path(url)
        return Path(found[0])
    if is_local(url):
        path = local_path(url)
        if not path.exists():
            raise NotFoundError(f"{url} does not exist")
        return path
    if is_remote(url) and offline():
        raise _unreachable(url, mirror, f"${ENV_OFFLINE} forbids network reads")
    target = _cached_url(url, "whole")
    try:
        got = fsspec.open_local(target, **_cache_options("whole", storage_options))
    except Exception as exc:
        if not is_remote(url):
            raise
        raise _unreachable(url, mirror, f"{type(exc).__name__}: {exc}") from exc
    path = Path(got[0] if isinstance(got, list) else got)
    if target.startswith("filecache::"):  # a copy downloaded into the cache (not a filesystem's own file)
        verify(path, sha256, url, discard=True)
    return path


def open_file(
    url: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    mirror: str | Mapping[str, str] | None = None,
    mode: CacheMode = "blocks",
) -> str | IO[bytes]:
    """Something an array library can open: a local path, or an fsspec file object.

    Local files and mirror copies are returned as paths (read natively); other
    URLs are opened through fsspec (``blockcache::`` before remote links), so a
    reader fetches only the byte ranges it asks for.
    """
    import fsspec

    copy = mirrored(url, mirror)
    if copy is not None:
        return str(copy)
    if str(url).startswith("pkg://"):
        return _package_path(url)[0]
    if is_local(url):
        return str(local_path(url))
    if is_remote(url) and offline():
        raise _unreachable(url, mirror, f"${ENV_OFFLINE} forbids network reads")
    if mode == "whole":
        return str(local_file(url, storage_options=storage_options, mirror=mirror))
    target = _cached_url(url, "blocks") if is_remote(url) else url
    options = _cache_options("blocks", storage_options) if is_remote(url) else dict(storage_options or {})
    try:
        opened: IO[bytes] = fsspec.open(target, mode="rb", **options).open()
        return opened
    except Exception as exc:
        if not is_remote(url):
            raise
        raise _unreachable(url, mirror, f"{type(exc).__name__}: {exc}") from exc


def store_location(
    url: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    mirror: str | Mapping[str, str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """A directory-like store (Zarr) as ``(url, storage_options)`` for its library."""
    copy = mirrored(url, mirror)
    if copy is not None:
        return str(copy), {}
    if is_local(url):
        return str(local_path(url)), {}
    if is_remote(url) and offline():
        raise _unreachable(url, mirror, f"${ENV_OFFLINE} forbids network reads")
    return str(url), dict(storage_options or {})


def named(path: Path, filename: str) -> Path:
    """``path`` under the name ``filename`` (a symlink in the cache when the names differ).

    Blobs and cached downloads are named by hash; readers that choose their
    format by suffix (tables, ASE) get a link with the right name.
    """
    if not filename or path.name == filename:
        return path
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    folder = cache_dir() / "named" / digest
    link = folder / filename
    if link.exists():
        return link
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{filename}.{os.getpid()}.{threading.get_ident()}"
    try:
        os.symlink(path.resolve(), tmp)
    except OSError:  # no symlinks here: copy
        shutil.copyfile(path, tmp)
    os.replace(tmp, link)
    return link


def is_archive(url: str) -> bool:
    """Whether ``url`` names a whole archive (not a member of one)."""
    first = str(url).split("::", 1)[0]
    return not first.startswith(("tar://", "zip://")) and basename(url).lower().endswith(ARCHIVE_SUFFIXES)


def unpacked(archive: Path) -> Path:
    """The folder an archive unpacks to in the cache (unpacked once, safely)."""
    digest = hashlib.sha256(f"{archive.resolve()}:{archive.stat().st_size}".encode()).hexdigest()[:24]
    target = cache_dir() / "unpacked" / digest
    if (target / ".complete").exists():
        return target
    tmp = target.with_name(target.name + f".part{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if Path(member).is_absolute() or ".." in Path(member).parts:
                    raise HubError(f"{archive.name}: refusing to unpack {member!r} outside the cache")
            zf.extractall(tmp)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(tmp, filter="data")
    (tmp / ".complete").write_text("ok")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target


def catalogs_dir() -> Path:
    """The folder of the public catalogs (``$MATTERHUB_CATALOGS``, else the repository's ``catalogs/``)."""
    value = os.environ.get(ENV_CATALOGS)
    return Path(value).expanduser() if value else Path(__file__).resolve().parents[2] / "catalogs"


def public_catalog(name: str = "index") -> Any:
    """A catalog of real public datasets: ``catalogs/<name>.yaml`` (``index`` lists them all).

    Data are read from their public URLs, or from ``$MATTERHUB_MIRROR`` when it
    holds a copy.
    """
    import intake

    path = catalogs_dir() / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in catalogs_dir().glob("*.yaml"))
        raise FileNotFoundError(
            f"no public catalog {name!r} in {catalogs_dir()}; there are: {', '.join(known)}"
        )
    return intake.from_yaml_file(str(path))


def public_mirror(catalog: str, keys: Sequence[str], root: Path | None = None) -> Path:
    """A folder laid out like ``$MATTERHUB_MIRROR`` holding data entries of a public catalog.

    Each file of the data entries ``keys`` of ``catalog`` (``catalogs/<catalog>.yaml``)
    sits at its ``mirror`` path, read with :func:`local_file`: from the mirror when it
    holds it, else downloaded once from its public home into the cache, sha256-checked
    where the catalog knows the hash.

    For code that takes a data root (the studies): ``root`` defaults to
    ``cache_dir() / "public"``, shared by every catalog.

    Raises
    ------
    RemoteDataError
        When a file can be neither found in the mirror nor fetched.
    IntegrityError
        When a file does not match its sha256.
    """
    root = root if root is not None else cache_dir() / "public"
    cat = public_catalog(catalog)
    for key in keys:
        data = cat.data[key]
        mirror = data.metadata.get("mirror")
        urls = expand(data.kwargs["url"])
        sha = data.metadata.get("sha256")
        for url in urls:
            rel = mirror_relpath(url, mirror) or basename(url)
            target = root / rel
            if target.is_file():
                continue
            path = local_file(
                url,
                storage_options=data.kwargs.get("storage_options"),
                mirror=mirror,
                sha256=sha if isinstance(sha, str) and len(urls) == 1 else None,
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return root
