"""A Globus Search query (GSearchRequest) answered by a hub (GSearchResult).

The query string is the hub's Lucene-style language, which reads what MDF Forge
writes (``(mdf.source_name:x) AND (material.elements:"Co")``, ranges, ``NOT``).  With
``advanced: false`` a query the language cannot parse is searched as plain words
(Globus Search's simple mode is forgiving in the same way).  Filters are ANDed to
the query; those with ``post_filter`` (every type but ``match_all`` by default)
narrow the results but not the facet counts, as in Globus Search.  ``sort`` orders
by fields; ``boosts`` are accepted and left to the hub's ranking.

At most 10,000 results can be fetched per query (``offset + limit``); beyond that,
use a narrower query (Forge's ``aggregate`` walks ``mdf.scroll_id`` windows) or the
scroll API.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from hub.access import Action, Kind, Resource, require
from hub.exceptions import QueryError
from hub.hubs.embedded import EmbeddedHub
from hub.index.query import parse
from hub.service.globus import scrollid, subjects
from hub.service.globus.documents import RESULT_VERSION
from hub.service.globus.errors import GlobusRequestError
from hub.service.globus.facets import facet_results
from hub.service.globus.filters import field_path, with_filters
from hub.service.globus.indexes import GlobusIndex
from hub.service.globus.models import (
    MAX_RESULTS,
    GFilter,
    GSearchRequest,
    GSort,
    NumericHistogramFacet,
    TermsFacet,
)
from hub.service.limits import RequestLimits

_SYNTAX = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/<>=])')
_OPERATORS = {"AND", "OR", "NOT", "TO"}


def plain_words(q: str) -> str:
    """``q`` searched as plain words: every character with a meaning in the query language escaped."""
    words = [_SYNTAX.sub(r"\\\1", w) for w in q.split()]
    words = [w.lower() if w in _OPERATORS else w for w in words]
    return " ".join(words) or "*"


def user_query(q: str | None, advanced: bool) -> str:
    """The caller's query, checked (a parse error points into it, not into the combined query)."""
    text = (q or "").strip() or "*"
    if text in ("*", "*:*"):
        return "*"
    try:
        parse(text)
    except QueryError:
        if advanced:
            raise
        return plain_words(text)
    return text


def sort_keys(sort: list[GSort]) -> list[str]:
    """A request's ``sort`` as the hub's sort keys (``-path`` for descending)."""
    return [("-" if s.order == "desc" else "") + field_path(s.field_name) for s in sort]


def check_window(limit: int, offset: int) -> None:
    """Refuse a page that ends past the 10,000th result.

    Raises
    ------
    GlobusRequestError
        When ``offset + limit`` is above :data:`~hub.service.globus.models.MAX_RESULTS`.
    """
    if offset + limit > MAX_RESULTS:
        raise GlobusRequestError(
            f"offset + limit may be at most {MAX_RESULTS}; you requested offset={offset}, limit={limit}. "
            "Narrow the query (MDF Forge's aggregate() does this for you) or use the scroll API"
        )


def queries(
    index: GlobusIndex, q: str, filters: Sequence[GFilter], post_facet_filters: Sequence[GFilter] = ()
) -> tuple[str, str]:
    """The query for the facet counts and the query for the results, as a pair.

    The facet query holds the filters that precede facet counting (``post_filter``
    false); the result query every filter, ``post_facet_filters`` included.  In the MDF
    index both read dataset entries at ``mdf.scroll_id`` 0 (:mod:`.scrollid`).
    """
    pre = [f for f in filters if not f.is_post_filter]
    post = [f for f in filters if f.is_post_filter] + list(post_facet_filters)
    facet_q = with_filters(q, pre)
    result_q = with_filters(facet_q, post)
    if index.kind == "mdf":
        facet_q, result_q = scrollid.datasets_at_zero(facet_q), scrollid.datasets_at_zero(result_q)
    return facet_q, result_q


def check_limits(limits: RequestLimits, q: str | None, facets: Sequence[Any] = ()) -> None:
    """Check a request's query and facets against the service's limits, before any search.

    The query as sent (its length, clauses, patterns, depth), how many facets, their
    sizes, and the buckets of its numeric histograms (each one count) in all.

    Raises
    ------
    QueryError
        Past a limit, naming it.
    """
    limits.query(q or "*")
    limits.facet_count(len(facets))
    for f in facets:
        if isinstance(f, TermsFacet):
            limits.facet_size(f.size)
    limits.histogram_buckets(sum(f.size for f in facets if isinstance(f, NumericHistogramFacet)))


def run_search(
    hub: EmbeddedHub, index: GlobusIndex, body: GSearchRequest, base_url: str, limits: RequestLimits
) -> dict[str, Any]:
    """The GSearchResult of ``body`` over ``index``, as ``hub`` sees it, within ``limits``."""
    check_limits(limits, body.q, body.facets)
    check_window(body.limit, body.offset)
    if body.bypass_visible_to:
        require(
            hub.principal,
            Action.ADMINISTER,
            Resource(Kind.HUB),
            "bypass_visible_to is allowed for index admins only",
        )
    q = user_query(body.q, body.advanced)
    facet_q, result_q = queries(index, q, body.filters, body.post_facet_filters)
    limits.derived_query(result_q)
    sort = sort_keys(body.sort)
    page = subjects.page(
        hub,
        result_q,
        kinds=index.kinds,
        limit=body.limit,
        offset=body.offset,
        sort=sort,
        grouped=index.kind == "mdf",
    )
    count = len(page.subjects)
    version = body.result_format_version or RESULT_VERSION
    result: dict[str, Any] = {
        "@datatype": "GSearchResult",
        "@version": "2017-09-01",
        "gmeta": [s.to_gmeta(base_url, version) for s in page.subjects],
        "total": page.total,
        "count": count,
        "offset": body.offset,
        "has_next_page": body.offset + count < min(page.total, MAX_RESULTS),
    }
    if body.facets:
        result["facet_results"] = facet_results(hub, facet_q, body.facets, index.kinds)
    return result
