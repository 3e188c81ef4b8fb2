"""Errors in Globus Search's shape.

Under ``/globus-search`` every error is a Globus error document, which the Globus
SDK turns into a ``SearchAPIError`` (``code``, ``message``, ``http_status``,
``error_data``)::

    {"code": "BadRequest", "message": "...", "status": 400, "request_id": "...",
     "error_data": {...}}

:class:`GlobusRoute` gives the routes of the Globus router this behaviour: a
:class:`~hub.exceptions.HubError` (a bad query, an unknown token, ...), a request
that does not fit the schema, or an unexpected failure becomes such a document,
whatever the service's own error format is.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.exceptions import AuthenticationError, HubError, QueryError, excerpt
from hub.service.errors import MAX_ERROR_ITEMS, bounded

log = logging.getLogger("matterhub.service.globus")

#: Globus error codes by HTTP status.
CODES: dict[int, str] = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    413: "RequestTooLarge",
    416: "BadRequest.RangeNotSatisfiable",
    422: "BadRequest",
    501: "NotImplemented",
    504: "GatewayTimeout",
}


#: Where a request's problem lies, in Globus Search's words.
_LOCATIONS = {"body": "json", "query": "query", "path": "path"}


#: The error document, for the OpenAPI schema.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "status": {"type": "integer"},
        "request_id": {"type": "string"},
        "error_data": {"type": "object"},
    },
    "required": ["code", "message", "status"],
}
#: The errors every Globus Search route may answer with.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    for status, description in [
        (400, "Bad request (a malformed query or request document)"),
        (401, "Unknown, revoked or expired token"),
        (403, "Forbidden"),
        (404, "Not found"),
        (409, "Conflict"),
        (422, "Unprocessable"),
    ]
}


class GlobusRequestError(HubError):
    """A request the Globus Search API does not accept (a limit past 10,000, an unknown facet type)."""

    status_code = 400
    title = "Bad request"

    def __init__(self, message: str, code: str = "BadRequest", **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code


def error_document(
    status: int, code: str, message: str, error_data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A Globus error document (``GError``), with a new ``request_id`` and ``error_data`` when given."""
    doc: dict[str, Any] = {
        "@datatype": "GError",
        "@version": "2017-09-01",
        "code": code,
        "message": message,
        "status": status,
        "request_id": uuid.uuid4().hex,
    }
    if error_data:
        doc["error_data"] = error_data
    return doc


def error_response(
    status: int, code: str, message: str, error_data: dict[str, Any] | None = None
) -> JSONResponse:
    """An :func:`error_document` as a JSON response of ``status`` (401 with ``WWW-Authenticate: Bearer``).

    The document is :func:`~hub.service.errors.bounded`: it quotes at most an excerpt of the request.
    """
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        bounded(jsonable_encoder(error_document(status, code, message, error_data))),
        status_code=status,
        headers=headers,
    )


def hub_error_response(exc: HubError) -> JSONResponse:
    """A MatterHub error as a Globus error document (same status, the message as is)."""
    status = exc.status_code
    if isinstance(exc, GlobusRequestError):
        code = exc.code
    elif isinstance(exc, QueryError):
        code = "BadRequest.InvalidQuery"
    elif isinstance(exc, AuthenticationError):
        code = CODES[401]
    else:
        code = CODES.get(status, "InternalError" if status >= 500 else "BadRequest")
    if status >= 500:
        log.error("globus-search: %s", exc.message)
    data = {k: v for k, v in exc.details.items() if v not in (None, "", [], {})}
    return error_response(status, code, exc.message, data or None)


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """A request that does not fit the schema, as Globus Search reports it.

    A 400 ``BadRequest.ValidationError``, with the problems by location (``json``,
    ``query``, ``path``) and field in ``error_data.messages``.
    """
    messages: dict[str, dict[str, list[str]]] = {}
    lines = []
    for e in exc.errors()[:MAX_ERROR_ITEMS]:
        loc = [excerpt(str(p)) for p in e.get("loc", ())]
        where, field = (
            (_LOCATIONS.get(loc[0], loc[0]), ".".join(loc[1:]) or "_schema") if loc else ("json", "_schema")
        )
        msg = str(e.get("msg", ""))
        messages.setdefault(where, {}).setdefault(field, []).append(msg)
        lines.append(f"{field}: {msg}")
    message = "the request does not fit the Search API: " + "; ".join(lines[:5])
    return error_response(400, "BadRequest.ValidationError", message, {"messages": messages})


class GlobusRoute(APIRoute):
    """A route whose errors are Globus error documents."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler of the route, with every exception turned into a Globus error document."""
        handler = super().get_route_handler()

        async def globus_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HubError as exc:
                return hub_error_response(exc)
            except RequestValidationError as exc:
                return validation_response(exc)
            except StarletteHTTPException as exc:
                status = exc.status_code
                return error_response(status, CODES.get(status, "BadRequest"), str(exc.detail))
            except Exception:
                log.exception("globus-search: %s %s failed", request.method, request.url.path)
                return error_response(500, "InternalError", "the hub could not answer this request")

        return globus_handler
