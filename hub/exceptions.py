"""One error hierarchy for MatterHub.

Every error carries an HTTP status and a short title so that the REST layer can
answer with it without the core importing a web framework (the pattern of
optimade's ``exceptions.py``).  Messages say what was received, what is allowed
and how to fix it.
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable
from typing import Any

#: The most characters of a value sent by a caller that an error message quotes.
EXCERPT = 200


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """At most ``limit`` characters of ``text``, then ``...``: how an error quotes what it was sent.

    >>> excerpt("x" * 300, 5)
    'xxxxx...'
    """
    return text if len(text) <= limit else text[:limit] + "..."


def did_you_mean(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The names of ``known`` closest to ``name`` (a mistyped field, column or key), best first.

    A name without a dot is also matched against the last part of dotted names
    (``bandgap`` finds ``custom.band_gap``); at most ``n``.

    >>> did_you_mean("material.element", ["material.elements", "material.composition", "dft.code"])
    ['material.elements']
    >>> did_you_mean("elements", ["material.elements", "optimade.elements", "dft.code"])
    ['material.elements', 'optimade.elements']
    """
    choices = sorted(set(known))
    close = difflib.get_close_matches(name, choices, n=n, cutoff=0.75)
    if "." not in name:
        by_tail: dict[str, list[str]] = {}
        for c in choices:
            by_tail.setdefault(c.rsplit(".", 1)[-1], []).append(c)
        for tail in difflib.get_close_matches(name, list(by_tail), n=n, cutoff=0.75):
            close += by_tail[tail]
    return list(dict.fromkeys(c for c in close if c != name))[:n]


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = EXCERPT
_REPR.maxdict = _REPR.maxlist = _REPR.maxtuple = _REPR.maxset = 10


def quoted(value: Any) -> str:
    """``repr(value)`` as an error quotes it: short, however large or deep ``value`` is.

    Nested containers are cut at three levels and ten items, strings at about
    :data:`EXCERPT` characters, the whole at :data:`EXCERPT` (then ``...``).
    """
    return excerpt(_REPR.repr(value))


class HubError(Exception):
    """Base class of every error MatterHub raises on purpose."""

    status_code: int = 500
    title: str = "Internal error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The error as the body of an HTTP error response.

        ``status``, ``title`` and ``detail`` (the message), plus the details given as
        keyword arguments.
        """
        return {"status": self.status_code, "title": self.title, "detail": self.message, **self.details}


class ConfigurationError(HubError):
    """A hub set up in a way it cannot run with (executor, catalog schema, index)."""

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


class RequirementsError(ValidationError):
    """A servable's pinned requirements cannot be installed from the hub's package source.

    Raised at publish, naming the requirement and the index or wheelhouse tried.
    """

    title = "Requirements cannot be installed"


class EnvironmentBuildError(HubError):
    """A servable's environment could not be built (or is not there); its runs fail with it."""

    title = "Servable environment not available"


class NotFoundError(HubError, LookupError):
    """A dataset, file, record, submission, servable or user that does not exist (HTTP 404).

    Things the caller may not see are reported the same way.
    """

    status_code = 404
    title = "Not found"


class AccessDeniedError(HubError, PermissionError):
    """An action the caller's principal is not allowed (HTTP 403; 401 when anonymous)."""

    status_code = 403
    title = "Forbidden"


class AuthenticationError(HubError):
    """A missing, unknown, revoked or expired bearer token (HTTP 401)."""

    status_code = 401
    title = "Not authenticated"


class ConflictError(HubError):
    """An action the current state forbids (HTTP 409).

    A user that exists already, a servable version the catalog cannot allocate, or a
    submission in the wrong status to retry or curate.
    """

    status_code = 409
    title = "Conflict"


class NameNotAvailableError(ConflictError):
    """A dataset or servable name that belongs to someone else (:mod:`hub.access.names`).

    The message is the same whatever holds the name (a version one may see or not, a
    pending submission), so a refusal tells nothing about it.
    """

    title = "Name not available"


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


class SourceChangedError(IntegrityError):
    """A file published by reference no longer holds, at its source, what the hub recorded (HTTP 409).

    The hub's record stands; the source moved on.  ``hub.verify(source_id)`` lists every
    such file; the owner re-submits the dataset to publish what the source holds now.
    """

    status_code = 409
    title = "Source changed"


class SubmissionError(HubError):
    """A submission that cannot be completed as asked.

    A mapping without an extractor to apply it, or a file changing while it is stored.
    """

    status_code = 400
    title = "Submission failed"


class QueryError(HubError, ValueError):
    """A search query that cannot be parsed or run; says where and how to fix it."""

    status_code = 400
    title = "Bad query"

    def __init__(self, message: str, query: str = "", position: int | None = None, hint: str = "") -> None:
        where = ""
        if position is not None and query:
            shown, at = _window(query, position)
            where = f"\n  {shown}\n  {' ' * at}^ (position {position})"
        text = message + where + (f"\n  hint: {hint}" if hint else "")
        super().__init__(text)
        self.details = {"query": excerpt(query), "position": position, "hint": hint}
        self.query = query
        self.position = position
        self.hint = hint


def _window(query: str, position: int, width: int = EXCERPT) -> tuple[str, int]:
    """At most ``width`` characters of ``query`` around ``position``, and where it falls in them.

    Cut ends are marked ``...``.
    """
    if len(query) <= width:
        return query, min(position, len(query))
    start = max(0, min(position - width // 2, len(query) - width))
    head = "..." if start else ""
    tail = "..." if start + width < len(query) else ""
    return head + query[start : start + width] + tail, len(head) + min(position - start, width)


# -- servables ------------------------------------------------------------------


class InputValidationError(ValidationError):
    """Inputs or parameters of a servable run that do not fit its schema.

    Raised before anything runs; ``errors`` holds one entry per mismatch with
    ``input`` (the name or path of the input), ``expected`` and ``given``.
    """

    title = "Invalid servable input"


class NotRunnableError(ConflictError):
    """A servable entry that has nothing to run (e.g. an imported DLHub dataset description)."""

    title = "Not runnable"


class ServableRunError(HubError):
    """A servable raised an exception; carries its type, message, traceback and captured output."""

    status_code = 422
    title = "Servable failed"

    def __init__(
        self,
        message: str,
        *,
        kind: str = "error",
        exc_type: str | None = None,
        traceback: str | None = None,
        stdout: str = "",
        stderr: str = "",
        task_id: str | None = None,
    ) -> None:
        super().__init__(message, kind=kind, exc_type=exc_type, task_id=task_id)
        self.kind = kind
        self.exc_type = exc_type
        self.traceback = traceback
        self.stdout = stdout
        self.stderr = stderr
        self.task_id = task_id


class ServableTimeoutError(ServableRunError, TimeoutError):
    """A servable ran past its timeout; its worker was stopped and replaced."""

    status_code = 504
    title = "Servable timed out"


class ServableCrashedError(ServableRunError):
    """A servable's worker process died (segfault, abort, killed); the worker was replaced.

    HTTP 502: the published code failed, not the hub.
    """

    status_code = 502
    title = "Servable crashed"


class ServableRefusedError(ServableRunError):
    """The hub cannot contain servable code here, so it does not run it (its admin's setting).

    HTTP 503: a shared hub whose kernel offers no Landlock refuses to run published code
    unless started with ``--allow-uncontained-servables``.
    """

    status_code = 503
    title = "Servables cannot run here"


class ServableMemoryError(ServableRunError, MemoryError):
    """A servable tried to allocate past its memory limit."""

    status_code = 507
    title = "Servable exceeded its memory limit"
