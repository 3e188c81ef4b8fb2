"""Whether one step's output fits the next step's input, in schema terms (:class:`ArgSpec`).

:func:`fits` compares two schemas without any value: types (an integer fits a float,
a list or tuple fits an ndarray, a string fits a file), ndarray shapes (``None`` is any
size on either side), item types, tuple elements and dict keys (a required key the
output lacks, or a key the input does not take, is a misfit).  ``unknown`` and
``python object`` accept anything and are accepted anywhere: what cannot be decided
from the schemas is left to the check every step's input gets when it runs.
Nullability is also left to that check.
"""

from __future__ import annotations

from typing import NamedTuple

from hub.exceptions import ValidationError
from hub.pipelines.steps import SOURCES, PipelineBlock
from hub.servables.schema import ArgSpec

#: Types that say nothing about the values.
ANY = ("unknown", "python object")
#: For each input type, the output types whose values its check accepts.
ACCEPTS: dict[str, frozenset[str]] = {
    "string": frozenset({"string"}),
    "integer": frozenset({"integer"}),
    "float": frozenset({"float", "number", "integer"}),
    "number": frozenset({"float", "number", "integer"}),
    "complex": frozenset({"complex", "float", "number", "integer"}),
    "boolean": frozenset({"boolean"}),
    "file": frozenset({"file", "string"}),
    "ndarray": frozenset({"ndarray", "list", "tuple"}),
    "list": frozenset({"list", "tuple", "ndarray"}),
    "tuple": frozenset({"tuple", "list", "ndarray"}),
    "dict": frozenset({"dict"}),
}


class Misfit(NamedTuple):
    """Where an output does not fit an input: the field, what one gives, what the other expects."""

    field: str
    gives: str
    expects: str


def fits(output: ArgSpec, input: ArgSpec, field: str = "input") -> Misfit | None:
    """None when every value ``output`` describes may fit ``input``, else the first misfit.

    Parameters
    ----------
    output
        What a step gives.
    input
        What the next step takes.
    field
        The name of the value compared (paths below it: ``input.x``, ``input[]``, ``input[1]``).
    """
    if input.type in ANY or output.type in ANY:
        return None
    if output.type not in ACCEPTS.get(input.type, frozenset()):
        return Misfit(field, output.describe(), input.describe())
    if input.type == "ndarray":
        return _ndarray(output, input, field)
    if input.type == "list" and input.item_type is not None and output.type == "list":
        return fits(output.item_type or ArgSpec(), input.item_type, f"{field}[]")
    if input.type == "tuple" and output.type == "tuple":
        return _tuple(output, input, field)
    if input.type == "dict":
        return _dict(output, input, field)
    return None


def _item(spec: ArgSpec) -> ArgSpec:
    return spec.item_type or ArgSpec()


def _ndarray(output: ArgSpec, input: ArgSpec, field: str) -> Misfit | None:
    if output.type == "ndarray" and output.shape is not None and input.shape is not None:
        wrong_dims = len(output.shape) != len(input.shape)
        if wrong_dims or any(
            a is not None and b is not None and a != b for a, b in zip(output.shape, input.shape)
        ):
            return Misfit(field, output.describe(), input.describe())
    scalar_items = output.type == "ndarray" or (
        output.type == "list" and _item(output).type not in ("list", "tuple", "ndarray")
    )
    if scalar_items:
        item = fits(_item(output), _item(input), f"{field}[]")
        if item is not None:
            return Misfit(field, output.describe(), input.describe())
    return None


def _tuple(output: ArgSpec, input: ArgSpec, field: str) -> Misfit | None:
    given, wanted = output.element_types or [], input.element_types or []
    if len(given) != len(wanted):
        return Misfit(field, output.describe(), input.describe())
    for i, (g, w) in enumerate(zip(given, wanted)):
        inner = fits(g, w, f"{field}[{i}]")
        if inner is not None:
            return inner
    return None


def _dict(output: ArgSpec, input: ArgSpec, field: str) -> Misfit | None:
    if input.properties is None or output.properties is None:
        return None
    given = output.properties
    for key in input.required_keys():
        if key not in given:
            return Misfit(
                f"{field}.{key}", f"no key {key!r} ({output.describe()})", input.properties[key].describe()
            )
    for key, spec in given.items():
        if key not in input.properties:
            return Misfit(f"{field}.{key}", spec.describe(), f"no key {key!r} ({input.describe()})")
        inner = fits(spec, input.properties[key], f"{field}.{key}")
        if inner is not None:
            return inner
    return None


def check_chain(block: PipelineBlock) -> None:
    """Check that every step's output fits the next step's input, and that sources come first.

    Raises
    ------
    ValidationError
        Naming the two steps, the field, what the one gives and what the other expects
        (``errors`` holds the same as a record).
    """
    steps, labels = block.steps, block.labels()
    if not steps:
        raise ValidationError("a pipeline needs at least one step")
    for label, step in zip(labels[1:], steps[1:]):
        if step.kind in SOURCES:
            raise ValidationError(f"{label} is a data source: a source can only be the first step")
    for i in range(1, len(steps)):
        misfit = fits(steps[i - 1].output, steps[i].input)
        if misfit is not None:
            giver, taker = labels[i - 1], labels[i]
            raise ValidationError(
                f"{giver} gives {misfit.gives} but {taker} expects {misfit.expects} (field {misfit.field!r})",
                errors=[
                    {
                        "from": giver,
                        "to": taker,
                        "field": misfit.field,
                        "gives": misfit.gives,
                        "expects": misfit.expects,
                    }
                ],
            )
