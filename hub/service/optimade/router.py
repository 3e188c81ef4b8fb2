"""The OPTIMADE endpoint: ``/optimade/versions`` and the versioned base URL ``/optimade/v1``.

Under the versioned base URL (also ``/v1.2``, ``/v1.2.0`` and, for convenience, the
unversioned ``/optimade``) it serves ``info``, ``info/structures``, ``links``,
``structures`` and ``structures/{id}``.

Every route acts as the request's principal (``CallerHub``: anonymous without a bearer
token, public records only), so totals, pages and single entries are access-controlled
by the hub itself.  Every error, a bad token or a malformed request included, is
answered in the OPTIMADE error format (:class:`OptimadeRoute`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute

from hub.exceptions import excerpt
from hub.optimade.errors import FilterError, NotImplementedFilter
from hub.optimade.results import StructureResults
from hub.optimade.search import (
    DEFAULT_PAGE_LIMIT,
    MAX_PAGE_LIMIT,
    get_structure,
    search_structures,
)
from hub.optimade.translate import translate
from hub.service.deps import CallerHub
from hub.service.errors import bounded
from hub.service.lanes import in_search_lane
from hub.service.limits import Limits
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

log = logging.getLogger("matterhub.service.optimade")
VERSIONED = f"/v{MAJOR}"
#: Versions served, each under ``/v<version>``: the major one (the versioned base URL the
#: specification requires), its minor and patch forms, and the unversioned base URL.
VERSIONS = (MAJOR, ".".join(API_VERSION.split(".")[:2]), API_VERSION)
MEDIA_TYPE = "application/vnd.api+json"
_FORMATS = ("json",)
_ENDPOINT_IN_PATH = re.compile(r"/(?:info|links|structures|versions)(?:/.*)?$")


class OptimadeResponse(JSONResponse):
    """A JSON response with the JSON:API media type, ``application/vnd.api+json``."""

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
    body = bounded(error_body(status, detail, excerpt(_representation(request)), title))
    return OptimadeResponse(body, status_code=status, headers=headers)


class OptimadeRoute(APIRoute):
    """A route whose every failure is answered as an OPTIMADE error document.

    That is authentication, request validation, the hub's own errors and bugs (500,
    logged) alike.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler of the route, with every exception turned into an error document."""
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return _error_response(request, exc)

        return route_handler


router = APIRouter(route_class=OptimadeRoute, tags=["optimade"])


# -- query parameters and the documented responses ------------------------------------------

Filter = Annotated[
    str,
    Query(
        alias="filter",
        description='An OPTIMADE filter: `elements HAS ALL "Co","O" AND nsites<20`, `nelements=2`, '
        '`chemical_formula_reduced="O2Si"` (see info/structures for the properties)',
    ),
]
PageLimit = Annotated[int, Query(ge=0, description=f"At most this many structures (max {MAX_PAGE_LIMIT})")]
PageOffset = Annotated[int, Query(ge=0, description="Skip this many structures")]
PageNumber = Annotated[int | None, Query(ge=1, description="The page (1-based) of page_limit structures")]
Sort = Annotated[str | None, Query(description="A sortable property (info/structures); -name for descending")]
Fields = Annotated[str | None, Query(description="Comma-separated attributes to return (all when absent)")]
Format = Annotated[str, Query(description="Only `json`")]
Include = Annotated[
    str | None, Query(description="Only `references` or empty: structures have no relationships")
]
Ignored = Annotated[str | None, Query(description="Accepted, not used")]

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "status": {"type": "string"},
                    "title": {"type": "string"},
                    "detail": {"type": "string"},
                },
                "required": ["detail"],
            },
        },
        "meta": {"type": "object"},
    },
    "required": ["errors", "meta"],
}
_REASONS = {
    400: "A malformed filter or request, or an unknown property",
    401: "An unknown or revoked token",
    403: "A page_limit above the maximum",
    404: "No such endpoint or entry type",
    501: "An OPTIONAL filter feature this hub does not implement",
}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": f"{reason} (an OPTIMADE error document)",
        "content": {MEDIA_TYPE: {"schema": _ERROR_SCHEMA}},
    }
    for code, reason in _REASONS.items()
}


def _check_format(response_format: str, include: str | None) -> None:
    if response_format not in _FORMATS:
        raise FilterError(
            f"response_format {response_format!r} is not served; formats: {', '.join(_FORMATS)}"
        )
    if include not in (None, "", "references"):
        raise FilterError(f"include={include!r}: structures here have no relationships to include")


# -- endpoints --------------------------------------------------------------------------------


@router.get(
    "/versions",
    summary="OPTIMADE: the major versions served (CSV)",
    response_class=Response,
    responses={200: {"description": "One major version a line", "content": {"text/csv": {}}}},
)
def versions() -> Response:
    """The major versions of the OPTIMADE API served here, as CSV with a header line."""
    return Response(f"version\n{MAJOR}\n", media_type="text/csv; header=present")


def info(request: Request) -> Response:
    """The base info of this OPTIMADE implementation: API version, versioned base URL, formats, endpoints and entry types."""
    unversioned = re.sub(r"/v\d+(\.\d+){0,2}$", "", _base_url(request))
    return OptimadeResponse(info_body(unversioned + VERSIONED, _representation(request)))


def entry_info(entry: str, request: Request) -> Response:
    """The properties of an entry type (only ``structures`` is served): each one's description, type, unit and sortability."""
    if entry != "structures":
        raise _NotFound(f"no entry type {entry!r}; entry types: structures")
    return OptimadeResponse(entry_info_body(_representation(request)))


def links(request: Request) -> Response:
    """The links of this database: itself, as the root of its provider (no other database, no index meta-database)."""
    unversioned = re.sub(r"/v\d+(\.\d+){0,2}$", "", _base_url(request))
    return OptimadeResponse(links_body(unversioned, str(request.base_url), _representation(request)))


async def structures(
    request: Request,
    hub: CallerHub,
    limits: Limits,
    filter_: Filter = "",
    page_limit: PageLimit = DEFAULT_PAGE_LIMIT,
    page_offset: PageOffset = 0,
    page_number: PageNumber = None,
    sort: Sort = None,
    response_fields: Fields = None,
    response_format: Format = "json",
    include: Include = None,
    email_address: Ignored = None,
    api_hint: Ignored = None,
) -> Response:
    """The structures the caller may see that match the filter, one page at a time.

    Without a token only public records are searched.  Page with ``page_limit`` and
    ``page_offset`` or ``page_number``; ``links.next`` is the next page's URL.  The filter
    names the properties of ``info/structures``; a property of another database
    (``_prefix_name``) matches nothing, with a warning.  A filter longer than the service's
    ``max_query_length``, or whose translation holds more clauses than its
    ``max_query_clauses``, is a 400.
    """
    _check_format(response_format, include)
    for name in ("page_cursor", "page_above", "page_below"):
        if request.query_params.get(name):
            raise NotImplementedFilter(f"{name} is not supported; page with page_offset or page_number")
    offset = (page_number - 1) * page_limit if page_number is not None else page_offset
    limits.length(filter_, "filter")

    def search() -> StructureResults:
        query = translate(filter_).query
        if query is not None:
            limits.derived_query(query)
        return search_structures(
            hub, filter_, limit=page_limit, offset=offset, sort=sort or None, response_fields=response_fields
        )

    result = await in_search_lane(search)
    following = None
    if result.more:
        url = request.url.remove_query_params("page_number")
        following = str(url.include_query_params(page_offset=offset + page_limit, page_limit=page_limit))
    body = {
        "data": result.structures,
        "links": {"next": following},
        "meta": meta(
            _representation(request),
            more=result.more,
            data_returned=result.total,
            # free without a filter (the same count); with one it would cost a second search
            data_available=result.total if not filter_.strip() else None,
            warnings=result.warnings,
        ),
    }
    return OptimadeResponse(body)


def structure(
    entry_id: str,
    request: Request,
    hub: CallerHub,
    response_fields: Fields = None,
    response_format: Format = "json",
    include: Include = None,
    email_address: Ignored = None,
    api_hint: Ignored = None,
) -> Response:
    """The structure of a record, by its id.

    ``data`` is null when there is no such structure the caller may see: a missing record,
    a hidden one and one without a structure look the same.
    """
    _check_format(response_format, include)
    resource = get_structure(hub, entry_id, response_fields)
    body = {
        "data": resource,
        "links": {"next": None},
        "meta": meta(_representation(request), data_returned=int(resource is not None)),
    }
    return OptimadeResponse(body)


def landing(request: Request) -> Response:
    """A small HTML page at a base URL, saying what it is and linking its endpoints."""
    here = str(request.url).split("?", 1)[0].rstrip("/")
    items = "".join(f'<li><a href="{here}/{e}">{e}</a></li>' for e in ENDPOINTS)
    return HTMLResponse(
        "<!doctype html><title>MatterHub OPTIMADE API</title><h1>MatterHub: an OPTIMADE API</h1>"
        "<p>This is a base URL of an OPTIMADE API (https://www.optimade.org), meant to be queried by "
        f"an OPTIMADE client.</p><ul>{items}</ul>"
    )


def _add(base: str, in_schema: bool) -> None:
    routes: list[tuple[str, Callable[..., Response | Awaitable[Response]], str, list[int]]] = [
        ("/info", info, "OPTIMADE: this implementation", []),
        ("/info/{entry}", entry_info, "OPTIMADE: the properties of an entry type", [404]),
        ("/links", links, "OPTIMADE: related databases", []),
        ("/structures", structures, "OPTIMADE: the structures matching a filter", [400, 401, 403, 501]),
        ("/structures/{entry_id}", structure, "OPTIMADE: one structure (data is null when there is none "
         "you may see)", [400, 401]),
    ]  # fmt: skip
    for path, endpoint, summary, errors in routes:
        router.add_api_route(
            base + path,
            endpoint,
            methods=["GET"],
            summary=summary,
            include_in_schema=in_schema,
            response_class=OptimadeResponse,
            responses={code: ERRORS[code] for code in errors},
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
    """Any other path under ``/optimade``: an OPTIMADE 404."""
    raise _NotFound(f"no OPTIMADE endpoint {rest!r}; see {VERSIONED}/info")
