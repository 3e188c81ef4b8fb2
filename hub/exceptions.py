"""One error hierarchy for MatterHub.

Every error carries an HTTP status and a short title so that the REST layer can
answer with it without the core importing a web framework (the pattern of
optimade's ``exceptions.py``).  Messages say what was received, what is allowed
and how to fix it.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base class of every error MatterHub raises on purpose."""

    status_code: int = 500
    title: str = "Internal error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status_code, "title": self.title, "detail": self.message, **self.details}


class ConfigurationError(HubError):
    status_code = 500
    title = "Configuration error"


class MissingDependencyError(HubError, ImportError):
    """An optional dependency is not installed; the message names the extra."""

    status_code = 501
    title = "Optional dependency missing"


class ValidationError(HubError, ValueError):
    """Metadata or input that does not fit the schema; ``errors`` list each field path."""

    status_code = 400
    title = "Invalid input"

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, errors=errors or [])
        self.errors = errors or []


class NotFoundError(HubError, LookupError):
    status_code = 404
    title = "Not found"


class AccessDeniedError(HubError, PermissionError):
    status_code = 403
    title = "Forbidden"


class ConflictError(HubError):
    status_code = 409
    title = "Conflict"


class SourceError(HubError):
    """A submission's source cannot be collected (missing, empty, unsafe)."""

    status_code = 400
    title = "Bad source"


class UnsafeArchiveError(SourceError):
    """An archive member escapes the destination, or the archive looks like a bomb."""

    title = "Unsafe archive"


class ExtractionError(HubError):
    """One extractor failed on one group of files; reported per file, never fatal."""

    status_code = 422
    title = "Extraction failed"


class MappingError(ValidationError):
    """A user mapping names a column or key the file does not have."""

    title = "Bad mapping"


class IntegrityError(HubError):
    """A stored blob does not match its sha256."""

    status_code = 500
    title = "Checksum mismatch"


class SubmissionError(HubError):
    status_code = 400
    title = "Submission failed"


class QueryError(HubError, ValueError):
    """A search query that cannot be parsed or run; says where and how to fix it."""

    status_code = 400
    title = "Bad query"

    def __init__(self, message: str, query: str = "", position: int | None = None, hint: str = "") -> None:
        where = ""
        if position is not None and query:
            where = f"\n  {query}\n  {' ' * position}^ (position {position})"
        text = message + where + (f"\n  hint: {hint}" if hint else "")
        super().__init__(text)
        self.details = {"query": query, "position": position, "hint": hint}
        self.query = query
        self.position = position
        self.hint = hint
