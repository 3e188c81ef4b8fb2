"""The generic extractor: size, MIME type and sha256 of every file."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from hub.extractors.base import ExtractionContext, Extractor
from hub.store.entry import StoredFile
from hub.store.hashing import sha256_file

# Materials file types that ``mimetypes`` does not know.
_MIME_BY_SUFFIX = {
    ".cif": "chemical/x-cif",
    ".xyz": "chemical/x-xyz",
    ".extxyz": "chemical/x-xyz",
    ".dm3": "application/x-dm3",
    ".dm4": "application/x-dm4",
    ".emd": "application/x-hdf5",
    ".h5": "application/x-hdf5",
    ".hdf5": "application/x-hdf5",
    ".nc": "application/x-netcdf",
    ".npy": "application/x-npy",
    ".parquet": "application/vnd.apache.parquet",
    ".zarr": "application/x-zarr",
    ".log": "text/plain",
    ".out": "text/plain",
    ".in": "text/plain",
    ".upf": "text/plain",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_MIME_BY_NAME = {
    "outcar": "text/plain",
    "incar": "text/plain",
    "poscar": "text/plain",
    "contcar": "text/plain",
    "kpoints": "text/plain",
    "oszicar": "text/plain",
    "doscar": "text/plain",
    "eigenval": "text/plain",
    "xdatcar": "text/plain",
    "ibzkpt": "text/plain",
    "pcdat": "text/plain",
}


def guess_mime_type(path: Path) -> str:
    """The MIME type of a file, guessed from its name.

    VASP output names (``OUTCAR``, ``POSCAR_1``, ``CONTCAR.relax``, ...) are ``text/plain``;
    materials suffixes that :mod:`mimetypes` does not know (``.cif``, ``.dm4``, ``.npy``, ...)
    come from a table of their own; everything else from :func:`mimetypes.guess_type`, falling
    back to ``application/octet-stream``.
    """
    name = path.name.lower()
    for stem, mime in _MIME_BY_NAME.items():
        if name == stem or name.startswith(stem + "_") or name.startswith(stem + "."):
            return mime
    suffix = path.suffix.lower()
    if suffix in _MIME_BY_SUFFIX:
        return _MIME_BY_SUFFIX[suffix]
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def file_entry(
    path: Path, root: Path, data_type: str | None = None, *, stored: StoredFile | None = None
) -> dict[str, Any]:
    """The ``files[]`` entry of one file (paths are relative to the submission root).

    Its sha256 and length come from ``stored``, the blob store's entry of the file,
    when given; otherwise the file is read and hashed now.
    """
    mime_type = guess_mime_type(path)
    if stored is None:
        length, sha256 = path.stat().st_size, sha256_file(path)
    else:
        length, sha256 = stored.length, stored.sha256
    return {
        "filename": path.name,
        "path": path.relative_to(root).as_posix(),
        "length": length,
        "mime_type": mime_type,
        "sha256": sha256,
        "data_type": data_type or mime_type.split("/")[0],
    }


class GenericExtractor(Extractor):
    """The extractor that claims every file and records its ``files[]`` entry.

    It reads no content beyond hashing: size, MIME type and sha256 (taken from the blob
    store's entry when Connect stored the file first).
    """

    name = "generic"
    description = "Size, MIME type and sha256 of every file"
    provides = ("files",)
    patterns = ("*",)

    def reads_in_place(self, path: Path) -> bool:
        """True: the entry's sha256 and length come from Connect, the MIME type from the name."""
        return True

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict[str, Any]:
        """The ``files`` block: one :func:`file_entry` per file of ``group``."""
        return {"files": [file_entry(p, context.root, stored=context.stored.get(p)) for p in group]}
