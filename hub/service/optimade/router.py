"""The OPTIMADE endpoint: ``/optimade/versions`` and, under the versioned base URL
``/optimade/v1`` (also ``/v1.2``, ``/v1.2.0`` and, for convenience, the unversioned
``/optimade``), ``info``, ``info/structures``, ``links``, ``structures`` and
``structures/{id}``.

Every route acts as the request's principal (``CallerHub``: anonymous without a bearer
token, public records only), so totals, pages and single entries are access-controlled
by the hub itself.  Every error, a bad token or a malformed request included, is
answered in the OPTIMADE error format (:class:`OptimadeRoute`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute

from hub.service.deps import CallerHub
from hub.service.optimade.errors import FilterError, NotImplementedFilter
from hub.service.optimade.responses import (
    API_VERSION,
    ENDPOINTS,
    MAJOR,
    entry_info_body,
    error_body,
    error_of,
    info_body,
    links_body,
    meta,
)
from hub.service.optimade.search import DEFAULT_PAGE_LIMIT, count_structures, get_structure, search_structures

log = logging.getLogger("matterhub.service.optimade")
VERSIONED = f"/v{MAJOR}"
#: Versions served, each under ``/v<version>``: the major one (the versioned base URL the
#: specification requires), its minor and patch forms, and the unversioned base URL.
VERSIONS = (MAJOR, ".".join(API_VERSION.split(".")[:2]), API_VERSION)
MEDIA_TYPE = "application/vnd.api+json"
_FORMATS = ("json",)
_ENDPOINT_IN_PATH = re.compile(r"/(?:info|links|structures|versions)(?:/.*)?$")


class OptimadeResponse(JSONResponse):
    media_type = MEDIA_TYPE


class _NotFound(Exception):
    status_code = 404


class _VersionNotSupported(Exception):
    status_code = 553


def _relative_path(path: str) -> str:
    """The part of ``path`` after the (versioned) base URL: ``/structures/x``."""
    m = _ENDPOINT_IN_PATH.search(path)
    return m.group(0) if m else "/"


def _representation(request: Request) -> str:
    query = request.url.query
    relative = _relative_path(request.url.path)
    return f"{relative}?{query}" if query else relative


def _base_url(request: Request) -> str:
    """The absolute base URL (versioned or not) the request was made under."""
    url = str(request.url).split("?", 1)[0]
    return url[: len(url) - len(_relative_path(request.url.path))]


def _error_response(request: Request, exc: BaseException) -> Response:
    status, title, detail = error_of(exc)
    if status == 500:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = error_body(status, detail, _representation(request), title)
    return OptimadeResponse(body, status_code=status, headers=headers)


class OptimadeRoute(APIRoute):
    """A route whose every failure (authentication, request validation, the hub's own
    errors, bugs) is answered as an OPTIMADE error document."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return _error_response(request, exc)

        return route_handler


router = APIRouter(route_class=OptimadeRoute, tags=["optimade"])


# -- query parameters ------------------------------------------------------------------------


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise FilterError(f"{name} must be a whole number; got {raw!r}") from None


def _check_format(request: Request) -> None:
    """``response_format`` (json only) and ``include`` (structures have no relationships)."""
    fmt = request.query_params.get("response_format") or "json"
    if fmt not in _FORMATS:
        raise FilterError(f"response_format {fmt!r} is not served; formats: {', '.join(_FORMATS)}")
    include = request.query_params.get("include")
    if include not in (None, "", "references"):
        raise FilterError(f"include={include!r}: structures here have no relationships to include")


def _page(request: Request) -> tuple[int, int]:
    """(page_limit, offset) from page_limit and page_offset or page_number (1-based)."""
    limit = _int_param(request, "page_limit", DEFAULT_PAGE_LIMIT)
    for name in ("page_cursor", "page_above", "page_below"):
        if request.query_params.get(name):
            raise NotImplementedFilter(f"{name} is not supported; page with page_offset or page_number")
    if request.query_params.get("page_number"):
        number = _int_param(request, "page_number", 1)
        if number < 1:
            raise FilterError(f"page_number starts at 1; got {number}")
        return limit, (number - 1) * limit
    return limit, _int_param(request, "page_offset", 0)


# -- endpoints --------------------------------------------------------------------------------


@router.get("/versions", summary="OPTIMADE: the major versions served (CSV)", response_class=Response)
def versions() -> Response:
    return Response(f"version\n{MAJOR}\n", media_type="text/csv; header=present")


def info(request: Request) -> Response:
    unversioned = re.sub(r"/v\d+(\.\d+){0,2}$", "", _base_url(request))
    return OptimadeResponse(info_body(unversioned + VERSIONED, _representation(request)))


def entry_info(entry: str, request: Request) -> Response:
    if entry != "structures":
        raise _NotFound(f"no entry type {entry!r}; entry types: structures")
    return OptimadeResponse(entry_info_body(_representation(request)))


def links(request: Request) -> Response:
    unversioned = re.sub(r"/v\d+(\.\d+){0,2}$", "", _base_url(request))
    return OptimadeResponse(links_body(unversioned, str(request.base_url), _representation(request)))


def structures(request: Request, hub: CallerHub) -> Response:
    _check_format(request)
    limit, offset = _page(request)
    params = request.query_params
    result = search_structures(
        hub,
        params.get("filter", ""),
        limit=limit,
        offset=offset,
        sort=params.get("sort") or None,
        response_fields=params.get("response_fields"),
    )
    following = None
    if result.more:
        following = str(
            request.url.remove_query_params("page_number").include_query_params(
                page_offset=offset + limit, page_limit=limit
            )
        )
    body = {
        "data": result.structures,
        "links": {"next": following},
        "meta": meta(
            _representation(request),
            more=result.more,
            data_returned=result.total,
            data_available=count_structures(hub),
            warnings=result.warnings,
        ),
    }
    return OptimadeResponse(body)


def structure(entry_id: str, request: Request, hub: CallerHub) -> Response:
    _check_format(request)
    resource = get_structure(hub, entry_id, request.query_params.get("response_fields"))
    body = {
        "data": resource,
        "links": {"next": None},
        "meta": meta(_representation(request), data_returned=int(resource is not None)),
    }
    return OptimadeResponse(body)


def landing(request: Request) -> Response:
    here = str(request.url).split("?", 1)[0].rstrip("/")
    items = "".join(f'<li><a href="{here}/{e}">{e}</a></li>' for e in ENDPOINTS)
    return HTMLResponse(
        "<!doctype html><title>MatterHub OPTIMADE API</title><h1>MatterHub: an OPTIMADE API</h1>"
        "<p>This is a base URL of an OPTIMADE API (https://www.optimade.org), meant to be queried by "
        f"an OPTIMADE client.</p><ul>{items}</ul>"
    )


def _add(base: str, in_schema: bool) -> None:
    routes: list[tuple[str, Callable[..., Response], str]] = [
        ("/info", info, "OPTIMADE: this implementation"),
        ("/info/{entry}", entry_info, "OPTIMADE: the properties of an entry type"),
        ("/links", links, "OPTIMADE: related databases"),
        ("/structures", structures, "OPTIMADE: the structures matching a filter"),
        ("/structures/{entry_id}", structure, "OPTIMADE: one structure"),
    ]
    for path, endpoint, summary in routes:
        router.add_api_route(
            base + path, endpoint, methods=["GET"], summary=summary, include_in_schema=in_schema
        )
    router.add_api_route(
        base or "/", landing, methods=["GET"], include_in_schema=False, response_class=HTMLResponse
    )


_add(VERSIONED, True)
for _version in VERSIONS[1:]:
    _add(f"/v{_version}", False)
_add("", False)


@router.get("/v{version}/{rest:path}", include_in_schema=False)
def unknown_version(version: str, rest: str, request: Request) -> Response:
    """An unknown endpoint under a served version (404), or a version not served (553)."""
    if version in VERSIONS or not version[:1].isdigit():
        raise _NotFound(f"no OPTIMADE endpoint {rest!r} here; endpoints: {', '.join(ENDPOINTS)}")
    raise _VersionNotSupported(
        f"OPTIMADE version v{version} is not served here; use {VERSIONED} (see /versions)"
    )


@router.get("/{rest:path}", include_in_schema=False)
def unknown_endpoint(rest: str) -> Response:
    raise _NotFound(f"no OPTIMADE endpoint {rest!r}; see {VERSIONED}/info")
