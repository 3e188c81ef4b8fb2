"""The errors of an OPTIMADE search, in the hub's one hierarchy (:mod:`hub.exceptions`).

The search from Python and the endpoint raise the same ones.  Each carries the HTTP
status the OPTIMADE specification asks for, without importing the web framework: 400
for a filter that is malformed or names an unknown property, 501 for an OPTIONAL
feature the hub does not implement (and for comparisons of values of different types),
403 for a ``page_limit`` above the maximum.
"""

from __future__ import annotations

from hub.exceptions import QueryError


class FilterError(QueryError):
    """A filter that is malformed, or names a property the hub does not know (400)."""

    title = "Bad Request"


class NotImplementedFilter(QueryError):
    """A filter using an OPTIONAL feature the hub does not implement (501)."""

    status_code = 501
    title = "Not Implemented"


class PageLimitError(QueryError):
    """A ``page_limit`` above the maximum (403, as the OPTIMADE specification asks)."""

    status_code = 403
    title = "Forbidden"
