"""The Globus Search API routes (mounted at ``/globus-search`` by the hub service)."""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hub.exceptions import NotFoundError, quoted
from hub.forge import quote
from hub.index.results import Hit
from hub.service.deps import CallerHub
from hub.service.globus.documents import Subject, single_subjects
from hub.service.globus.errors import ERROR_RESPONSES, GlobusRequestError, GlobusRoute
from hub.service.globus.indexes import resolve
from hub.service.globus.mapping import mapping_document
from hub.service.globus.models import MAX_RESULTS, GScrollRequest, GSearchRequest
from hub.service.globus.search import check_limits, queries, run_search, user_query
from hub.service.lanes import in_search_lane
from hub.service.limits import Limits

router = APIRouter(route_class=GlobusRoute, tags=["globus-search"], responses=ERROR_RESPONSES)

_MARKER = re.compile(r"^[0-9]{1,19}$")
_RECORD_SUBJECT = re.compile(r"^(?P<name>[a-z0-9][a-z0-9_]*)\.(?P<scroll>\d+)$")


#: The shape of a search result, for the OpenAPI schema.
RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "gmeta": {"type": "array", "items": {"type": "object"}},
        "total": {"type": "integer"},
        "count": {"type": "integer"},
        "offset": {"type": "integer"},
        "has_next_page": {"type": "boolean"},
        "facet_results": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["gmeta", "total", "count", "has_next_page"],
}


def _ok(schema: dict[str, Any], description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {"application/json": {"schema": schema}}}}


def _base_url(request: Request) -> str:
    return str(request.base_url)


def _json(content: dict[str, Any]) -> JSONResponse:
    """The document as JSON, as is (it is JSON already: no encoder pass over 10,000 entries)."""
    return JSONResponse(content)


@router.post(
    "/v1/index/{index_id}/search",
    summary="Globus Search: POST query (GSearchRequest)",
    responses=_ok(RESULT_SCHEMA, "A GSearchResult"),
)
async def post_search(
    index_id: str, body: GSearchRequest, request: Request, hub: CallerHub, limits: Limits
) -> JSONResponse:
    """Search an index as Globus Search does: a GSearchRequest answered with a GSearchResult.

    The query is the hub's Lucene-style language (with ``advanced`` false, one it cannot
    parse is searched as plain words); filters, facets and sort are Globus Search's.
    Only what the caller may see is searched; ``offset + limit`` may not pass 10,000.
    """
    index = resolve(index_id)
    return _json(await in_search_lane(run_search, hub, index, body, _base_url(request), limits))


@router.get(
    "/v1/index/{index_id}/search",
    summary="Globus Search: GET query",
    responses=_ok(RESULT_SCHEMA, "A GSearchResult"),
)
async def get_search(
    index_id: str,
    request: Request,
    hub: CallerHub,
    limits: Limits,
    q: str = "*",
    offset: int = Query(0, ge=0, le=MAX_RESULTS),
    limit: int = Query(10, ge=0, le=MAX_RESULTS),
    advanced: bool = False,
    bypass_visible_to: bool = False,
    result_format_version: Literal["2019-08-27", "2017-09-01"] = "2019-08-27",
) -> JSONResponse:
    """Search an index with a query string only, as Globus Search's GET search does; the answer is a GSearchResult."""
    body = GSearchRequest(
        q=q,
        offset=offset,
        limit=limit,
        advanced=advanced,
        bypass_visible_to=bypass_visible_to,
        result_format_version=result_format_version,
    )
    index = resolve(index_id)
    return _json(await in_search_lane(run_search, hub, index, body, _base_url(request), limits))


@router.post(
    "/v1/index/{index_id}/scroll",
    summary="Globus Search: scroll every result, a page at a time",
    responses=_ok(RESULT_SCHEMA, "A GScrollResult"),
)
async def scroll(
    index_id: str, body: GScrollRequest, request: Request, hub: CallerHub, limits: Limits
) -> JSONResponse:
    """One page of every result of a query (no 10,000 cap), each result its own subject.

    Send the answer's ``marker`` back for the following page; ``has_next_page`` is false
    after the last one.
    """
    index = resolve(index_id)
    after: int | None = None
    if body.marker:
        if not _MARKER.match(body.marker):
            raise GlobusRequestError(f"marker {quoted(body.marker)} is not a marker this index gave")
        after = int(body.marker)

    def page() -> tuple[list[Hit], int | None, int]:
        check_limits(limits, body.q)
        _, query = queries(index, user_query(body.q, body.advanced), body.filters)
        limits.derived_query(query)
        hits, cursor = hub.scroll_page(query, kinds=index.kinds, after=after, size=body.limit)
        return hits, cursor, hub.search(query, limit=0, kinds=index.kinds).total

    hits, cursor, total = await in_search_lane(page)
    return _json(
        {
            "@datatype": "GScrollResult",
            "@version": "2017-09-01",
            "gmeta": [
                s.to_gmeta(_base_url(request), body.result_format_version) for s in single_subjects(hits)
            ],
            "count": len(hits),
            "total": total,
            "has_next_page": cursor is not None,
            "marker": str(cursor) if cursor is not None else None,
        }
    )


@router.get("/v1/index/{index_id}/subject", summary="Globus Search: the entries of one subject")
def get_subject(
    index_id: str,
    request: Request,
    hub: CallerHub,
    limits: Limits,
    subject: str,
    result_format_version: Literal["2019-08-27", "2017-09-01"] = "2019-08-27",
) -> dict[str, Any]:
    """The entries of one subject the caller may see, as a GMetaResult.

    In the MDF index a subject is a dataset's ``source_name`` (its versions are its
    entries, newest first) or a record's ``<source_name>.<scroll_id>``; in the DLHub
    index a servable's id.  404 when the caller may see no entry of it.
    """
    index = resolve(index_id)
    limits.length(subject, "subject")
    if index.kind == "dlhub":
        hits = [h for h in hub.servables("*", limit=MAX_RESULTS).hits if h.id == subject]
    else:
        m = _RECORD_SUBJECT.match(subject)
        if m:
            q = f"mdf.source_name:{m['name']} AND mdf.scroll_id:{m['scroll']}"
            kinds = ["record"]
        else:
            q, kinds = f"mdf.source_name:{quote(subject, wildcard=False)}", ["dataset"]
        found = hub.search(q, kinds=kinds, limit=100).hits
        hits = sorted(found, key=lambda h: -int(h.document["mdf"].get("version", 0)))
    if not hits:
        raise NotFoundError(f"There is no subject {quoted(subject)} you may see in index {index_id}")
    return Subject(subject, hits).to_gmeta(_base_url(request), result_format_version)


@router.get("/v1/index/{index_id}", summary="Globus Search: show an index")
def get_index(index_id: str, hub: CallerHub) -> dict[str, Any]:
    """The index as Globus Search describes one (a GSearchIndex), with the number of entries the caller may see."""
    index = resolve(index_id)
    entries = hub.search("*", limit=0, kinds=index.kinds).total
    return {
        "@datatype": "GSearchIndex",
        "@version": "2017-09-01",
        "id": index.id,
        "display_name": index.display_name,
        "description": index.description,
        "num_entries": entries,
        "num_subjects": entries,
        "status": "open",
        "is_trial": False,
        "available": True,
        "subscription_id": None,
        "max_size_in_mb": None,
        "size_in_mb": None,
        "creation_date": None,
        "content_last_modified_date": None,
    }


@router.get("/beta/index/{index_id}/mapping", summary="Globus Search: the mapped type of every field")
def get_mapping(index_id: str, hub: CallerHub) -> dict[str, Any]:
    """Every field of the index the caller may see and its type (``text``, ``double``, ``date``, ``boolean``)."""
    return mapping_document(hub, resolve(index_id))


@router.get(
    "/beta/index/{index_id}/mapping/{field_name}", summary="Globus Search: the mapped type of a field"
)
def get_field_mapping(index_id: str, field_name: str, hub: CallerHub) -> dict[str, Any]:
    """The type of one field of the index; 404 when the caller may see no such field."""
    doc = mapping_document(hub, resolve(index_id), field_name)
    if not doc["mappings"]:
        raise NotFoundError(f"index {index_id} has no field {field_name!r} you may see")
    return doc
