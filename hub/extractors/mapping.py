"""Mapping-based extraction: every table row or every JSON/YAML/XML object becomes a record.

The submission's mapping sends record field paths to column names (tables) or
to dotted key paths (JSON, YAML, XML)::

    {"material.composition": "formula",
     "custom.band_gap": "band_gap",
     "crystal_structure.space_group_number": "space_group"}

Each row (object) gives one record nested by the target path
(``{"material": {"composition": "Rb2Te"}, "custom": {"band_gap": 1.88}, ...}``);
missing values (None, NaN, empty strings, and the ``na_values`` option) are
left out.  When ``material.composition`` is mapped, ``material.elements`` is
derived from it with ASE's formula parser (skipped when it does not parse).

A mapping that names a column or key that no row has is an error
(:class:`~hub.exceptions.MappingError`) naming what is missing and what is
there.  Tables are read with :func:`hub.formats.tables.read_table` and
mapped column by column, so 100,000 rows take well under a second.
"""

from __future__ import annotations

import ast
import datetime as _dt
import itertools
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from hub.exceptions import ExtractionError, MappingError, did_you_mean
from hub.extractors.base import ExtractionContext, Extractor
from hub.formats.tables import TABLE_FORMATS, read_table

#: Suffixes of files whose objects are mapped by key path.
OBJECT_FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".xml": "xml"}
#: How many available columns/keys an error message lists.
_LISTED = 40


class _Missing:
    """Marks a value that is absent or empty (never put into a record)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


# -- plain values ---------------------------------------------------------------


def plain_value(value: Any, na_values: frozenset[str] = frozenset()) -> Any:
    """``value`` as plain JSON data, or :data:`MISSING` when it is empty.

    numpy and pandas scalars become Python numbers, timestamps ISO strings;
    None, NaN, infinities, NaT, empty (or whitespace) strings, strings in
    ``na_values`` and empty lists/dicts are missing.  Lists and dicts are
    cleaned element by element.
    """
    kind = type(value)
    if kind is str:
        return MISSING if not value.strip() or value in na_values else value
    if kind is bool or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else MISSING
    if value is None:
        return MISSING
    if isinstance(value, Mapping):
        cleaned = {str(k): plain_value(v, na_values) for k, v in value.items()}
        cleaned = {k: v for k, v in cleaned.items() if v is not MISSING}
        return cleaned or MISSING
    if isinstance(value, (list, tuple)):
        items = [plain_value(v, na_values) for v in value]
        items = [v for v in items if v is not MISSING]
        return items or MISSING
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy scalar or array
        return plain_value(value.tolist(), na_values)
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return MISSING
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pass
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return plain_value(value.decode("utf-8", "replace"), na_values)
    if isinstance(value, str):  # str subclasses (numpy.str_)
        return plain_value(str(value), na_values)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (float, Decimal)):
        return plain_value(float(value), na_values)
    return str(value)


# -- composition -> elements ----------------------------------------------------


@lru_cache(maxsize=65536)
def elements_of(composition: str) -> tuple[str, ...] | None:
    """The element symbols (sorted) of a formula or composition dict literal.

    ``composition`` is a formula such as ``"Fe2O3"`` or a dict literal such as
    ``"{'Fe': 2.0, 'O': 3.0}"`` (pymatgen's ``Composition.as_dict()``, as matminer
    stores it).  None when it does not parse or names something that is not an element.
    """
    from ase.data import chemical_symbols
    from ase.formula import Formula

    text = composition.strip()
    if not text:
        return None
    try:
        if text.startswith("{"):  # pymatgen's Composition.as_dict(), as matminer stores it
            parsed = ast.literal_eval(text)
            symbols = list(parsed) if isinstance(parsed, dict) else []
        else:
            symbols = list(Formula(text).count())
    except Exception:
        return None
    valid = set(chemical_symbols[1:])
    if not symbols or any(s not in valid for s in symbols):
        return None
    return tuple(sorted(set(symbols)))


def _add_elements(records: list[dict[str, Any]], mapping: Mapping[str, str]) -> None:
    """Make ``material.composition`` a string and derive ``material.elements`` from it.

    A string is the record schema's type for the composition; the elements are left
    alone when the mapping sets them itself.
    """
    if "material.composition" not in mapping:
        return
    derive = "material.elements" not in mapping
    for record in records:
        material = record.get("material")
        if not isinstance(material, dict) or "composition" not in material:
            continue
        composition = material["composition"]
        if not isinstance(composition, str):
            composition = material["composition"] = str(composition)
        elements = elements_of(composition) if derive else None
        if elements:
            material["elements"] = list(elements)


# -- the mapping itself ---------------------------------------------------------


def check_mapping(mapping: Any) -> dict[str, str]:
    """Validate a mapping: non-empty string paths, no target inside another one.

    Raises
    ------
    MappingError
        Naming each bad entry.
    """
    if not isinstance(mapping, Mapping) or not mapping:
        raise MappingError(
            f"A mapping must be a non-empty dict of record field path -> column or key, "
            f"got {mapping!r}; e.g. {{'material.composition': 'formula'}}."
        )
    errors = []
    for target, source in mapping.items():
        if not isinstance(target, str) or not re.fullmatch(r"[^.\s]+(\.[^.\s]+)*", target):
            errors.append({"field": str(target), "message": "target must be a dotted path"})
        if not isinstance(source, str) or not source.strip():
            errors.append({"field": str(target), "message": "source must be a column name or key path"})
    targets = sorted(str(t) for t in mapping)
    for a, b in itertools.pairwise(targets):
        if b.startswith(a + "."):
            errors.append({"field": b, "message": f"{b!r} is inside {a!r}, which is mapped too"})
    if errors:
        listed = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise MappingError(f"The mapping is not valid: {listed}.", errors=errors)
    return {str(t): str(s) for t, s in mapping.items()}


def _missing_error(
    kind: str, missing: list[tuple[str, str]], available: Sequence[str], where: str
) -> MappingError:
    """``mapping names column 'bandgap' which the table does not have; columns are: ...``."""
    names = ", ".join(repr(source) for _, source in missing)
    hints = []
    for _, source in missing:
        close = did_you_mean(source, available, n=1)
        if close:
            hints.append(f"{close[0]!r} for {source!r}" if len(missing) > 1 else repr(close[0]))
    hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
    listed = ", ".join(available[:_LISTED]) + (", ..." if len(available) > _LISTED else "")
    noun = kind if len(missing) == 1 else kind + "s"
    message = f"mapping names {noun} {names} which {where}{hint}; {kind}s are: {listed or '(none)'}"
    errors = [
        {"field": target, kind: source, "message": f"no {kind} {source!r}"} for target, source in missing
    ]
    return MappingError(message, errors=errors)


def _records(
    n: int, columns: list[tuple[list[str], list[Any]]], mapping: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Assemble ``n`` nested records from cleaned columns (one pass over rows)."""
    records: list[dict[str, Any]] = []
    append = records.append
    for i in range(n):
        record: dict[str, Any] = {}
        for keys, values in columns:
            value = values[i]
            if value is MISSING:
                continue
            node = record
            for key in keys[:-1]:
                child = node.get(key)
                if child is None:
                    child = node[key] = {}
                node = child
            node[keys[-1]] = value
        if record:
            append(record)
    _add_elements(records, mapping)
    return records


# -- tables ---------------------------------------------------------------------


def map_table(
    df: Any, mapping: Mapping[str, str], na_values: Iterable[str] = (), source: str = "the table"
) -> list[dict[str, Any]]:
    """One record per row of the DataFrame ``df``.

    Parameters
    ----------
    df
        The table (from :func:`~hub.formats.tables.read_table`).
    mapping
        Record field path -> column name.
    na_values
        Strings that mean "no value" besides empty strings and NaN.
    source
        How error messages name the table.

    Raises
    ------
    MappingError
        When the mapping names a column the table does not have.
    """
    mapping = check_mapping(mapping)
    na = frozenset(na_values)
    by_name = {str(c): c for c in df.columns}
    missing = [(t, s) for t, s in mapping.items() if s not in by_name]
    if missing:
        raise _missing_error("column", missing, list(by_name), f"{source} does not have")
    columns: list[tuple[list[str], list[Any]]] = []
    cleaned: dict[str, list[Any]] = {}
    for target, name in mapping.items():
        if name not in cleaned:
            cleaned[name] = [plain_value(v, na) for v in df[by_name[name]].tolist()]
        columns.append((target.split("."), cleaned[name]))
    return _records(len(df), columns, mapping)


# -- JSON, YAML, XML objects ----------------------------------------------------


def _lookup(node: Any, parts: list[str]) -> Any:
    """The value at key path ``parts`` in nested dicts/lists, or MISSING when absent.

    A key may itself contain dots (``{"a.b": 1}`` is found by ``"a.b"``); a
    numeric part indexes a list.
    """
    if not parts:
        return node
    if isinstance(node, Mapping):
        for j in range(len(parts), 0, -1):
            key = ".".join(parts[:j])
            if key in node:
                found = _lookup(node[key], parts[j:])
                if found is not MISSING:
                    return found
        return MISSING
    if isinstance(node, list) and parts[0].lstrip("-").isdigit():
        index = int(parts[0])
        if -len(node) <= index < len(node):
            return _lookup(node[index], parts[1:])
    return MISSING


def _find(obj: Any, path: str, root_name: str | None) -> Any:
    parts = path.split(".")
    found = _lookup(obj, parts)
    if found is MISSING and root_name is not None and parts[0] == root_name:
        found = _lookup(obj, parts[1:])  # "root.dict1.field1" as xmltodict would spell it
    return found


def _key_paths(obj: Any, prefix: str = "", out: dict[str, None] | None = None) -> dict[str, None]:
    out = {} if out is None else out
    if isinstance(obj, Mapping) and obj:
        for key, value in obj.items():
            _key_paths(value, f"{prefix}{key}.", out)
    elif prefix:
        out.setdefault(prefix[:-1], None)
    return out


def map_objects(
    objects: Sequence[Any],
    mapping: Mapping[str, str],
    na_values: Iterable[str] = (),
    source: str = "the file",
    root_name: str | None = None,
) -> list[dict[str, Any]]:
    """One record per object; mapping values are dotted key paths inside each object.

    A key missing in some objects is left out of those records; a key missing
    in every object raises :class:`~hub.exceptions.MappingError`.
    """
    mapping = check_mapping(mapping)
    na = frozenset(na_values)
    columns: list[tuple[list[str], list[Any]]] = []
    missing: list[tuple[str, str]] = []
    for target, path in mapping.items():
        found = [_find(obj, path, root_name) for obj in objects]
        if objects and all(v is MISSING for v in found):
            missing.append((target, path))
            continue
        values = [MISSING if v is MISSING else plain_value(v, na) for v in found]
        columns.append((target.split("."), values))
    if missing:
        keys: dict[str, None] = {}
        for obj in objects[:100]:
            _key_paths(obj, out=keys)
        raise _missing_error("key", missing, list(keys), f"no object in {source} has")
    return _records(len(objects), columns, mapping)


def _objects_of(data: Any, path: Path) -> list[Any]:
    if isinstance(data, list):
        return [item for item in data if isinstance(item, Mapping)]
    if isinstance(data, Mapping):
        return [data]
    raise ExtractionError(
        f"{path.name} holds a {type(data).__name__}, not an object or a list of objects; "
        "mapping needs key/value objects."
    )


_INT = re.compile(r"[+-]?(0|[1-9][0-9]*)")
_LEADING_ZERO = re.compile(r"[+-]?0[0-9]+")


def xml_text_value(text: str | None) -> Any:
    """XML text as int, float or bool when it parses as one (``"007"`` stays a string)."""
    if text is None:
        return None
    value = text.strip()
    if not value:
        return None
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if _INT.fullmatch(value):
        return int(value)
    if _LEADING_ZERO.fullmatch(value) or "_" in value:  # "007" is an identifier, "1_0" text
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # drop an XML namespace "{uri}"


def xml_element_value(element: ET.Element) -> Any:
    """An XML element as nested dicts.

    Children are keyed by tag (repeated tags -> lists), attributes as ``@name``, and
    text beside children or attributes as ``#text``; a leaf element without
    attributes is its text's value (:func:`xml_text_value`).
    """
    children = list(element)
    if not children and not element.attrib:
        return xml_text_value(element.text)
    result: dict[str, Any] = {f"@{_local(k)}": xml_text_value(v) for k, v in element.attrib.items()}
    for child in children:
        tag, value = _local(child.tag), xml_element_value(child)
        if tag in result:
            previous = result[tag]
            if isinstance(previous, list):
                previous.append(value)
            else:
                result[tag] = [previous, value]
        else:
            result[tag] = value
    text = xml_text_value(element.text)
    if text is not None:
        result["#text"] = text
    return result


def load_objects(path: Path) -> tuple[list[Any], str | None]:
    """The objects of a JSON, YAML or XML file, and the XML root tag (else None).

    JSON/YAML: a list gives its objects, one object gives itself; several YAML
    documents give one object each.  XML: the children of the root element when
    there are several and they share one tag (``<rows><row/><row/></rows>``),
    else the root element's content as one object.
    """
    fmt = OBJECT_FORMATS.get(path.suffix.lower())
    try:
        if fmt == "json":
            with open(path, encoding="utf-8-sig") as fh:
                return _objects_of(json.load(fh), path), None
        if fmt == "yaml":
            import yaml

            with open(path, encoding="utf-8-sig") as fh:
                documents = [d for d in yaml.safe_load_all(fh) if d is not None]
            if len(documents) == 1:
                return _objects_of(documents[0], path), None
            objects: list[Any] = []
            for document in documents:
                objects.extend(_objects_of(document, path))
            return objects, None
        if fmt == "xml":
            root = ET.parse(path).getroot()
            children = list(root)
            if len(children) > 1 and len({_local(c.tag) for c in children}) == 1:
                return [xml_element_value(c) for c in children], _local(root.tag)
            value = xml_element_value(root)
            return _objects_of(value if isinstance(value, dict) else {}, path), _local(root.tag)
    except (json.JSONDecodeError, ET.ParseError, UnicodeDecodeError) as exc:
        raise ExtractionError(f"{path.name} cannot be parsed as {fmt}: {exc}") from exc
    except Exception as exc:
        if type(exc).__module__.startswith("yaml"):
            raise ExtractionError(f"{path.name} cannot be parsed as YAML: {exc}") from exc
        raise
    raise ExtractionError(
        f"{path.name}: mapping reads {', '.join(sorted({*TABLE_FORMATS, *OBJECT_FORMATS}))} files."
    )


# -- the extractor --------------------------------------------------------------


class MappingExtractor(Extractor):
    """Records from tables and JSON/YAML/XML files through the submission's mapping.

    Runs only when the submission has a mapping.  ``extract`` returns a LIST of
    records: one per table row (csv, tsv, xlsx, xls, parquet, jsonl) or per
    object (json, yaml, xml).  Option ``na_values`` (``context.options["mapping"]``)
    lists extra strings that mean "no value".
    """

    name = "mapping"
    description = "One record per table row or JSON/YAML/XML object, through a user mapping"
    provides = ("material", "custom")
    patterns = tuple(f"*{s}" for s in (*TABLE_FORMATS, *OBJECT_FORMATS))
    imports = ("pandas", "yaml", "ase")
    needs_mapping = True

    def extract(
        self, group: tuple[Path, ...], context: ExtractionContext
    ) -> list[dict[str, Any]] | dict[str, Any]:
        """Map the one file of ``group``; ``{}`` when the submission has no mapping.

        Raises
        ------
        MappingError
            When the mapping is malformed or names a column/key the file lacks.
        ExtractionError
            When the file cannot be parsed.
        """
        if not context.mapping:
            return {}
        mapping = check_mapping(context.mapping)
        options = context.options.get(self.name, {})
        na_values = [str(v) for v in options.get("na_values", ())]
        path = group[0]
        if path.suffix.lower() in TABLE_FORMATS:
            df = read_table(path)
            return map_table(df, mapping, na_values)
        objects, root_name = load_objects(path)
        return map_objects(objects, mapping, na_values, source=path.name, root_name=root_name)
