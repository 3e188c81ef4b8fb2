"""Searching the hub's structures with an OPTIMADE filter.

What :meth:`Hub.optimade_search` and the ``/optimade/v1/structures`` endpoint share:
the filter is translated (:mod:`.translate`) and run by ``hub.search`` as the hub's
principal, so totals, hits and pages see exactly what that principal may see; every
hit becomes an OPTIMADE resource (:mod:`.structures`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hub.exceptions import NotFoundError
from hub.optimade.errors import FilterError, PageLimitError
from hub.optimade.properties import PROPERTIES
from hub.optimade.results import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, StructureResults
from hub.optimade.structures import response_field_names, to_resource
from hub.optimade.translate import STRUCTURE_QUERY, translate

if TYPE_CHECKING:
    from hub.api import HubAPI


def sort_path(sort: str | None) -> str | None:
    """The hub's ``sort`` for an OPTIMADE ``sort`` (``nsites``, ``-last_modified``)."""
    if sort is None or not sort.strip():
        return None
    keys = [k.strip() for k in sort.split(",") if k.strip()]
    sortable = sorted(p.name for p in PROPERTIES.values() if p.sortable)
    if len(keys) > 1:
        raise FilterError(
            f"sort by one field at a time; got {sort!r}", hint=f"sortable fields: {', '.join(sortable)}"
        )
    name = keys[0].removeprefix("-")
    prop = PROPERTIES.get(name)
    if prop is None or not prop.sortable or prop.path is None:
        raise FilterError(
            f"cannot sort by {name!r}", hint=f"sortable fields: {', '.join(sortable)} (-name for descending)"
        )
    return ("-" if keys[0].startswith("-") else "") + prop.path


def check_page(limit: Any, offset: Any) -> tuple[int, int]:
    """``(limit, offset)`` as whole numbers in range, or the error the specification asks for."""
    for name, value in (("page_limit", limit), ("page_offset", offset)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FilterError(f"{name} must be a whole number >= 0; got {value!r}")
    if limit > MAX_PAGE_LIMIT:
        raise PageLimitError(f"Max allowed page_limit is {MAX_PAGE_LIMIT}, you requested {limit}")
    return int(limit), int(offset)


def search_structures(
    hub: HubAPI,
    filter: str = "",
    *,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
    sort: str | None = None,
    response_fields: str | Iterable[str] | None = None,
) -> StructureResults:
    """The structures ``hub`` finds for an OPTIMADE ``filter``: one page of ``limit`` from ``offset``.

    The search runs as ``hub``'s principal (a :class:`~hub.api.HubAPI`), with its access
    rules.  An empty filter matches every structure record.

    Raises
    ------
    FilterError
        (400) a malformed filter, an unknown property, a bad page or sort.
    NotImplementedFilter
        (501) an OPTIONAL filter feature the hub does not implement.
    PageLimitError
        (403) ``limit`` above :data:`MAX_PAGE_LIMIT`.
    """
    limit, offset = check_page(limit, offset)
    translation = translate(filter or "")
    hub_sort = sort_path(sort)
    fields = response_field_names(response_fields)
    warnings = list(translation.warnings)
    if translation.query is None:
        return StructureResults(filter, None, 0, offset, limit, [], warnings)
    result = hub.search(translation.query, limit=limit, offset=offset, sort=hub_sort)
    structures = [r for r in (to_resource(h.document, fields) for h in result.hits) if r is not None]
    return StructureResults(filter, translation.query, result.total, offset, limit, structures, warnings)


def get_structure(
    hub: HubAPI, entry_id: str, response_fields: str | Iterable[str] | None = None
) -> dict[str, Any] | None:
    """The structure resource of record ``entry_id``, or None.

    None when there is none the hub's principal may see: a missing record, a hidden one
    and one without a structure look the same.  ``response_fields`` limits the
    attributes (None for all).
    """
    try:
        record = hub.record(entry_id)
    except NotFoundError:
        return None
    return to_resource(record, response_field_names(response_fields))


def count_structures(hub: HubAPI) -> int:
    """How many structures the hub's principal may see (OPTIMADE's ``data_available``)."""
    return int(hub.search(STRUCTURE_QUERY, limit=0).total)


__all__ = [
    "DEFAULT_PAGE_LIMIT",
    "MAX_PAGE_LIMIT",
    "StructureResults",
    "check_page",
    "count_structures",
    "get_structure",
    "search_structures",
    "sort_path",
]
