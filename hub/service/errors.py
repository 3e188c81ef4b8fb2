"""Error responses: every error of the service as an HTTP status with a JSON body.

Every :class:`~hub.exceptions.HubError` becomes its HTTP status with a JSON body
``{"status", "title", "detail", ...}``; malformed requests are 400s that say which
field is wrong; nothing the caller sent turns into a 500.  An error body quotes at
most an excerpt of what was sent (:func:`bounded`).
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.exceptions import EXCERPT, AccessDeniedError, HubError, ServableRunError, excerpt

log = logging.getLogger("matterhub.service")

#: The error body, for the OpenAPI schema.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
    },
    "required": ["status", "title", "detail"],
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": title, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    for code, title in [
        (400, "Bad request"),
        (401, "Not authenticated"),
        (403, "Access denied"),
        (404, "Not found"),
        (409, "Conflict"),
        (422, "Unprocessable"),
    ]
}

#: The longest text an error body holds, and the most entries of a list in it.
MAX_ERROR_TEXT = 2_000
MAX_ERROR_ITEMS = 20
#: A quoted run longer than an excerpt (what a message quotes of the request).
_LONG_QUOTE = re.compile(rf"'([^'\n]{{{EXCERPT + 1},}})'|\"([^\"\n]{{{EXCERPT + 1},}})\"")


def bounded(value: Any) -> Any:
    """An error body (or part of one) cut to size, whatever the request held.

    Strings quote at most an excerpt of a run in quotes (:data:`~hub.exceptions.EXCERPT`
    characters, then ``...``) and hold at most :data:`MAX_ERROR_TEXT` characters; lists
    at most :data:`MAX_ERROR_ITEMS` entries; nesting past six levels is cut.
    """
    return _bounded(value, 0)


def _bounded(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        text = _LONG_QUOTE.sub(_shorten, value[: MAX_ERROR_TEXT * 4])
        return excerpt(text, MAX_ERROR_TEXT)
    if depth >= 6 and isinstance(value, dict | list | tuple):
        return "..."
    if isinstance(value, dict):
        return {str(k)[:EXCERPT]: _bounded(v, depth + 1) for k, v in list(value.items())[:MAX_ERROR_ITEMS]}
    if isinstance(value, list | tuple):
        return [_bounded(v, depth + 1) for v in value[:MAX_ERROR_ITEMS]]
    return value


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _shorten(m: re.Match[str]) -> str:
    quote = "'" if m.group(1) is not None else '"'
    return quote + excerpt(m.group(1) or m.group(2)) + quote


def error_body(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of an error response: ``status``, ``title``, ``detail`` and ``extra``."""
    return {"status": status, "title": title, "detail": detail, **extra}


def install_error_handlers(app: FastAPI) -> None:
    """Install on ``app`` the handlers that turn errors into :func:`error_body` responses.

    A :class:`~hub.exceptions.HubError` gets its own status (an anonymous caller refused
    access gets 401 with ``WWW-Authenticate: Bearer``, since a token may help); a request
    that does not fit the API gets 400 naming the fields at fault (not FastAPI's 422);
    Starlette's own HTTP errors (404 for an unknown path, 405, 413 for a body past its
    limit) keep their status.  Every body is :func:`bounded`.
    """

    @app.exception_handler(HubError)
    async def _hub_error(request: Request, exc: HubError) -> JSONResponse:
        status = exc.status_code
        body = exc.to_dict()
        principal = getattr(request.state, "principal", None)
        if isinstance(exc, AccessDeniedError) and principal is not None and principal.user is None:
            # an anonymous caller refused: authenticating may help, so 401 (RFC 9110 15.5.2)
            status = 401
            body.update(status=401, title="Not authenticated")
        if status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc.message)
            if status == 500 and not isinstance(exc, ServableRunError):
                # the hub's own failure (a store or index that cannot be written, ...): its message may
                # name the hub's folders; the caller gets the title, the log the rest
                body.update(detail=f"{exc.title}: the service could not complete this request (see its log)")
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(bounded(jsonable_encoder(body)), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [excerpt(p) if isinstance(p, str) else p for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()[:MAX_ERROR_ITEMS]
        ]
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        return JSONResponse(
            bounded(
                error_body(400, "Bad request", f"the request does not fit the API: {where}", errors=errors)
            ),
            status_code=400,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            bounded(error_body(exc.status_code, _phrase(exc.status_code), str(exc.detail))),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
