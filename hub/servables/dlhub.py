"""Importing DLHub documents (``datacite`` + ``dlhub`` + ``servable``/``dataset`` blocks).

DLHub's SDK wrote one JSON document per servable or dataset.  Importing one
gives a :class:`~hub.servables.description.ServableDescription` that publishes
like any other: a servable document keeps its methods' input and output
schemas (DLHub's type vocabulary is ours); a dataset document (``dlhub.type:
dataset``) becomes a searchable, metadata-only entry of type
``dlhub_dataset`` whose input and output schemas are the dataset's input and
label columns.

A document cut short (a real one in the G4MP2 repository ends mid-string)
gives a :class:`~hub.exceptions.ValidationError` saying where it ends; with
``repair=True`` the complete part is kept and a warning says what was lost.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError

from hub.exceptions import ValidationError
from hub.records.datacite import Creator, DataCite
from hub.servables.base import ServableType
from hub.servables.metadata import NAME_RE, DLHubBlock, MethodSpec, ServableBlock, ServableMetadata
from hub.servables.registry import type_for_shim
from hub.servables.schema import ArgSpec

if TYPE_CHECKING:
    from hub.servables.description import ServableDescription

#: DataCite fields our model does not carry; kept under ``dlhub.imported_datacite``.
_EXTRA_DATACITE = ("fundingReferences", "alternateIdentifiers", "dates", "language", "sizes", "formats")
#: Placeholder identifiers DLHub wrote before a DOI was minted.
_PLACEHOLDER_DOI = "10.YET/UNASSIGNED"
#: DLHub's human servable types, and ours.
_TYPE_WORDS = {"scikit-learn": "sklearn", "sklearn": "sklearn", "keras": "keras", "python": "python"}


class DLHubDatasetType(ServableType):
    """A DLHub dataset description: searchable metadata (columns, inputs, labels); nothing to run."""

    name = "dlhub_dataset"
    description = "A dataset description imported from DLHub (metadata only; nothing to run)"
    priority = 1000
    runnable = False


def read_document(path: str | os.PathLike[str], *, repair: bool = False) -> dict[str, Any]:
    """A DLHub document from a JSON file.

    A truncated file is an error naming where it ends, or, with ``repair``, its complete
    part (:func:`repair_json`) with a warning.

    Raises
    ------
    ValidationError
        When the file is not complete JSON (and ``repair`` is false) or holds something
        other than a JSON object.
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated")
        where = f"line {exc.lineno}, column {exc.colno} (character {exc.pos} of {len(text)})"
        if not repair:
            why = (
                f"it stops in the middle of a value at {where}: the file looks truncated"
                if truncated
                else f"{exc.msg} at {where}"
            )
            raise ValidationError(
                f"{p.name} is not a complete JSON document: {why}. "
                "Get the whole file again, or import its complete part with repair=True.",
                errors=[{"loc": [exc.lineno, exc.colno], "msg": exc.msg}],
            ) from None
        doc, kept = repair_json(text)
        warnings.warn(
            f"{p.name} is cut short at {where}; imported its first {kept} of {len(text)} characters "
            "(the last entry before the cut may be incomplete)",
            UserWarning,
            stacklevel=2,
        )
    if not isinstance(doc, dict):
        raise ValidationError(f"{p.name} holds a JSON {type(doc).__name__}, not a DLHub document (an object)")
    return doc


def repair_json(text: str) -> tuple[Any, int]:
    """The longest prefix of a truncated JSON text that parses once its open brackets are closed.

    Returns the value and how many characters of ``text`` it kept.
    """
    cuts: list[tuple[int, str]] = []  # (cut position, closers for the stack at that position)
    stack: list[str] = []
    in_string = escape = False
    for i, ch in enumerate(text):
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
            cuts.append((i + 1, "".join(reversed(stack))))
        elif ch in "}]":
            if stack:
                stack.pop()
            cuts.append((i + 1, "".join(reversed(stack))))
        elif ch == ",":
            cuts.append((i, "".join(reversed(stack))))
    for pos, closers in reversed(cuts):
        try:
            return json.loads(text[:pos] + closers), pos
        except json.JSONDecodeError:
            continue
    raise ValidationError("no complete JSON value could be recovered from the document")


def _creator(c: Mapping[str, Any]) -> Creator:
    if "name" in c or "creatorName" in c:
        name = c.get("name") or c.get("creatorName")
    else:
        family, given = c.get("familyName", ""), c.get("givenName", "")
        name = f"{family}, {given}".strip(", ") or "unknown"
    aff = c.get("affiliation", c.get("affiliations", []))
    return Creator(
        name=str(name),
        givenName=c.get("givenName"),
        familyName=c.get("familyName"),
        affiliation=[aff] if isinstance(aff, str) else [str(a) for a in aff],
    )


def _datacite(block: Mapping[str, Any]) -> tuple[DataCite, dict[str, Any]]:
    data = dict(block)
    extra = {k: data.pop(k) for k in _EXTRA_DATACITE if k in data}
    extra = {k: v for k, v in extra.items() if v}
    data["creators"] = [_creator(c) for c in data.get("creators") or []] or [Creator(name="unknown")]
    ident = data.get("identifier")
    if isinstance(ident, Mapping) and str(ident.get("identifier", "")).upper() == _PLACEHOLDER_DOI.upper():
        data.pop("identifier")  # not a DOI: DLHub's placeholder for one never minted
    if "types" in data and "resourceType" not in data:
        data["resourceType"] = data.pop("types")
    data.pop("types", None)
    data.pop("schemaVersion", None)
    return DataCite.model_validate(data), extra


def _column_spec(col: Mapping[str, Any]) -> ArgSpec:
    data = {k: v for k, v in col.items() if k != "name"}
    data.setdefault("type", "unknown")
    return ArgSpec.from_dlhub(data)


def _dataset_block(ds: Mapping[str, Any]) -> ServableBlock:
    columns = [c for c in ds.get("columns") or [] if isinstance(c, Mapping) and c.get("name")]
    inputs = list(ds.get("inputs") or [])
    labels = list(ds.get("labels") or [c["name"] for c in columns if c["name"] not in inputs])
    by_name = {c["name"]: c for c in columns}

    def block(names: list[str], what: str) -> ArgSpec:
        return ArgSpec(
            type="dict",
            properties={n: _column_spec(by_name.get(n, {"name": n})) for n in names},
            description=f"the dataset's {what} columns",
        )

    fmt = ds.get("format", "unknown format")
    return ServableBlock(
        type="dlhub_dataset",
        model_type=f"DLHub dataset ({fmt}, {len(columns)} columns)",
        methods={"run": MethodSpec(input=block(inputs, "input"), output=block(labels, "label"))},
        options={"format": fmt, "read_options": ds.get("read_options", {})},
        runnable=False,
    )


def _servable_block(sv: Mapping[str, Any]) -> ServableBlock:
    shim = str(sv.get("shim") or "")
    kind = type_for_shim(shim) if shim else None
    if kind is None:
        words = str(sv.get("type", "")).lower()
        kind = next((v for k, v in _TYPE_WORDS.items() if k in words), "python")
    methods = {}
    for mname, m in (sv.get("methods") or {}).items():
        methods[mname] = MethodSpec(
            input=ArgSpec.from_dlhub(m.get("input") or {"type": "unknown"}),
            output=ArgSpec.from_dlhub(m.get("output") or {"type": "unknown"}),
            parameters={
                k: ArgSpec.from_dlhub(v)
                for k, v in (m.get("parameters") or {}).items()
                if isinstance(v, Mapping)
            },
            method_details=dict(m.get("method_details") or {}),
        )
    return ServableBlock(
        type=kind,
        shim=shim or None,
        model_type=str(sv.get("model_type") or sv.get("type") or ""),
        model_summary=str(sv.get("model_summary") or ""),
        methods=methods or {"run": MethodSpec()},
        options=dict(sv.get("options") or {}),
        runnable=False,  # imported without its files: metadata only
    )


def import_document(
    doc: Mapping[str, Any] | str | os.PathLike[str], *, repair: bool = False
) -> ServableDescription:
    """A :class:`ServableDescription` from a DLHub document (a dict or a path to its JSON file)."""
    from hub.servables.description import ServableDescription

    origin = None
    if not isinstance(doc, Mapping):
        origin = Path(doc).name
        doc = read_document(doc, repair=repair)
    missing = [b for b in ("datacite", "dlhub") if b not in doc]
    if missing:
        raise ValidationError(
            f"not a DLHub document: it has no {' or '.join(missing)} block (it has {', '.join(doc) or 'nothing'})"
        )
    dl = dict(doc["dlhub"])
    kind = dl.get("type", "servable")
    try:
        datacite, extra_dc = _datacite(doc["datacite"])
        if kind == "dataset":
            block = _dataset_block(doc.get("dataset") or {})
        else:
            block = _servable_block(doc.get("servable") or {})
        name = str(dl.get("name") or datacite.titles[0].title)
        if not NAME_RE.match(name):
            name = "-".join(name.split())[:80]
        deps = dl.get("dependencies") or {}
        python_deps = deps.get("python", {}) if isinstance(deps, Mapping) else {}
        dlhub = DLHubBlock(
            name=name,
            type=str(kind),
            domains=list(dl.get("domains") or []),
            visible_to=list(dl.get("visible_to") or ["public"]),
            files=dict(dl.get("files") or {}),
            dependencies=dict(deps) if isinstance(deps, Mapping) else {},
            requirements=[f"{k}=={v}" for k, v in python_deps.items()]
            if isinstance(python_deps, Mapping)
            else [],
            imported_from=f"DLHub SDK {dl.get('version', '?')}" + (f" ({origin})" if origin else ""),
        )
        if extra_dc:
            dlhub = dlhub.model_copy(update={"imported_datacite": extra_dc})
        metadata = ServableMetadata(
            datacite=datacite,
            dlhub=dlhub,
            servable=block,
            dataset=dict(doc["dataset"]) if kind == "dataset" and doc.get("dataset") else None,
        )
    except PydanticValidationError as exc:
        raise ValidationError(
            f"the DLHub document{f' {origin}' if origin else ''} does not fit: {exc}",
            errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()],
        ) from None
    return ServableDescription(metadata=metadata)
