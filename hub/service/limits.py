"""What one request may ask of the service: the size of its queries, facets and filters.

The body's own limits (its size, its nesting) are :mod:`hub.service.bodylimit`'s; these
are checked on the decoded request, before the search they bound starts.  Each limit
is a setting of :class:`~hub.service.settings.ServiceSettings`; a request past one is
a 400 that names it.

    @router.post("/search")
    async def search(body: SearchRequest, hub: CallerHub, limits: Limits): ...
        limits.search(body.q, body.facets, body.filters)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, Request

from hub.exceptions import QueryError
from hub.index.limits import check_query
from hub.service.settings import ServiceSettings

#: How many buckets a histogram facet without ``buckets`` asks for (the engine's default).
DEFAULT_BUCKETS = 10


@dataclass(frozen=True)
class RequestLimits:
    """The checks of one service's request limits."""

    settings: ServiceSettings

    def query(self, q: str) -> None:
        """Check one query (``max_query_length``, ``_clauses``, ``_patterns``, ``_depth``).

        Raises
        ------
        QueryError
            Past a limit, naming it.
        """
        check_query(q, self.settings.query_limits)

    def derived_query(self, q: str) -> None:
        """Check a query the service wrote from a request (an OPTIMADE filter's translation).

        Its length is not limited (the request's was); its clauses, patterns and depth are.
        """
        check_query(q, replace(self.settings.query_limits, max_length=len(q)))

    def length(self, text: str, what: str) -> None:
        """Check that ``text`` (an OPTIMADE filter) is at most ``max_query_length`` characters."""
        most = self.settings.max_query_length
        if len(text) > most:
            raise QueryError(
                f"the {what} is {len(text):,} characters long; this service takes at most {most:,}",
                hint=f"split the {what} into several requests",
            )

    def facets(self, facets: Sequence[str | dict[str, Any]]) -> None:
        """Check the facets of one search: how many, their sizes and their histogram buckets.

        Raises
        ------
        QueryError
            More than ``max_facets``, a terms facet above ``max_facet_size``, or more
            than ``max_histogram_buckets`` buckets over all histograms without an interval.
        """
        self.facet_count(len(facets))
        buckets = 0
        for spec in facets:
            if not isinstance(spec, dict):
                continue
            if _whole(spec.get("size")):
                self.facet_size(spec["size"])
            if spec.get("type") in ("histogram", "date_histogram") and spec.get("interval") is None:
                n = spec.get("buckets", DEFAULT_BUCKETS)
                buckets += n if _whole(n) else 0
        self.histogram_buckets(buckets)

    def facet_count(self, n: int) -> None:
        """Check that one search asks for at most ``max_facets`` facets."""
        most = self.settings.max_facets
        if n > most:
            raise QueryError(
                f"the search asks for {n:,} facets; this service computes at most {most}",
                hint="ask for fewer facets at once",
            )

    def facet_size(self, n: int) -> None:
        """Check that a terms facet asks for at most ``max_facet_size`` values."""
        most = self.settings.max_facet_size
        if n > most:
            raise QueryError(f"a terms facet gives at most {most:,} values on this service; got {n:,}")

    def histogram_buckets(self, n: int) -> None:
        """Check that one search asks for at most ``max_histogram_buckets`` histogram buckets."""
        most = self.settings.max_histogram_buckets
        if n > most:
            raise QueryError(
                f"the search asks for {n:,} histogram buckets; this service counts at most {most:,} "
                "per search",
                hint="ask for fewer buckets (or fewer histograms) at once",
            )

    def filters(self, filters: Mapping[str, Any] | None) -> None:
        """Check drill-down filters: at most ``max_query_clauses`` values in all."""
        if not filters:
            return
        values = sum(len(v) if isinstance(v, list) else 1 for v in filters.values())
        self.clauses(values, "filter values")

    def clauses(self, n: int, what: str) -> None:
        """Check ``n`` clauses a request asks for besides its query (filter values)."""
        most = self.settings.max_query_clauses
        if n > most:
            raise QueryError(
                f"the request holds {n:,} {what}; this service takes at most {most:,}",
                hint="filter on fewer values at once",
            )

    def search(
        self, q: str, facets: Sequence[str | dict[str, Any]] = (), filters: Mapping[str, Any] | None = None
    ) -> None:
        """:meth:`query`, :meth:`facets` and :meth:`filters` of one search."""
        self.query(q)
        self.facets(facets)
        self.filters(filters)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def request_limits(request: Request) -> RequestLimits:
    """The limits of the service answering ``request`` (a FastAPI dependency)."""
    settings: ServiceSettings = request.app.state.settings
    return RequestLimits(settings)


Limits = Annotated[RequestLimits, Depends(request_limits)]
