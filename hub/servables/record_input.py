"""How a record of a dataset becomes one item of a servable's input (``input_from_record``).

A servable whose input is a batch (a list, or an ndarray whose first dimension is any
size) may say how one search hit makes one item of it, so front ends can run it on
records without asking which field is the input::

    RecordInput(source_name="g4mp2_gdb_sugars",
                parts={"xyz": "file:text", "u0": "custom.b3lyp_u0"})

Each part is a record field path (``material.composition``) or the record's own file:
``file:text`` (its text), ``file:bytes``, ``file:array`` (a ``.npy`` array, or an image's
pixels).  ``parts`` with the single key ``""`` makes the item the value itself (a list of
formulas from ``{"": "material.composition"}``); other keys make a dict item.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from hub.exceptions import InputValidationError

#: How a record's file is read: ``file:<how>``.
FILE_READS = ("text", "bytes", "array")
#: Suffixes read as pictures by ``file:array``.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

#: ``read(source_id, path) -> bytes``: a record's file through the hub.
FileReader = Callable[[str, str], bytes]


class RecordInput(BaseModel):
    """One record -> one input item.

    Parameters
    ----------
    parts
        Item key -> where its value comes from: a record field path, or ``file:text``,
        ``file:bytes``, ``file:array`` (the record's file).  The key ``""`` alone: the item
        is that value.
    source_name
        The dataset whose records fit (front ends start their record search there).
    file
        Which of the record's files (a glob on its path, ``*.xyz``); default: its first.
    """

    model_config = ConfigDict(extra="forbid")

    parts: dict[str, str]
    source_name: str | None = None
    file: str | None = None

    @field_validator("parts")
    @classmethod
    def _parts(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError('parts is empty; give {"key": "field.path" or "file:text"}')
        if "" in v and len(v) > 1:
            raise ValueError('the key "" (the item is the value itself) cannot be given with other keys')
        for source in v.values():
            how = source.removeprefix("file:")
            if source.startswith("file:") and how not in FILE_READS:
                raise ValueError(f"{source!r}: a record's file is read as {', '.join(FILE_READS)}")
        return v

    def query(self) -> str:
        """A search for the records that fit.

        Those of ``source_name`` (when given) that have every field the item reads.
        """
        clauses = [f'mdf.source_name:"{self.source_name}"'] if self.source_name else []
        clauses += ["mdf.resource_type:record"]
        clauses += [f"{v}:*" for v in self.parts.values() if not v.startswith("file:")]
        return " AND ".join(clauses)

    def item(self, record: Mapping[str, Any], read: FileReader) -> Any:
        """The input item of ``record`` (a record document), reading its file with ``read``.

        Raises
        ------
        InputValidationError
            When the record lacks a field or a file the item needs (naming the record).
        """
        values = {key: self._value(record, source, read) for key, source in self.parts.items()}
        return values.get("", values)

    def _value(self, record: Mapping[str, Any], source: str, read: FileReader) -> Any:
        rid = str((record.get("mdf") or {}).get("record_id", "the record"))
        if source.startswith("file:"):
            path = self._file(record, rid)
            content = read(str(record["mdf"]["source_id"]), path)
            return decode(path, content, source.removeprefix("file:"))
        value: Any = record
        for part in source.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            raise InputValidationError(
                f"{rid} has no {source}; this servable reads it from each record "
                f"(the records that have what it reads: {self.query()})"
            )
        return value

    def _file(self, record: Mapping[str, Any], rid: str) -> str:
        paths = [str(f.get("path") or f.get("filename")) for f in record.get("files") or []]
        fitting = [p for p in paths if self.file is None or PurePosixPath(p).match(self.file)]
        if not fitting:
            want = f"file matching {self.file}" if self.file else "file"
            raise InputValidationError(f"{rid} has no {want} (its files: {', '.join(paths) or 'none'})")
        return fitting[0]


def decode(path: str, content: bytes, how: str) -> Any:
    """A file's ``content`` as ``text``, ``bytes`` or an ``array`` (``.npy``, or an image's pixels)."""
    if how == "text":
        return content.decode("utf-8")
    if how == "bytes":
        return content
    import numpy as np

    if path.lower().endswith(".npy"):
        return np.load(io.BytesIO(content), allow_pickle=False)
    if path.lower().endswith(IMAGE_SUFFIXES):
        from PIL import Image

        with Image.open(io.BytesIO(content)) as img:
            return np.asarray(img)
    raise InputValidationError(f"{path}: file:array reads .npy files and images, not this file")
