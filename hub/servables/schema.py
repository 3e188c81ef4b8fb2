"""The typed argument schema of a servable's inputs, outputs and parameters.

An :class:`ArgSpec` uses DLHub's type vocabulary (``ndarray`` with ``shape`` and
``item_type``, ``list``, ``tuple``, ``dict``, ``string``, ``integer``,
``float``, ``number``, ``boolean``, ``file``, ``python object``), so DLHub
documents import as they are; :meth:`ArgSpec.json_schema` exports it as JSON
Schema (2020-12) for REST clients and forms.

:meth:`ArgSpec.check` validates (and, where lossless, coerces: a nested list
becomes an ndarray) a value before anything runs.  A mismatch raises
:class:`~hub.exceptions.InputValidationError` naming the input, the expected
type and shape, and what was given::

    input 'x': expected an ndarray of shape (None, 4) with float items
    (None: any size); got an ndarray of shape (3, 5) with float64 items
"""

from __future__ import annotations

import enum
import inspect
import os
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from hub.exceptions import InputValidationError

ArgType = Literal[
    "ndarray",
    "list",
    "tuple",
    "dict",
    "string",
    "integer",
    "float",
    "number",
    "complex",
    "boolean",
    "file",
    "python object",
    "unknown",
]

#: numpy dtype kinds accepted for each item type of an ndarray.
_KINDS: dict[str, str] = {
    "float": "fiu",
    "number": "fiu",
    "integer": "iu",
    "complex": "cfiu",
    "boolean": "b",
    "string": "USO",
}
#: Item type of a numpy dtype kind.
_ITEM_OF_KIND = {"f": "float", "i": "integer", "u": "integer", "b": "boolean", "c": "complex", "U": "string"}
#: DLHub and free-text type names, and ours.
_ALIASES = {
    "str": "string",
    "int": "integer",
    "bool": "boolean",
    "double": "float",
    "object": "python object",
    "array": "ndarray",
    "numpy array": "ndarray",
}


class ArgSpec(BaseModel):
    """The type of one input, output or parameter.

    Parameters
    ----------
    type
        One of DLHub's argument types (see :data:`ArgType`).
    description
        What the argument means, for people.
    shape
        ``ndarray``: the size of each dimension, ``None`` for any size.
    item_type
        ``ndarray`` and ``list``: the type of the items.
    dtype
        ``ndarray``: the numpy dtype nested lists are converted to (``float32``).
    element_types
        ``tuple``: the type of each element.
    properties
        ``dict``: the type of each key; ``required`` names the keys that must
        be given (default: all).
    python_type
        ``python object``: the Python class expected, for people.
    units, format
        Physical units; a file's format (for a ``string``: the text's format, such as
        ``xyz``, so forms offer a file picker for it).
    choices
        The only values accepted (from ``Literal[...]`` or an ``enum.Enum`` at describe
        time); forms show them as a dropdown.
    default
        For parameters: the value used when the caller gives none.
    nullable
        Whether ``None`` is accepted too.
    """

    model_config = ConfigDict(extra="allow")

    type: ArgType = "unknown"
    description: str = ""
    shape: list[int | None] | None = None
    item_type: ArgSpec | None = None
    dtype: str | None = None
    element_types: list[ArgSpec] | None = None
    properties: dict[str, ArgSpec] | None = None
    required: list[str] | None = None
    python_type: str | None = None
    units: str | None = None
    format: str | None = None
    choices: list[str | int | float | bool] | None = None
    default: Any = None
    nullable: bool = False

    # -- constructors ---------------------------------------------------------------

    @classmethod
    def ndarray(
        cls,
        shape: Sequence[int | None] | None = None,
        item_type: str | ArgSpec = "float",
        *,
        dtype: str | None = None,
        description: str = "",
        **extra: Any,
    ) -> ArgSpec:
        """An ndarray of ``shape`` (None: any size in that dimension)."""
        item = item_type if isinstance(item_type, ArgSpec) else cls(type=_type_name(item_type))
        return cls(
            type="ndarray",
            shape=list(shape) if shape is not None else None,
            item_type=item,
            dtype=dtype,
            description=description,
            **extra,
        )

    @classmethod
    def list_of(cls, item_type: str | ArgSpec = "unknown", *, description: str = "", **extra: Any) -> ArgSpec:
        """A list whose items are ``item_type`` (a type name or a spec); ``extra`` sets other fields.

        Raises
        ------
        ValueError
            When ``item_type`` names no known argument type.
        """
        item = item_type if isinstance(item_type, ArgSpec) else cls(type=_type_name(item_type))
        return cls(type="list", item_type=item, description=description, **extra)

    @classmethod
    def dict_of(
        cls,
        properties: Mapping[str, str | ArgSpec],
        *,
        required: Sequence[str] | None = None,
        description: str = "",
        **extra: Any,
    ) -> ArgSpec:
        """A dict with the keys of ``properties`` (each a type name or a spec).

        ``required`` lists the keys that must be given (None: those without a default
        that are not nullable, see :meth:`required_keys`); ``extra`` sets other fields.

        Raises
        ------
        ValueError
            When a property names no known argument type.
        """
        props = {k: v if isinstance(v, ArgSpec) else cls(type=_type_name(v)) for k, v in properties.items()}
        return cls(
            type="dict",
            properties=props,
            required=list(required) if required is not None else None,
            description=description,
            **extra,
        )

    @classmethod
    def scalar(cls, type: str, *, description: str = "", **extra: Any) -> ArgSpec:
        """A single value of ``type`` (``integer``, ``float``, ``string``, ... or an alias).

        ``extra`` sets other fields (``default``, ``units``, ``nullable``).

        Raises
        ------
        ValueError
            When ``type`` names no known argument type.
        """
        return cls(type=_type_name(type), description=description, **extra)

    @classmethod
    def from_dlhub(cls, block: Mapping[str, Any]) -> ArgSpec:
        """An ArgSpec from a DLHub argument block (tolerates free-text types such as "XYZ file")."""
        data = dict(block)
        raw = str(data.pop("type", "unknown"))
        name = _type_name(raw, strict=False)
        if name == "file" and raw.strip().lower() != "file":
            data.setdefault("format", raw.strip()[: -len("file")].strip() or None)
        elif name == "python object" and raw.strip().lower() not in ("python object", "object", "unknown"):
            data.setdefault("python_type", raw)
        for key in ("item_type",):
            if isinstance(data.get(key), Mapping):
                data[key] = cls.from_dlhub(data[key])
        if isinstance(data.get("element_types"), list):
            data["element_types"] = [cls.from_dlhub(e) for e in data["element_types"]]
        if isinstance(data.get("properties"), Mapping):
            data["properties"] = {k: cls.from_dlhub(v) for k, v in data["properties"].items()}
        return cls(type=name, **data)

    # -- export ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The DLHub-style block (no empty fields)."""
        out = self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        out["type"] = self.type
        return out

    def json_schema(self) -> dict[str, Any]:
        """The argument as a JSON Schema (draft 2020-12) fragment."""
        out = self._json_schema()
        if self.description:
            out["description"] = self.description
        if self.units:
            out["x-units"] = self.units
        if self.default is not None:
            out["default"] = self.default
        if self.choices is not None:
            out["enum"] = list(self.choices)
        if self.nullable:
            out = {"anyOf": [out, {"type": "null"}]}
        return out

    def _json_schema(self) -> dict[str, Any]:
        t = self.type
        if t == "ndarray":
            leaf = self.item_type.json_schema() if self.item_type else {}
            if self.shape is None:
                return {"type": "array", "x-ndarray": {"shape": None, "dtype": self.dtype}, "items": {}}
            schema: dict[str, Any] = leaf
            for dim in reversed(self.shape):
                schema = {"type": "array", "items": schema}
                if dim is not None:
                    schema["minItems"] = schema["maxItems"] = dim
            if not self.shape:  # a 0-d array is its item
                schema = dict(leaf)
            schema["x-ndarray"] = {"shape": self.shape, "dtype": self.dtype}
            return schema
        if t == "list":
            return {"type": "array", "items": self.item_type.json_schema() if self.item_type else {}}
        if t == "tuple":
            elems = [e.json_schema() for e in self.element_types or []]
            return {"type": "array", "prefixItems": elems, "minItems": len(elems), "maxItems": len(elems)}
        if t == "dict":
            if self.properties is None:
                return {"type": "object"}
            return {
                "type": "object",
                "properties": {k: v.json_schema() for k, v in self.properties.items()},
                "required": self.required_keys(),
                "additionalProperties": False,
            }
        simple: dict[str, dict[str, Any]] = {
            "string": {"type": "string"},
            "integer": {"type": "integer"},
            "float": {"type": "number"},
            "number": {"type": "number"},
            "boolean": {"type": "boolean"},
            "complex": {"type": "array", "prefixItems": [{"type": "number"}] * 2, "x-complex": True},
            "file": {
                "type": "string",
                "format": "uri-reference",
                "contentMediaType": "application/octet-stream",
            },
        }
        if t in simple:
            return dict(simple[t])
        return {"x-python-type": self.python_type} if self.python_type else {}

    # -- people ---------------------------------------------------------------------

    def describe(self) -> str:
        """The type as people say it: ``an ndarray of shape (None, 4) with float items``."""
        t = self.type
        if t == "ndarray":
            text = "an ndarray"
            if self.shape is not None:
                text += f" of shape {_shape_text(self.shape)}"
            if self.item_type and self.item_type.type not in ("unknown", "python object"):
                text += f" with {self.dtype or self.item_type.type} items"
            if self.shape and None in self.shape:
                text += " (None: any size)"
            return text
        if t == "list":
            inner = self.item_type.describe() if self.item_type and self.item_type.type != "unknown" else ""
            return "a list" + (f" of {inner}" if inner else "")
        if t == "tuple":
            return f"a tuple of {len(self.element_types or [])} ({', '.join(e.describe() for e in self.element_types or [])})"
        if t == "dict":
            if self.properties is None:
                return "a dict"
            return f"a dict with keys {', '.join(self.properties)}"
        if t == "python object":
            return f"a {self.python_type}" if self.python_type else "any Python object"
        if t == "file":
            return "a file (a path, URL or bytes)"
        if t == "unknown":
            return "any value"
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        return {"integer": "an integer", "float": "a float", "number": "a number"}.get(t, f"a {t}")

    def required_keys(self) -> list[str]:
        """The keys a dict input must have.

        ``required`` when set, else the properties without a default that are not nullable.
        """
        if self.required is not None:
            return list(self.required)
        return [k for k, v in (self.properties or {}).items() if v.default is None and not v.nullable]

    # -- validation -----------------------------------------------------------------

    def check(self, value: Any, name: str = "input") -> Any:
        """``value`` validated against this spec (lists become ndarrays where one is expected).

        Raises
        ------
        InputValidationError
            Naming ``name`` (or the path inside it), what was expected and what was given.
        """
        if value is None and (self.nullable or self.type in ("unknown", "python object")):
            return value
        checker = _CHECKERS.get(self.type)
        checked = checker(self, value, name) if checker else value
        if self.choices is not None and checked not in self.choices:
            raise self.fail(name, value)
        return checked

    def fail(self, name: str, value: Any, why: str = "") -> InputValidationError:
        """The error (returned, not raised) for ``value`` not fitting this spec.

        Its message names ``name``, what was expected and what was given, plus ``why``
        when given; its ``errors`` hold the same as a record.
        """
        expected = self.describe()
        given = given_text(value)
        label = "the input" if name == "input" else f"input {name!r}"
        message = f"{label}: expected {expected}; got {given}" + (f" ({why})" if why else "")
        return InputValidationError(message, errors=[{"input": name, "expected": expected, "given": given}])


def _shape_text(shape: Sequence[int | None]) -> str:
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def given_text(value: Any) -> str:
    """What a value is, for an error message."""
    if isinstance(value, np.ndarray):
        return f"an ndarray of shape {_shape_text(value.shape)} with {value.dtype} items"
    if isinstance(value, bool):
        return f"a boolean {value}"
    if isinstance(value, int | np.integer):
        return f"an integer {value}"
    if isinstance(value, float | np.floating):
        return f"a float {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string {shown!r}"
    if isinstance(value, list | tuple):
        kind = "list" if isinstance(value, list) else "tuple"
        try:
            arr = np.asarray(value)
            if arr.dtype != object and arr.ndim > 1:
                return f"a nested {kind} of shape {_shape_text(arr.shape)} with {arr.dtype} items"
        except (ValueError, TypeError):
            pass
        return f"a {kind} of {len(value)} items"
    if isinstance(value, Mapping):
        keys = ", ".join(map(str, list(value)[:8])) + (", ..." if len(value) > 8 else "")
        return f"a dict with keys {keys}" if value else "an empty dict"
    if value is None:
        return "None"
    return f"a {type(value).__module__}.{type(value).__qualname__}"


def _type_name(name: str, strict: bool = True) -> str:
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key in typing.get_args(ArgType):
        return key
    if "file" in key:
        return "file"
    if strict:
        raise ValueError(f"unknown argument type {name!r}; use one of {', '.join(typing.get_args(ArgType))}")
    return "python object"


# -- checkers ----------------------------------------------------------------------


def _check_ndarray(spec: ArgSpec, value: Any, name: str) -> Any:
    arr = value
    item = spec.item_type.type if spec.item_type else None
    if not isinstance(value, np.ndarray):
        if isinstance(value, str | bytes | Mapping) or value is None:
            raise spec.fail(name, value)
        try:
            if hasattr(value, "to_numpy"):
                arr = value.to_numpy()
            else:
                dtype = spec.dtype or ("float64" if item in ("float", "number") else None)
                arr = np.asarray(value, dtype=dtype)
        except (ValueError, TypeError) as exc:
            raise spec.fail(name, value, f"it is not a rectangular array: {exc}") from None
    if spec.shape is not None and (
        arr.ndim != len(spec.shape)
        or any(want is not None and want != got for want, got in zip(spec.shape, arr.shape))
    ):
        raise spec.fail(name, arr)
    if item in _KINDS and arr.dtype.kind not in _KINDS[item]:
        raise spec.fail(name, arr)
    return arr


def _check_list(spec: ArgSpec, value: Any, name: str) -> Any:
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        value = list(value)
    if not isinstance(value, list | tuple):
        raise spec.fail(name, value)
    if spec.item_type is None or spec.item_type.type == "unknown":
        return list(value)
    return [spec.item_type.check(v, f"{name}[{i}]") for i, v in enumerate(value)]


def _check_tuple(spec: ArgSpec, value: Any, name: str) -> Any:
    elems = spec.element_types or []
    if not isinstance(value, list | tuple) or len(value) != len(elems):
        raise spec.fail(name, value)
    return tuple(e.check(v, f"{name}[{i}]") for i, (e, v) in enumerate(zip(elems, value)))


def _check_dict(spec: ArgSpec, value: Any, name: str) -> Any:
    if not isinstance(value, Mapping):
        raise spec.fail(name, value)
    if spec.properties is None:
        return dict(value)
    missing = [k for k in spec.required_keys() if k not in value]
    unknown = [k for k in value if k not in spec.properties]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(map(repr, missing))}")
        if unknown:
            parts.append(f"unexpected {', '.join(map(repr, unknown))}")
        raise spec.fail(name, value, "; ".join(parts))
    return {k: spec.properties[k].check(v, k if name == "input" else f"{name}.{k}") for k, v in value.items()}


def _check_string(spec: ArgSpec, value: Any, name: str) -> Any:
    if isinstance(value, np.str_):
        return str(value)
    if not isinstance(value, str):
        raise spec.fail(name, value)
    return value


def _check_integer(spec: ArgSpec, value: Any, name: str) -> Any:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise spec.fail(name, value)
    return int(value)


def _check_float(spec: ArgSpec, value: Any, name: str) -> Any:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        raise spec.fail(name, value)
    return float(value) if spec.type == "float" else value


def _check_complex(spec: ArgSpec, value: Any, name: str) -> Any:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | complex | np.number):
        raise spec.fail(name, value)
    return complex(value)


def _check_boolean(spec: ArgSpec, value: Any, name: str) -> Any:
    if not isinstance(value, bool | np.bool_):
        raise spec.fail(name, value)
    return bool(value)


def _check_file(spec: ArgSpec, value: Any, name: str) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str | os.PathLike):
        text = os.fspath(value)
        if "://" in text or os.path.exists(text):
            return text
        raise spec.fail(name, value, "no such file")
    raise spec.fail(name, value)


_CHECKERS: dict[str, Callable[[ArgSpec, Any, str], Any]] = {
    "ndarray": _check_ndarray,
    "list": _check_list,
    "tuple": _check_tuple,
    "dict": _check_dict,
    "string": _check_string,
    "integer": _check_integer,
    "float": _check_float,
    "number": _check_float,
    "complex": _check_complex,
    "boolean": _check_boolean,
    "file": _check_file,
}


def check_parameters(specs: Mapping[str, ArgSpec], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keyword parameters validated against ``specs``; unknown names are an error listing the known ones."""
    given = dict(given or {})
    unknown = [k for k in given if k not in specs]
    if unknown:
        allowed = ", ".join(specs) or "none"
        raise InputValidationError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))}; this servable takes: {allowed}",
            errors=[
                {"input": k, "expected": f"one of: {allowed}", "given": given_text(given[k])} for k in unknown
            ],
        )
    return {k: specs[k].check(v, k) for k, v in given.items()}


# -- from Python type hints -----------------------------------------------------------


def from_annotation(hint: Any, description: str = "") -> ArgSpec:
    """An ArgSpec from a type hint.

    ``np.ndarray``, ``numpy.typing.NDArray[np.float32]``, ``list[float]``,
    ``tuple[int, str]``, ``dict[str, float]``, ``str``, ``int``, ``float``,
    ``bool``, ``pathlib.Path`` (a file), ``X | None``; ``Annotated[T, ...]``
    adds a shape (a tuple such as ``(None, 3)``), an ArgSpec (used as is) or a
    description (a string).
    """
    if hint is inspect.Parameter.empty or hint is Any or hint is None:
        return ArgSpec(type="unknown", description=description)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Literal:
        return _choices_spec(list(args), description)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _choices_spec([m.value for m in hint], description)
    if origin is typing.Annotated:
        base, *meta = args
        spec = from_annotation(base, description)
        for m in meta:
            if isinstance(m, ArgSpec):
                spec = m.model_copy(update={"description": m.description or spec.description})
            elif isinstance(m, tuple) and all(d is None or isinstance(d, int) for d in m):
                spec = spec.model_copy(update={"shape": list(m)})
            elif isinstance(m, str):
                spec = spec.model_copy(update={"description": m})
            elif isinstance(m, np.dtype) or (isinstance(m, type) and issubclass(m, np.generic)):
                dt = np.dtype(m)
                spec = spec.model_copy(
                    update={
                        "dtype": dt.name,
                        "item_type": ArgSpec(type=_ITEM_OF_KIND.get(dt.kind, "unknown")),
                    }
                )
        return spec
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return from_annotation(rest[0], description).model_copy(
                update={"nullable": len(rest) < len(args)}
            )
        return ArgSpec(
            type="python object", python_type=" | ".join(map(_hint_name, args)), description=description
        )
    if hint is np.ndarray or origin is np.ndarray:
        item, dtype = "unknown", None
        if origin is np.ndarray and len(args) == 2:
            dt_args = typing.get_args(args[1])
            if dt_args and isinstance(dt_args[0], type) and issubclass(dt_args[0], np.generic):
                dt = np.dtype(dt_args[0])
                item, dtype = _ITEM_OF_KIND.get(dt.kind, "unknown"), dt.name
        return ArgSpec.ndarray(None, item, dtype=dtype, description=description)
    if origin in (list, Sequence) or hint in (list, Sequence):
        return ArgSpec.list_of(from_annotation(args[0]) if args else ArgSpec(), description=description)
    if origin is tuple or hint is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return ArgSpec.list_of(from_annotation(args[0]), description=description)
        return ArgSpec(
            type="tuple", element_types=[from_annotation(a) for a in args], description=description
        )
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        return ArgSpec(type="dict", description=description)
    if isinstance(hint, type):
        if issubclass(hint, bool):
            return ArgSpec(type="boolean", description=description)
        if issubclass(hint, int):
            return ArgSpec(type="integer", description=description)
        if issubclass(hint, float):
            return ArgSpec(type="float", description=description)
        if issubclass(hint, complex):
            return ArgSpec(type="complex", description=description)
        if issubclass(hint, str):
            return ArgSpec(type="string", description=description)
        if issubclass(hint, os.PathLike | bytes):
            return ArgSpec(type="file", description=description)
    return ArgSpec(type="python object", python_type=_hint_name(hint), description=description)


def _choices_spec(values: list[Any], description: str) -> ArgSpec:
    """A spec accepting only ``values`` (of one scalar type: ``Literal["a", "b"]``, an Enum's values)."""
    kinds = {_scalar_type(v) for v in values}
    kind = kinds.pop() if len(kinds) == 1 else "unknown"
    return ArgSpec(type=typing.cast(ArgType, kind), choices=values, description=description)


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    return "string" if isinstance(value, str) else "unknown"


def _hint_name(hint: Any) -> str:
    if isinstance(hint, type):
        return (
            hint.__qualname__ if hint.__module__ == "builtins" else f"{hint.__module__}.{hint.__qualname__}"
        )
    return str(hint).replace("typing.", "")


_SECTION = re.compile(r"^\s*(Parameters|Returns|Yields|Raises|Notes|Examples|See Also|Other Parameters)\s*$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str], str]:
    """(summary, {parameter: description}, returns description) of a numpy-style docstring."""
    if not doc:
        return "", {}, ""
    lines = inspect.cleandoc(doc).splitlines()
    summary_lines: list[str] = []
    params: dict[str, str] = {}
    returns: list[str] = []
    section = "summary"
    current: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _SECTION.match(line)
        if m and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
            section, current = m.group(1), None
            i += 2
            continue
        if section == "summary":
            summary_lines.append(line)
        elif section in ("Parameters", "Other Parameters"):
            if line and not line[0].isspace():
                names = line.split(":", 1)[0]
                current = names.strip()
                for n in current.split(","):
                    params.setdefault(n.strip(), "")
            elif current and line.strip():
                for n in current.split(","):
                    params[n.strip()] = (params[n.strip()] + " " + line.strip()).strip()
        elif section == "Returns" and line.strip() and line[0].isspace():
            returns.append(line.strip())
        i += 1
    summary = " ".join(" ".join(summary_lines).split())
    return summary, params, " ".join(returns)
