"""Validation with messages that name the field path and what was wrong."""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic

from hub.exceptions import ValidationError
from hub.records.dataset import DatasetDocument
from hub.records.record import RecordDocument

M = TypeVar("M", bound=pydantic.BaseModel)


def format_errors(exc: pydantic.ValidationError) -> list[dict[str, Any]]:
    """The errors of a pydantic ``ValidationError``, one dict each.

    Each is ``{"field": "crystal_structure.lattice", "message": ..., "got": ..., "type": ...}``:
    the dotted field path (``(document)`` for the whole), pydantic's message, the repr
    of the value given (cut at 80 characters) and pydantic's error type.
    """
    out = []
    for err in exc.errors(include_url=False):
        path = ".".join(str(p) for p in err["loc"]) or "(document)"
        got = err.get("input")
        got_text = repr(got)
        if len(got_text) > 80:
            got_text = got_text[:77] + "..."
        out.append({"field": path, "message": err["msg"], "got": got_text, "type": err["type"]})
    return out


def _summary(what: str, errors: list[dict[str, Any]]) -> str:
    lines = [f"{what} is not valid ({len(errors)} problem{'s' if len(errors) != 1 else ''}):"]
    lines += [f"  {e['field']}: {e['message']} (got {e['got']})" for e in errors[:20]]
    if len(errors) > 20:
        lines.append(f"  ... and {len(errors) - 20} more")
    return "\n".join(lines)


def validate_model(model: type[M], data: Any, what: str) -> M:
    """``data`` validated as a ``model``.

    Raises
    ------
    ValidationError
        When ``data`` is not valid: its message names ``what`` and lists the problems
        (at most 20), and it carries every error of :func:`format_errors`.
    """
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = format_errors(exc)
        raise ValidationError(_summary(what, errors), errors) from None


def validate_record(doc: dict[str, Any]) -> dict[str, Any]:
    """Validate a record and return its normalised JSON form (Nones dropped)."""
    model = validate_model(RecordDocument, doc, "record")
    out = model.model_dump(mode="json", exclude_none=True)
    if not out.get("custom"):
        out.pop("custom", None)
    return out


def validate_dataset(doc: dict[str, Any]) -> dict[str, Any]:
    """Validate a dataset document and return its normalised JSON form."""
    model = validate_model(DatasetDocument, doc, "dataset metadata")
    return model.model_dump(mode="json", exclude_none=True)
