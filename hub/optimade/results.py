"""What an OPTIMADE search returns in Python, embedded or remote.

:class:`StructureResults` is one page of structures; the remote client builds it from
a ``/optimade/v1/structures`` response (:meth:`StructureResults.from_response`,
:func:`structure_params`, :func:`raise_for_optimade`), the embedded hub from its own
search.  Nothing here needs the ``optimade`` package.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.exceptions import AuthenticationError, HubError, NotFoundError
from hub.optimade.errors import FilterError, NotImplementedFilter, PageLimitError
from hub.optimade.structures import to_atoms

if TYPE_CHECKING:
    import httpx
    from ase import Atoms

DEFAULT_PAGE_LIMIT = 20
MAX_PAGE_LIMIT = 1000
_ERRORS: dict[int, type[HubError]] = {
    400: FilterError,
    401: AuthenticationError,
    403: PageLimitError,
    404: NotFoundError,
    501: NotImplementedFilter,
}


@dataclass
class StructureResults:
    """One page of structures matching an OPTIMADE filter.

    ``total`` is the number of matches (``meta.data_returned``), ``structures`` this
    page's OPTIMADE resources (``{"id", "type", "attributes"}``), ``query`` the hub
    query the filter became (None when it matches nothing, or when a remote hub
    translated it), ``warnings`` what the endpoint reports in ``meta.warnings``.
    """

    filter: str
    query: str | None
    total: int
    offset: int
    limit: int
    structures: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)

    @property
    def more(self) -> bool:
        """Whether pages follow this one (``meta.more_data_available``)."""
        return self.offset + len(self.structures) < self.total

    @property
    def ids(self) -> list[str]:
        """The record ids of this page's structures, in order."""
        return [s["id"] for s in self.structures]

    def __len__(self) -> int:
        return len(self.structures)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.structures)

    def to_atoms(self) -> list[Atoms]:
        """The page's structures as :class:`ase.Atoms`.

        Each needs its per-site data (see :func:`~hub.optimade.structures.to_atoms`).

        Raises
        ------
        ValueError
            When a structure has no ``species_at_sites`` or ``cartesian_site_positions``.
        """
        return [to_atoms(s) for s in self.structures]

    @classmethod
    def from_response(cls, body: dict[str, Any], filter: str, offset: int, limit: int) -> StructureResults:
        """From the JSON of a ``structures`` response (what the remote client receives)."""
        meta = body.get("meta") or {}
        return cls(
            filter=filter,
            query=None,
            total=int(meta.get("data_returned") or 0),
            offset=offset,
            limit=limit,
            structures=list(body.get("data") or []),
            warnings=[str(w.get("detail", "")) for w in meta.get("warnings") or []],
        )


def structure_params(
    filter: str,
    *,
    limit: int,
    offset: int,
    sort: str | None = None,
    response_fields: str | Iterable[str] | None = None,
) -> dict[str, Any]:
    """The query parameters of a ``structures`` request."""
    params: dict[str, Any] = {"filter": filter, "page_limit": limit, "page_offset": offset}
    if sort:
        params["sort"] = sort
    if response_fields is not None:
        names = response_fields if isinstance(response_fields, str) else ",".join(response_fields)
        params["response_fields"] = names
    return params


def raise_for_optimade(response: httpx.Response) -> None:
    """Raise the hub's error for an OPTIMADE error response (its ``errors[0].detail``)."""
    if response.is_success:
        return
    try:
        errors = response.json().get("errors") or [{}]
        detail = str(errors[0].get("detail") or response.text)
    except ValueError:
        detail = response.text or response.reason_phrase
    error = _ERRORS.get(response.status_code)
    if error is None:
        raise HubError(f"the OPTIMADE endpoint answered {response.status_code}: {detail}")
    raise error(detail)
