"""A servable's artifact: one deterministic tar in the blob store.

Layout::

    servable.json       the metadata as described
    requirements.txt    pinned requirements (pip format)
    model/...           what the type plugin wrote (model.pkl, model.keras, model.hdf5, ...)
    code/...            source files packaged with it, below the packages that hold them
                        (``code/servables/bandgap/features.py``; see hub.servables.shipped)
    files/...           data files packaged with it

Entries are sorted with fixed times and owners, so the same content always
makes the same blob.  Workers unpack an artifact once into a cache folder
named after its sha256 (atomically: unpack beside, then rename).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from hub.exceptions import ValidationError
from hub.servables.shipped import artifact_path

if TYPE_CHECKING:
    from hub.servables.description import ServableDescription
    from hub.store.blobs import BlobStore

MODEL_DIR = "model"


def build(sv: ServableDescription, workdir: Path) -> tuple[Path, dict[str, Any]]:
    """Write ``sv``'s artifact as a tar under ``workdir``; returns its path and the files map."""
    from hub.servables.registry import get_type

    root = workdir / "artifact"
    model_dir = root / MODEL_DIR
    model_dir.mkdir(parents=True)
    files: dict[str, Any] = {}
    if sv.metadata.servable.runnable:
        if sv.obj is None:
            raise ValidationError(f"servable {sv.name!r} has no model or function to package")
        plugin = get_type(sv.type)
        files.update({k: f"{MODEL_DIR}/{v}" for k, v in plugin.package(sv.obj, sv.source, model_dir).items()})
    for kind, paths in (("code", sv.code), ("files", sv.files)):
        names = []
        for p in paths:
            name = f"{kind}/{artifact_path(p) if kind == 'code' else PurePosixPath(p.name)}"
            target = root / name
            if target.exists():
                raise ValidationError(f"two {kind} files would be packaged as {name}; rename one")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, target)
            names.append(name)
        if names:
            files[kind] = names
    (root / "requirements.txt").write_text("\n".join(sv.metadata.dlhub.requirements) + "\n")
    doc = sv.metadata.to_document()
    doc["dlhub"]["files"] = {**doc["dlhub"].get("files", {}), **files}
    (root / "servable.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    tar_path = workdir / "artifact.tar"
    _deterministic_tar(root, tar_path)
    return tar_path, files


def _deterministic_tar(root: Path, dest: Path) -> None:
    entries = sorted(p for p in root.rglob("*"))
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
        for p in entries:
            rel = p.relative_to(root).as_posix()
            info = tarfile.TarInfo(rel)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if p.is_dir():
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = p.stat().st_size
                info.mode = 0o644
                with open(p, "rb") as f:
                    tar.addfile(info, f)


def unpacked(
    store: BlobStore | str, sha256: str, cache_dir: str | os.PathLike[str], *, readable: bool = False
) -> Path:
    """The folder holding artifact ``sha256``, unpacked from ``store`` on first use.

    ``readable``: make what is unpacked readable by every user (folders 755, files 644 or
    755), for a contained worker that runs as another user; it still reads only its own
    artifact (Landlock).
    """
    cache = Path(cache_dir)
    target = cache / sha256
    if target.is_dir():
        return target
    if isinstance(store, str):
        from hub.store.blobs import BlobStore

        store = BlobStore(store)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{sha256[:12]}-{uuid.uuid4().hex[:6]}-", dir=cache))
    try:
        with store.open(sha256) as f:
            data = f.read()  # a full read verifies the sha256
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            tar.extractall(tmp, filter="data")
        if readable:
            _make_readable(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():  # another worker did not win the race: a real error
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _make_readable(root: Path) -> None:
    os.chmod(root, 0o755)
    for folder, dirs, names in os.walk(root):
        for d in dirs:
            os.chmod(os.path.join(folder, d), 0o755)
        for n in names:
            path = os.path.join(folder, n)
            os.chmod(path, 0o755 if os.stat(path).st_mode & 0o100 else 0o644)


def check_artifact(path: Path, files: dict[str, Any]) -> None:
    """Check an uploaded artifact tar without extracting it.

    It must hold regular files and folders only, no absolute or ``..`` paths,
    ``servable.json``, and every file ``files`` names.

    Raises
    ------
    ValidationError
        Naming the first problem found.
    """
    names: set[str] = set()
    try:
        with tarfile.open(path, mode="r:") as tar:
            for member in tar.getmembers():
                name = member.name
                if name.startswith("/") or ".." in Path(name).parts:
                    raise ValidationError(f"the artifact holds an unsafe path {name!r}")
                if not (member.isfile() or member.isdir()):
                    raise ValidationError(f"the artifact holds {name!r}, which is not a plain file or folder")
                names.add(name.removeprefix("./"))
    except tarfile.TarError as exc:
        raise ValidationError(f"the artifact is not a readable tar file: {exc}") from None
    if "servable.json" not in names:
        raise ValidationError("the artifact has no servable.json (build it with hub.servables.package.build)")
    wanted: list[str] = []
    for value in files.values():
        wanted += value if isinstance(value, list) else [value]
    missing = [w for w in wanted if isinstance(w, str) and w not in names]
    if missing:
        raise ValidationError(f"the artifact lacks files its document names: {', '.join(sorted(missing))}")
