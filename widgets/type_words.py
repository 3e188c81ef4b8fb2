"""A servable's argument types in words, for people: ``array (n by 32 by 32 by 1) of float32``
(written with multiplication signs),
``list of {xyz: text (xyz, Å), u0: number (Hartree)}``, ``one of direct | indirect | auto``.

Used by the ipywidgets panels and by the JupyterLab panel's server (which has no ipywidgets).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Between the sizes of an array's dimensions.
TIMES = "\N{MULTIPLICATION SIGN}"
_SCALAR_WORDS = {
    "string": "text",
    "integer": "integer",
    "float": "number",
    "number": "number",
    "boolean": "yes/no",
    "complex": "complex number",
    "file": "file",
    "unknown": "any value",
}


def spec_text(spec: Mapping[str, Any]) -> str:
    """The type in words.

    ``array (n by 32 by 32 by 1) of float32`` (written with :data:`TIMES`),
    ``list of {xyz: text (xyz, Å), u0: number (Hartree)}``, ``one of a | b``.
    """
    kind = str(spec.get("type", "unknown"))
    if spec.get("choices"):
        words = "one of " + " | ".join(map(str, spec["choices"]))
    elif kind == "ndarray":
        item = spec.get("dtype") or (spec.get("item_type") or {}).get("type")
        shape = spec.get("shape")
        dims = f" ({f' {TIMES} '.join('n' if d is None else str(d) for d in shape)})" if shape else ""
        words = f"array{dims}" + (f" of {item}" if item and item != "unknown" else "")
    elif kind in ("list", "tuple") and spec.get("item_type"):
        words = f"{kind} of {spec_text(spec['item_type'])}"
    elif kind == "tuple" and spec.get("element_types"):
        words = "(" + ", ".join(spec_text(e) for e in spec["element_types"]) + ")"
    elif kind == "dict" and spec.get("properties"):
        words = "{" + ", ".join(f"{k}: {spec_text(v)}" for k, v in spec["properties"].items()) + "}"
    elif kind == "python object":
        words = str(spec.get("python_type") or "Python object")
    else:
        words = _SCALAR_WORDS.get(kind, kind)
    notes = [str(spec[k]) for k in ("format", "units") if spec.get(k)]
    return words + (f" ({', '.join(notes)})" if notes else "")


def schema_rows(method: Mapping[str, Any]) -> list[dict[str, str]]:
    """A method block (input, output, parameters) as rows a form shows: name, type in words,
    units and description; a dict input (or a batch of dicts) has one row per key."""
    rows = []
    spec = dict(method.get("input") or {})
    item = spec.get("item_type") or {}
    props = (item if spec.get("type") == "list" else spec).get("properties") or {}
    inputs = [(f"input.{k}", v) for k, v in props.items()] or [("input", spec)]
    for name, s in [*inputs, ("output", dict(method.get("output") or {}))]:
        rows.append(_row(name, s))
    rows += [_row(f"parameter {k}", v) for k, v in (method.get("parameters") or {}).items()]
    return rows


def _row(name: str, spec: Mapping[str, Any]) -> dict[str, str]:
    default = spec.get("default")
    return {
        "name": name,
        "type": spec_text(spec),
        "units": str(spec.get("units") or ""),
        "description": str(spec.get("description") or "")
        + (f" (default {default!r})" if default is not None else ""),
    }
