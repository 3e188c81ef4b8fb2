"""A form generated from a servable's input and parameter schemas (ArgSpec blocks).

One widget per type: numbers (their units in the label), integers, text, checkboxes,
dropdowns for values given as choices (``Literal[...]``, enums), text with a file picker
for text files (``format``, such as XYZ), arrays as JSON or from a ``.npy``/``.json``/
``.csv`` file, one field per key of a ``dict`` input, and a batch of such dicts (a
``list`` of them) as the fields of one item.  The servable's example input fills the
fields at first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import ipywidgets as w
from hub.widgets.inputs import coerce, value_from_file
from hub.widgets.type_words import spec_text

_JSON_KINDS = ("ndarray", "list", "tuple", "dict", "unknown", "python object", "complex")


def _css(name: str) -> str:
    return "mh-field-" + "".join(c if c.isalnum() else "-" for c in name)


def field_for(name: str, spec: Mapping[str, Any], example: Any = None) -> w.Widget:
    """One input widget for a value of ``spec`` (``example`` or the default in it); its
    ``description`` is ``name`` (with the units)."""
    kind = spec.get("type", "unknown")
    start = example if example is not None else spec.get("default")
    tip = spec_text(spec) + (f": {spec['description']}" if spec.get("description") else "")
    label = f"{name} ({spec['units']})" if spec.get("units") else name
    style = {"description_width": "initial"}
    widget: w.Widget
    if spec.get("choices"):
        choices = list(spec["choices"])
        widget = w.Dropdown(
            options=choices, value=start if start in choices else choices[0], description=label, style=style
        )
    elif kind in ("float", "number"):
        widget = w.FloatText(value=float(start) if start is not None else 0.0, description=label, style=style)
    elif kind == "integer":
        widget = w.IntText(value=int(start) if start is not None else 0, description=label, style=style)
    elif kind == "boolean":
        widget = w.Checkbox(value=bool(start), description=label, indent=False)
    elif kind == "string" and spec.get("format"):
        widget = w.Textarea(
            value="" if start is None else str(start),
            description=label,
            placeholder=f"{spec['format']} text, or choose a file below",
            style=style,
            layout=w.Layout(width="min(560px, 100%)", height="140px"),
        )
    elif kind in ("string", "file"):
        widget = w.Text(
            value="" if start is None else str(start),
            description=label,
            placeholder="a path or URL" if kind == "file" else "",
            style=style,
        )
    else:
        widget = w.Textarea(
            value="" if start is None else json.dumps(start),
            description=label,
            placeholder=f"JSON: {spec_text(spec)}",
            style=style,
            layout=w.Layout(width="min(560px, 100%)", height="60px"),
        )
    widget.tooltip = tip
    widget.add_class(_css(name))
    return widget


def picker_for(name: str, spec: Mapping[str, Any], field: w.Widget) -> w.FileUpload | None:
    """A file picker that fills ``field`` (text files for a text ``format``; arrays from
    ``.npy``/``.json``/``.csv``), or None when ``spec`` takes no file."""
    kind = spec.get("type")
    if kind == "string" and spec.get("format"):
        accept, what = f".{spec['format']},.txt", f"{spec['format']} file"
    elif kind == "ndarray":
        accept, what = ".npy,.npz,.json,.csv,.tsv", "array file"
    else:
        return None
    picker = w.FileUpload(accept=accept, multiple=False, description=f"{what} for {name}")
    picker.add_class(_css(name) + "-file")

    def fill(_change: Any) -> None:
        files = list(picker.value)
        if not files:
            return
        f = files[0]
        content = bytes(f["content"])
        if kind == "string":
            field.value = content.decode("utf-8")
        else:
            field.value = json.dumps(coerce(value_from_file(f["name"], content, spec), spec).tolist())

    picker.observe(fill, names="value")
    return picker


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
    """:meth:`values` returns ``(inputs, parameters)`` built from the fields.

    Parameters
    ----------
    input_spec, parameters
        The method's input and parameter schemas (ArgSpec blocks).
    example
        An example input (the servable's first); the fields start from it.
    """

    def __init__(
        self,
        input_spec: Mapping[str, Any],
        parameters: Mapping[str, Mapping[str, Any]],
        example: Any = None,
    ) -> None:
        self.input_spec = dict(input_spec)
        self.parameter_specs = {k: dict(v) for k, v in parameters.items()}
        item = self.input_spec.get("item_type") or {}
        #: A list of dicts: the form is one item's fields; the input is ``[item]``.
        self.batch_of_one = self.input_spec.get("type") == "list" and bool(item.get("properties"))
        shape_spec = item if self.batch_of_one else self.input_spec
        props = shape_spec.get("properties") if shape_spec.get("type") == "dict" else None
        self.keyed = isinstance(props, Mapping) and bool(props)
        start = example[0] if self.batch_of_one and isinstance(example, list) and example else example
        self.field_specs: dict[str, dict[str, Any]] = (
            {k: dict(v) for k, v in props.items()} if self.keyed and props else {"input": self.input_spec}
        )
        self.input_fields = {
            k: field_for(k, v, start.get(k) if self.keyed and isinstance(start, Mapping) else start)
            for k, v in self.field_specs.items()
        }
        self.pickers = {
            k: p
            for k, p in ((k, picker_for(k, self.field_specs[k], f)) for k, f in self.input_fields.items())
            if p is not None
        }
        self.parameter_fields = {k: field_for(k, v) for k, v in self.parameter_specs.items()}
        head = "<b>Input</b>" + (" (one item of the batch)" if self.batch_of_one else "")
        if example is not None:
            head += " <span style='color:#1a7f37;font-size:12px'>filled with the servable's example</span>"
        parts: list[w.Widget] = [w.HTML(head)]
        for k, f in self.input_fields.items():
            parts.append(f)
            if k in self.pickers:
                parts.append(self.pickers[k])
        if self.parameter_fields:
            parts += [w.HTML("<b>Parameters</b>"), *self.parameter_fields.values()]
        super().__init__(parts)
        self.add_class("mh-schema-form")

    def inputs(self) -> Any:
        if self.keyed:
            item = {k: read_field(f, self.field_specs[k], k) for k, f in self.input_fields.items()}
            return [item] if self.batch_of_one else item
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
