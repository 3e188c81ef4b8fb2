"""A form generated from a servable's input and parameter schemas (ArgSpec blocks).

Scalars get number, integer, text or checkbox fields; a ``dict`` input with named keys
gets one field per key; arrays, lists and anything else take JSON (``[[1, 2], [3, 4]]``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import ipywidgets as w
from hub.widgets.inputs import coerce

_JSON_KINDS = ("ndarray", "list", "tuple", "dict", "unknown", "python object", "complex")


def spec_text(spec: Mapping[str, Any]) -> str:
    """The type as people say it (``an ndarray of shape (None, 4) with float items``)."""
    from hub.servables.schema import ArgSpec

    try:
        return ArgSpec.model_validate(dict(spec)).describe()
    except Exception:
        return str(spec.get("type", "any value"))


def field_for(name: str, spec: Mapping[str, Any]) -> w.Widget:
    """One input widget for a value of ``spec``; its ``description`` is ``name``."""
    kind = spec.get("type", "unknown")
    default = spec.get("default")
    tip = spec_text(spec) + (f": {spec['description']}" if spec.get("description") else "")
    style = {"description_width": "initial"}
    widget: w.Widget
    if kind in ("float", "number"):
        widget = w.FloatText(
            value=float(default) if default is not None else 0.0, description=name, style=style
        )
    elif kind == "integer":
        widget = w.IntText(value=int(default) if default is not None else 0, description=name, style=style)
    elif kind == "boolean":
        widget = w.Checkbox(value=bool(default), description=name, indent=False)
    elif kind in ("string", "file"):
        widget = w.Text(
            value="" if default is None else str(default),
            description=name,
            placeholder="a path or URL" if kind == "file" else "",
            style=style,
        )
    else:
        shape = spec.get("shape")
        widget = w.Textarea(
            value="" if default is None else json.dumps(default),
            description=name,
            placeholder="JSON" + (f", shape {shape}" if shape else ""),
            style=style,
            layout=w.Layout(width="420px", height="60px"),
        )
    widget.tooltip = tip
    widget.add_class("mh-field-" + "".join(c if c.isalnum() else "-" for c in name))
    return widget


def read_field(widget: w.Widget, spec: Mapping[str, Any], name: str) -> Any:
    if isinstance(widget, w.Textarea) and spec.get("type", "unknown") in _JSON_KINDS:
        text = widget.value.strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name}: not valid JSON ({exc.msg} at character {exc.pos})") from None
        return coerce(value, spec)
    return coerce(widget.value, spec)


class SchemaForm(w.VBox):
    """:meth:`values` returns ``(inputs, parameters)`` built from the fields."""

    def __init__(self, input_spec: Mapping[str, Any], parameters: Mapping[str, Mapping[str, Any]]) -> None:
        self.input_spec = dict(input_spec)
        self.parameter_specs = {k: dict(v) for k, v in parameters.items()}
        props = self.input_spec.get("properties") if self.input_spec.get("type") == "dict" else None
        self.keyed = isinstance(props, Mapping) and bool(props)
        if self.keyed:
            self.input_fields = {k: field_for(k, v) for k, v in props.items()}
        else:
            self.input_fields = {"input": field_for("input", self.input_spec)}
        self.parameter_fields = {k: field_for(k, v) for k, v in self.parameter_specs.items()}
        parts: list[w.Widget] = [w.HTML("<b>Input</b>"), *self.input_fields.values()]
        if self.parameter_fields:
            parts += [w.HTML("<b>Parameters</b>"), *self.parameter_fields.values()]
        super().__init__(parts)
        self.add_class("mh-schema-form")

    def inputs(self) -> Any:
        if self.keyed:
            props = self.input_spec["properties"]
            return {k: read_field(f, props[k], k) for k, f in self.input_fields.items()}
        return read_field(self.input_fields["input"], self.input_spec, "input")

    def parameters(self) -> dict[str, Any]:
        out = {}
        for k, f in self.parameter_fields.items():
            v = read_field(f, self.parameter_specs[k], k)
            if v is not None:
                out[k] = v
        return out

    def values(self) -> tuple[Any, dict[str, Any]]:
        return self.inputs(), self.parameters()
