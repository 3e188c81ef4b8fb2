"""The search index as a dispatch hook of Connect (:mod:`hub.connect.dispatch`).

Before a catalog transaction changes a dataset name, the hook writes a note in the
index journal (:class:`~hub.index.journal.IndexJournal`); once the transaction
committed it syncs that name from the catalog and drops the note.  A sync that fails
marks the index stale (the next open rebuilds it from the catalog) and warns: the
catalog is the truth and the index is derived, so the dataset is never lost.  A
process killed in between leaves the note, and the next open syncs the name
(:meth:`~hub.index.journal.IndexJournal.recover`).
"""

from __future__ import annotations

import warnings

from hub.db.database import Database
from hub.index.engine import SearchIndex
from hub.index.journal import IndexJournal
from hub.index.sync import sync_name


class IndexHook:
    """Keeps one search index in step with one catalog, change by change.

    Parameters
    ----------
    catalog
        The catalog the index is derived from.
    index
        The search index.
    journal
        The index's write-ahead notes.
    """

    def __init__(self, catalog: Database, index: SearchIndex, journal: IndexJournal) -> None:
        self.catalog = catalog
        self.index = index
        self.journal = journal

    def prepare(self, source_name: str) -> None:
        """Note that ``source_name`` is about to change in the catalog."""
        self.journal.begin(source_name)

    def dispatch(self, source_name: str) -> None:
        """Sync ``source_name`` from the catalog; on failure mark the index stale and warn.

        A read-only index (``index.handoff``) asks its writer process to sync it and waits.
        """
        try:
            if self.index.handoff is None:
                sync_name(self.catalog, self.index, source_name)
            elif not self.index.handoff.request("dataset", source_name):
                raise TimeoutError("the index writer did not answer")
        except Exception as exc:  # the catalog is the truth; the index can be rebuilt
            self.index.mark_stale(f"indexing {source_name} failed: {exc!r}")
            warnings.warn(
                f"the search index could not be updated for {source_name} ({exc!r}); it will be rebuilt "
                "from the catalog when the hub is next opened (or run `matterhub index rebuild`)",
                RuntimeWarning,
                stacklevel=2,
            )
        self.journal.end(source_name)

    def abandon(self, source_name: str) -> None:
        """Nothing changed after all: drop the note."""
        self.journal.end(source_name)

    def __repr__(self) -> str:
        """Name the index folder (in the warning of a failed hook)."""
        return f"<IndexHook {self.index.path}>"
