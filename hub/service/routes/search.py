"""Search (GET for links, POST for structured requests), scroll with a cursor, fields."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from hub.index.engine import MAX_WINDOW
from hub.service.deps import CallerHub
from hub.service.lanes import in_search_lane
from hub.service.limits import Limits

router = APIRouter(tags=["search"])

#: The most hits one page may hold (MDF's and Globus Search's limit).
MAX_LIMIT = 10_000


class SearchRequest(BaseModel):
    """A search: a query, facets, drill-down filters, a page and its order."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field("*", description="Lucene-style query: `material.elements:Co AND dft.converged:true`")
    facets: list[str | dict[str, Any]] = Field(
        default_factory=list,
        description="Field paths (terms) or {field, type: histogram|date_histogram, interval|buckets}",
    )
    filters: dict[str, Any] | None = Field(
        None, description="Drill-down: {field: value or [values]}; a hit matches one value of each field"
    )
    limit: int = Field(10, ge=0, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_WINDOW)
    sort: str | list[str] | None = Field(None, description="A field path, `-path` for descending")
    kinds: list[Literal["record", "dataset"]] | None = None


class ScrollRequest(BaseModel):
    """One page of a scroll over every hit of a query, after the cursor of the previous page."""

    model_config = ConfigDict(extra="forbid")

    q: str = "*"
    filters: dict[str, Any] | None = None
    kinds: list[Literal["record", "dataset"]] | None = None
    size: int = Field(1000, ge=1, le=MAX_LIMIT)
    after: int | None = Field(
        None, ge=0, le=2**63 - 1, description="The cursor of the previous page (`next`)"
    )


@router.get("/search", summary="Search datasets and records you may see")
async def search_get(
    hub: CallerHub,
    limits: Limits,
    q: str = "*",
    limit: int = Query(10, ge=0, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_WINDOW),
    sort: str | None = None,
    facets: list[str] = Query(default=[]),  # noqa: B008
    kinds: list[Literal["record", "dataset"]] | None = Query(default=None),  # noqa: B008
) -> dict[str, Any]:
    """The datasets and records the caller may see that match query ``q``: one page, with facet counts.

    ``kinds`` keeps records or datasets only; ``sort`` is a field path (``-path`` for
    descending).  POST /api/search takes filters and histogram facets too.
    """
    limits.search(q, facets)
    return await in_search_lane(
        lambda: hub.search(q, facets=facets, limit=limit, offset=offset, sort=sort, kinds=kinds).to_dict()
    )


@router.post("/search", summary="Search with facets, filters and sorting")
async def search_post(body: SearchRequest, hub: CallerHub, limits: Limits) -> dict[str, Any]:
    """The datasets and records the caller may see that match the request: one page, with facets.

    Facets count terms of a field, or histogram its values (``histogram``,
    ``date_histogram``); filters drill down to values of fields.
    """
    limits.search(body.q, body.facets, body.filters)
    return await in_search_lane(
        lambda: hub.search(
            body.q,
            facets=body.facets,
            filters=body.filters,
            limit=body.limit,
            offset=body.offset,
            sort=body.sort,
            kinds=body.kinds,
        ).to_dict()
    )


@router.post("/search/scroll", summary="Every hit, a page at a time, in a stable order (no cap)")
async def search_scroll(body: ScrollRequest, hub: CallerHub, limits: Limits) -> dict[str, Any]:
    """One page of every hit of a query the caller may see, in a stable order.

    Send the answer's ``next`` as ``after`` for the following page; ``next`` is null after
    the last one.  Unlike ``offset``, a scroll reaches every hit.
    """
    limits.search(body.q, filters=body.filters)
    hits, cursor = await in_search_lane(
        lambda: hub.scroll_page(
            body.q, filters=body.filters, kinds=body.kinds, after=body.after, size=body.size
        )
    )
    return {
        "hits": [{"id": h.id, "kind": h.kind, "document": h.document} for h in hits],
        "next": cursor,
    }


@router.get("/fields", summary="Searchable fields of what you may see: {path: {type: documents}}")
def fields(hub: CallerHub) -> dict[str, dict[str, int]]:
    """The searchable fields of the datasets the caller may see: for each path, its types and how many documents hold each."""
    return hub.fields()


@router.get("/extractors", summary="What each installed extractor reads and fills")
def extractors(hub: CallerHub) -> list[dict[str, Any]]:
    """What each extractor installed on the service reads and the fields it fills (nothing is run)."""
    return hub.extractors()


@router.post("/index/rebuild", summary="Rebuild the search index from the catalog (admins)")
def rebuild_index(hub: CallerHub) -> dict[str, int]:
    """Rebuild the search index from the catalog and the servables' registry (admins); the answer counts the documents indexed."""
    return {"documents": hub.rebuild_index()}
