"""The code the panel's "Insert code" buttons put into a notebook: what a user would write.

Every snippet opens the hub the way the panel's server does (``hub_expr``, from
:meth:`~hub.widgets.jupyterlab.settings.HubSettings.hub_expression`) and then uses only the
public API: the Intake catalog of a dataset, ``hub.record``, ``hub.search``, ``hub.run``.
Values are written as Python literals (strings double-quoted, JSON values as Python ones), so
any name or query is quoted safely.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Mapping, Sequence
from typing import Any

#: Entries of a dataset catalog that are record groups (read into a DataFrame).
RECORD_GROUPS = ("structures", "images", "tables", "arrays")


def _header(hub_expr: str) -> list[str]:
    return ["from hub import Hub", "", f"hub = {hub_expr}"]


def variable_for(entry: str | None, group: bool) -> str:
    """A readable variable name for what an entry reads into (``df`` for record groups)."""
    if entry is None:
        return "cat"
    if group:
        return "df"
    stem = re.sub(r"\W+", "_", entry.rsplit("/", 1)[-1].split(".", 1)[0]).strip("_").lower()
    if not stem or stem[0].isdigit() or keyword.iskeyword(stem) or stem in {"hub", "cat", "Hub"}:
        return "data"
    return stem


def dataset_snippet(hub_expr: str, source_id: str, entry: str | None = None, *, group: bool = True) -> str:
    """Load a dataset through its Intake catalog and read one entry (a record group or a file).

    >>> print(dataset_snippet("Hub()", "crystals_v1", "structures"))
    from hub import Hub
    <BLANKLINE>
    hub = Hub()
    cat = hub.catalog()["crystals_v1"].read()
    df = cat["structures"].read()
    df
    """
    lines = [*_header(hub_expr), f"cat = hub.catalog()[{py_str(source_id)}].read()"]
    if entry is None:
        lines.append("list(cat)")
    else:
        var = variable_for(entry, group)
        lines += [f"{var} = cat[{py_str(entry)}].read()", var]
    return "\n".join(lines)


def record_snippet(hub_expr: str, record_id: str) -> str:
    """Fetch one record (a dict of its MDF blocks)."""
    return "\n".join([*_header(hub_expr), f"record = hub.record({py_str(record_id)})", "record"])


def search_snippet(
    hub_expr: str,
    query: str,
    filters: Mapping[str, Sequence[Any]] | None = None,
    limit: int = 10,
) -> str:
    """Run the panel's search and show its hits as a DataFrame."""
    args = [py_str(query or "*")]
    if filters:
        args.append(f"filters={_literal(dict(filters))}")
    if limit != 10:
        args.append(f"limit={int(limit)}")
    return "\n".join([*_header(hub_expr), f"res = hub.search({', '.join(args)})", "res.to_dataframe()"])


def servable_snippet(
    hub_expr: str, name: str, inputs: Any, parameters: Mapping[str, Any] | None = None
) -> str:
    """Call a servable on ``inputs`` (and ``parameters``), synchronously."""
    call = f"hub.run({py_str(name)}, inputs"
    lines = [*_header(hub_expr), f"inputs = {_literal(inputs)}"]
    if parameters:
        lines.append(f"parameters = {_literal(dict(parameters))}")
        call += ", parameters=parameters"
    lines += [f"out = {call})", "out"]
    return "\n".join(lines)


def py_str(text: str) -> str:
    """A double-quoted Python string literal (a JSON string is one)."""
    return json.dumps(str(text), ensure_ascii=False)


def _literal(value: Any) -> str:
    """A Python literal of a JSON value (``true`` -> ``True``), as a user would type it;
    anything that is not a JSON value is refused, so nothing executable slips into a cell."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value!r} is not a JSON number")
        return repr(value)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_str(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"{type(value).__name__} values cannot be written into a notebook cell")


def example_value(schema: Mapping[str, Any] | None) -> Any:
    """A small value that fits a JSON Schema (the inputs the panel suggests for a servable)."""
    if not isinstance(schema, Mapping) or not schema:
        return None
    if "default" in schema:
        return schema["default"]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example_value(options[0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "array":
        items = schema.get("prefixItems") or [schema.get("items") or {}]
        size = max(int(schema.get("minItems", 1)), len(items))
        return [example_value(items[min(i, len(items) - 1)]) for i in range(size)]
    if kind == "object":
        props = schema.get("properties") or {}
        required = schema.get("required") or list(props)
        return {k: example_value(props[k]) for k in required if k in props}
    return {"number": 0.0, "integer": 0, "string": "", "boolean": False}.get(str(kind))
