"""What a search returns."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from intake.readers.entry import Catalog as IntakeCatalog

    from hub.api import HubAPI


@dataclass
class Hit:
    """One document a search found.

    Attributes
    ----------
    id : str
        The document's id (a dataset's ``source_id``, a record's ``record_id``, a servable's id).
    kind : str
        ``dataset``, ``record`` or ``servable``.
    score : float or None
        The relevance score; None when the hits are sorted or scrolled.
    document : dict
        The indexed document; ``hit["mdf"]`` reads a key of it.
    """

    id: str
    kind: str
    score: float | None
    document: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.document[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The document's ``key``, or ``default`` when it has none."""
        return self.document.get(key, default)


@dataclass
class SearchResult:
    """``total`` (exact), ``hits`` (this page), ``facets`` (on the whole, access-filtered result).

    ``warnings`` names the fields the search asked about that no document the caller may see
    has, each a dict of ``field``, ``where`` (query, filters, facets, sort), ``did_you_mean``
    and ``message`` (:mod:`hub.index.unknown_fields`): a mistyped field finds nothing, and
    says so.
    """

    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, Any]] = field(default_factory=dict)
    offset: int = 0
    limit: int = 10
    hub: HubAPI | None = field(default=None, repr=False, compare=False)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    @property
    def documents(self) -> list[dict[str, Any]]:
        """The documents of this page's hits."""
        return [h.document for h in self.hits]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per hit, columns are the documents' dotted paths (lists kept as lists)."""
        import pandas as pd

        rows = []
        for h in self.hits:
            row: dict[str, Any] = {"id": h.id, "kind": h.kind, "score": h.score}
            row.update(_flatten(h.document))
            rows.append(row)
        return pd.DataFrame(rows)

    def to_catalog(self, hub: HubAPI | None = None) -> IntakeCatalog:
        """An intake catalog of this result, made by ``hub`` (else the hub that searched).

        One entry per dataset of the hits, and ``hits`` (this page's record hits as a
        DataFrame).

        Raises
        ------
        ValueError
            When no ``hub`` is given and the result does not know its hub.
        """
        owner = hub if hub is not None else self.hub
        if owner is None:
            raise ValueError("this result does not know its hub; call result.to_catalog(hub)")
        return owner.catalog(self)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data: query, total, page, hits and facets."""
        return {
            "query": self.query,
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "hits": [
                {"id": h.id, "kind": h.kind, "score": h.score, "document": h.document} for h in self.hits
            ],
            "facets": self.facets,
            "warnings": self.warnings,
        }

    def __repr__(self) -> str:
        return f"<SearchResult {self.query!r}: {self.total} total, {len(self.hits)} hits, facets={list(self.facets)}>"


def files_by_dataset(items: Iterable[Hit | dict[str, Any]]) -> dict[str, set[str]]:
    """The files of hits or records, by dataset version: ``{source_id: {paths}}``.

    A dataset hit stands for all its files: an empty set.
    """
    wanted: dict[str, set[str]] = {}
    for item in items:
        doc = item.document if isinstance(item, Hit) else item
        mdf = doc.get("mdf") or {}
        if mdf.get("resource_type") == "dataset":
            wanted.setdefault(mdf["source_id"], set())
            continue
        for f in doc.get("files") or []:
            wanted.setdefault(mdf["source_id"], set()).add(f["path"])
    return wanted


def _flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
    elif isinstance(doc, list) and doc and all(isinstance(x, dict) for x in doc) and len(doc) == 1:
        out.update(_flatten(doc[0], prefix))
    else:
        out[prefix] = doc
    return out
