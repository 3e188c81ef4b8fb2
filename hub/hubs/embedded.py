""":class:`EmbeddedHub`: the hub in this process (``Hub(folder)`` opens it).

``Hub()`` opens (or creates) the embedded hub in ``$MATTERHUB_HOME`` (default
``~/.matterhub``): an SQLite catalog, a blob store and a staging area in one
folder, nothing to start.  ``Hub(path, user="alice", groups=["lab"])`` acts as
that principal; with no ``user`` the embedded hub acts as its local owner, who
administers it.  ``Hub("http://host:port", token=...)`` is the client of a hub
service (:class:`hub.hubs.remote.RemoteHub`).  Both implement :class:`hub.api.HubAPI`.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, overload

from tqdm.auto import tqdm

from hub.access import Action, Kind, Principal, Resource, require
from hub.access.identities import Identities
from hub.access.paths import ServerPaths, shows_paths
from hub.api import (
    FILE_FIELDS,
    PROTOCOL,
    Dataset,
    FileLocation,
    HubImplementation,
    HubInfo,
    OpenOptions,
    hub_reference,
    load_manifest,
)
from hub.config import HubConfig
from hub.connect.archives import ArchiveLimits
from hub.connect.connect import Connect, require_curator
from hub.connect.origin import require_local_source
from hub.connect.reference import read_options, source_errors
from hub.connect.request import make_request
from hub.connect.submission import Submission
from hub.db.database import Database
from hub.db.models import DatasetRow, FileRow
from hub.exceptions import HubError, NotFoundError, ServableRunError
from hub.extractors.registry import extractor_classes
from hub.index.engine import SearchIndex
from hub.index.handoff import IndexHandoff
from hub.index.hook import IndexHook
from hub.index.journal import IndexJournal
from hub.index.results import Hit, SearchResult, files_by_dataset
from hub.index.sync import rebuild
from hub.store.blobs import BlobStore
from hub.store.remote import Reference, copy_reference, open_reference, reference_intact

if TYPE_CHECKING:
    from intake.readers.entry import Catalog as IntakeCatalog

    from hub.access.transfer import Transferred
    from hub.access.users import Users
    from hub.optimade.results import StructureResults
    from hub.pipelines.describe import Step
    from hub.pipelines.trace import RunTrace
    from hub.servables.description import ServableDescription
    from hub.servables.executors import Executor
    from hub.servables.parts import ServableParts
    from hub.servables.published import PublishedServable
    from hub.servables.tasks import Task


#: What :meth:`Hub.search` and :meth:`Hub.scroll` find unless told otherwise (servables are
#: searched with :meth:`Hub.servables`).
DATA_KINDS = ("dataset", "record")


class EmbeddedHub(HubImplementation):
    """A materials data hub, embedded in this process (open it with :func:`hub.api.Hub`).

    Parameters
    ----------
    location
        The hub folder (default ``$MATTERHUB_HOME`` or ``~/.matterhub``).
    user, groups
        The principal to act as (the user bearing that name now: its id is made the
        first time the name is used).  Without ``user``, the local owner (an admin).
    token
        Act as the user a token of this hub stands for (what the hub service does).
    progress
        Show tqdm progress bars for long work.
    catalog, store
        Override the catalog URL (e.g. ``postgresql+psycopg://...``) and the blob
        store URL (any fsspec URL); saved in the hub's ``config.json``.
    archive_limits
        The limits on archives a submission unpacks.
    executor
        Where servables run (see :mod:`hub.servables.executors`); default
        ``$MATTERHUB_EXECUTOR`` or the process-wide local pool.  ``matterhub serve``
        gives a pool of contained workers (:mod:`hub.servables.containment`).
    servable_publishers
        Who may publish servables (ACL entries such as ``group:servable-publishers``;
        admins always may); None (the default) lets every signed-in user publish.
    index_handoff
        Open the search index read-only and hand its changes to the index writer, another
        process of the same service (``matterhub serve --workers N``; :mod:`hub.index.handoff`).
    """

    #: Locations this implementation opens: hub folders (paths and ``file://`` URLs).
    schemes = ("", "file")

    @classmethod
    def from_location(cls, location: str | os.PathLike[str] | None, options: OpenOptions) -> EmbeddedHub:
        """The embedded hub in the folder ``location`` (see :func:`hub.api.Hub`)."""
        options.refuse(("timeout",), "an embedded hub makes no HTTP requests")
        folder = location.removeprefix("file://") if isinstance(location, str) else location
        return cls(
            folder,
            user=options.user,
            groups=options.groups,
            token=options.token,
            progress=options.progress,
            catalog=options.catalog,
            store=options.store,
            archive_limits=options.archive_limits,
        )

    def __init__(
        self,
        location: str | os.PathLike[str] | None = None,
        *,
        user: str | None = None,
        groups: list[str] | None = None,
        token: str | None = None,
        progress: bool = True,
        catalog: str | None = None,
        store: str | None = None,
        archive_limits: ArchiveLimits | None = None,
        executor: Executor | None = None,
        servable_publishers: Iterable[str] | None = None,
        index_handoff: IndexHandoff | None = None,
    ) -> None:
        self.config = HubConfig.load(location, catalog=catalog, store=store)
        self._executor = executor
        self._publishers = None if servable_publishers is None else frozenset(servable_publishers)
        self.progress = progress
        self._catalog = Database(self.config.catalog)
        if token is not None:
            from hub.access.users import Users

            self.principal = Users(self._catalog).authenticate(token)
        else:
            named = Principal(user, frozenset(groups or ())) if user else Principal.local()
            self.principal = Identities(self._catalog).resolve(named)
        self._store = BlobStore(self.config.store)
        self._paths = ServerPaths.of(self.config)
        self._limits = archive_limits or ArchiveLimits()
        self._index = SearchIndex(self.config.index, index_handoff)
        self._journal = IndexJournal(self.config.index)
        self._servable_parts: ServableParts | None = None
        self._root: EmbeddedHub = self
        self._lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None
        self._recover_interrupted()
        if index_handoff is None:  # else the writer process rebuilds and recovers
            if self._index.needs_rebuild and self._catalog.counts()["datasets"]:
                self._rebuild_index()
            self.recover_index()

    # -- lifecycle -------------------------------------------------------------

    @property
    def home(self) -> Path:
        """The hub's folder (its configuration's ``home``)."""
        return self.config.home

    def acting_as(self, principal: Principal) -> EmbeddedHub:
        """A view of this hub as ``principal``, sharing its catalog, store, index and workers.

        Cheap (no database is opened): the hub service makes one per request.
        Closing a view does nothing; close the hub it came from.
        """
        view = copy.copy(self)
        view.principal = principal
        view._servable_parts = None
        view._root = self._root
        return view

    @property
    def users(self) -> Users:
        """Users, groups and tokens (used by the hub service; admins manage them)."""
        from hub.access.users import Users

        return Users(self._catalog, on_transfer=self._follow_transfer)

    def _follow_transfer(self, moved: Transferred) -> None:
        """Index again what a deleted user's transfer changed (their owner and ACL entries)."""
        hook = self._index_hook()
        for name in moved.source_names:
            hook.dispatch(name)
        for servable_id in moved.servable_ids:
            self._servables.registry.sync_index(servable_id)

    def close(self) -> None:
        """Wait for running submissions, stop the workers and close the catalog.

        Submissions still running on this hub's threads finish first.  A view from
        :meth:`acting_as` closes nothing.
        """
        if self._root is not self:
            return
        if self._threads is not None:
            self._threads.shutdown(wait=True)
        if self._servable_parts is not None:
            self._servable_parts.close()
        self._catalog.close()

    def __enter__(self) -> EmbeddedHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Hub {self.home} as {self.principal.name}>"

    def _connect(self, progress: bool | Callable[[Submission], None] | None = None) -> Connect:
        """Connect as this hub's principal; the search index follows every change as a dispatch hook."""
        return Connect(
            self._catalog,
            self._store,
            self._paths,
            self.principal,
            limits=self._limits,
            progress=self.progress if progress is None else progress,
            hooks=[self._index_hook()],
        )

    def _index_hook(self) -> IndexHook:
        return IndexHook(self._catalog, self._index, self._journal)

    def recover_index(self) -> list[str]:
        """Sync the datasets killed processes changed in the catalog but not in the index; the names.

        Their journal notes name them.  Opening the hub does it; the index writer of
        ``matterhub serve --workers N`` also does it periodically.
        """
        return self._journal.recover(self._index_hook().dispatch)

    def after_index_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after each commit this process makes to the search index.

        The index writer of ``matterhub serve --workers N`` announces them to the API processes.
        """
        self._index.after_commit(callback)

    def apply_index_change(self, kind: str, key: str = "") -> None:
        """Bring the search index in step with the catalog for one change.

        The index writer's side of :mod:`hub.index.handoff`: ``kind`` is ``dataset`` (``key``
        a name), ``servable`` (an id), ``servables`` (every servable) or ``rebuild`` (everything).

        Raises
        ------
        ValueError
            For another ``kind``.
        """
        if kind == "dataset":
            self._index_hook().dispatch(key)
        elif kind == "servable":
            self._servables.registry.sync_index(key)
        elif kind == "servables":
            self._servables.registry.reindex()
        elif kind == "rebuild":
            self._rebuild_index()
        else:
            raise ValueError(f"unknown index change {kind!r}: dataset, servable, servables or rebuild")

    def _recover_interrupted(self) -> None:
        """Mark submissions whose process died on this host as interrupted (they can be retried)."""
        self._connect(False).recover_interrupted()

    # -- Connect -----------------------------------------------------------------

    def submit(
        self,
        source: str | os.PathLike[str],
        title: str,
        authors: Sequence[str | dict[str, Any]],
        *,
        mapping: dict[str, str] | None = None,
        partial: bool = False,
        visible_to: list[str] | None = None,
        curate: bool = False,
        source_name: str | None = None,
        group: str | None = None,
        filter: str | None = None,
        copy: bool = True,
        progress: bool | Callable[[Submission], None] | None = None,
        wait: bool = True,
        **metadata: Any,
    ) -> Submission:
        """Collect, extract, merge, validate, (curate) and publish a dataset.

        ``source`` is a file, a folder, a zip/tar archive or any fsspec URL.
        ``source_name`` (default: from the title) is claimed by the first submission
        under it, for its submitter or for ``group`` (one of theirs); a name that belongs
        to someone else is refused at once (:class:`~hub.exceptions.NameNotAvailableError`).
        Extra keyword arguments are dataset metadata: ``description``,
        ``affiliations``, ``license``, ``related_dois``, ``subjects``, ``tags``,
        ``organizations``, ``custom`` (up to 10 searchable fields), ``extractors``
        (names to use), or any DataCite field (``publicationYear``, ...).

        ``copy=False`` publishes by reference: the files stay at ``source`` (any fsspec URL
        or a local path) and the hub keeps each one's sha256, size and URL; reads go to the
        source and check the sha256 (:mod:`hub.connect.reference`).

        ``progress``: show tqdm bars, or a callable given the submission each time a step
        is saved (a widget's progress bar).

        ``optimade+https://provider/`` harvests an OPTIMADE provider's structures
        (:mod:`hub.connect.harvest`), those matching ``filter`` when given; harvesting the
        same provider again takes only what changed, and makes no version when nothing did.

        Returns when the submission has finished; ``sub.status`` is
        ``complete`` (published), ``pending_curation``, or ``failed`` with
        ``sub.message``; ``sub.errors`` lists every file that failed.  ``wait=False``
        returns the new submission at once and runs it on a thread of this hub (poll
        :meth:`submission`; :meth:`close` waits for it; a process that exits first leaves
        it ``interrupted``, to :meth:`retry`).
        """
        request = make_request(
            title=title,
            authors=authors,
            mapping=mapping,
            partial=partial,
            visible_to=visible_to,
            curate=curate,
            source_name=source_name,
            group=group,
            filter=filter,
            by_reference=not copy,
            **metadata,
        )
        require_local_source(os.fspath(source))
        if wait:
            return self._connect(progress).submit(os.fspath(source), request)
        sub = self._connect(False).enqueue(os.fspath(source), request)
        self._root._background().submit(self._connect(False).process, sub.id)
        return sub

    def _background(self) -> ThreadPoolExecutor:
        """The threads that run submissions made with ``wait=False`` (created on first use)."""
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(2, thread_name_prefix="matterhub-submit")
            return self._threads

    def enqueue(
        self,
        source: str | os.PathLike[str],
        title: str,
        authors: Sequence[str | dict[str, Any]],
        *,
        mapping: dict[str, str] | None = None,
        partial: bool = False,
        visible_to: list[str] | None = None,
        curate: bool = False,
        source_name: str | None = None,
        group: str | None = None,
        copy: bool = True,
        **metadata: Any,
    ) -> Submission:
        """Record a submission as ``queued`` without running it.

        The hub service's worker runs it with :meth:`process`; the metadata is validated
        and the name claimed now, so a bad request fails at once.
        """
        request = make_request(
            title=title,
            authors=authors,
            mapping=mapping,
            partial=partial,
            visible_to=visible_to,
            curate=curate,
            source_name=source_name,
            group=group,
            by_reference=not copy,
            **metadata,
        )
        return self._connect(False).enqueue(os.fspath(source), request)

    def requeue(self, submission_id: str) -> Submission:
        """Put a failed or interrupted submission back in the queue (the service's retry)."""
        return self._connect(False).requeue(submission_id)

    def process(self, submission_id: str, progress: bool | None = None) -> Submission:
        """Run a queued (or interrupted) submission you may see, as its owner."""
        return self._owner_of(submission_id)._connect(progress).process(submission_id)

    def retry(self, submission_id: str, progress: bool | None = None) -> Submission:
        """Run a failed or interrupted submission you may see again, as its owner, with the same source and metadata."""
        return self._owner_of(submission_id)._connect(progress).retry(submission_id)

    def _owner_of(self, submission_id: str) -> EmbeddedHub:
        """A view of this hub as the owner of a submission you may see, with the groups the catalog gives them now.

        A deleted user's submission runs as their deleted id (with no groups).
        """
        from hub.access.users import Users

        row = self._catalog.submission(submission_id, self.principal)
        return self.acting_as(Users(self._catalog).principal(row.owner))

    def submission(self, submission_id: str) -> Submission:
        """One of your submissions (curators: anyone's); only admins see the hub's own paths in it."""
        return self._connect(False).submission(submission_id)

    def submissions(self, status: str | None = None) -> list[Submission]:
        """Your submissions (curators: everyone's), optionally of one status; only admins see the hub's own paths in them."""
        return self._connect(False).submissions(status)

    # -- curation ----------------------------------------------------------------

    def pending_curation(self) -> list[Submission]:
        """Submissions waiting for a curator (curators only)."""
        require_curator(self.principal)
        return self.submissions(status="pending_curation")

    def curate(self, submission_id: str, accept: bool, reason: str = "") -> Submission:
        """Accept (publish) or reject a submission waiting in ``pending_curation``."""
        return self._connect(False).curate(submission_id, accept, reason)

    # -- Publish: versions -------------------------------------------------------

    def update_metadata(self, dataset: str, **changes: Any) -> Dataset:
        """A new version with changed metadata and the same files (no blob is copied).

        ``changes`` are the metadata keywords of :meth:`submit` (``title``,
        ``authors``, ``description``, ``visible_to``, ``custom``, DataCite fields, ...).
        """
        return self.dataset(self._connect(False).update_metadata(dataset, **changes))

    # -- reading -------------------------------------------------------------------

    def datasets(self, *, all_versions: bool = False, source_name: str | None = None) -> list[Dataset]:
        """The datasets you may see (latest version of each unless ``all_versions``)."""
        rows = self._catalog.datasets(self.principal, all_versions=all_versions, source_name=source_name)
        owners = Identities(self._catalog).names(r.owner for r in rows)
        return [self._dataset(r, owners[r.owner]) for r in rows]

    def dataset(self, ident: str) -> Dataset:
        """A dataset by source_id (``name_v2``) or by source_name (its latest published version)."""
        row = self._catalog.dataset(self.principal, ident)
        return self._dataset(row, Identities(self._catalog).name(row.owner))

    def _dataset(self, row: DatasetRow, owner: str) -> Dataset:
        """``row`` as a :class:`~hub.api.Dataset`; ``owner`` is the name its owner's id shows as."""
        return Dataset(
            self,
            {
                "source_id": row.source_id,
                "source_name": row.source_name,
                "version": row.version,
                "status": row.status,
                "owner": owner,
                "title": row.title,
                "metadata": row.document,
                "files": row.n_files,
                "records": row.n_records,
                "total_size": row.total_size,
                "root_hash": row.root_hash,
            },
        )

    def files(self, source_id: str) -> list[dict[str, Any]]:
        """The files of a version: path, filename, sha256, length, mime_type, data_type."""
        ds = self._catalog.dataset(self.principal, source_id)
        return [_file_fields(f) for f in self._catalog.files(self.principal, ds.source_id)]

    def records(self, source_id: str, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """The records of a version (a page with ``offset`` and ``limit``)."""
        ds = self._catalog.dataset(self.principal, source_id)
        return self._catalog.records(self.principal, ds.source_id, offset=offset, limit=limit)

    def manifest(self, source_id: str) -> dict[str, Any]:
        """A version's manifest: paths, sizes, sha256 and the root hash ({} if none)."""
        ds = self._catalog.dataset(self.principal, source_id)
        sha = (ds.document.get("data") or {}).get("manifest")
        return load_manifest(self._store.get_bytes(sha) if sha else None)

    def record(self, record_id: str) -> dict[str, Any]:
        """One record by its id (``source_id.N``)."""
        return self._catalog.record(self.principal, record_id)

    def open(self, source_id: str, path: str, *, verify: bool = True) -> IO[bytes]:
        """A file of a dataset as a binary file object.

        A full read verifies its sha256; ``verify=False`` gives a plain seekable file, for
        partial reads.
        """
        ds = self._catalog.dataset(self.principal, source_id)
        f = self._catalog.file(self.principal, ds.source_id, path)
        if f.url is not None:  # published by reference: read at the source
            ref = _reference(f)
            with source_errors(ref.name):
                return open_reference(ref, read_options(ref.url), verify=verify)
        return self._store.open(f.sha256, length=f.length, verify=verify)

    def file_info(self, source_id: str, path: str) -> dict[str, Any]:
        """One file of a dataset version: path, filename, sha256, length, mime_type, data_type."""
        ds = self._catalog.dataset(self.principal, source_id)
        return _file_fields(self._catalog.file(self.principal, ds.source_id, path))

    def file_locations(self, source_id: str, *, static: bool = False) -> dict[str, FileLocation]:
        """Where lazy readers read each file of a version you may see.

        ``matterhub://`` URLs, read through this hub as its principal; with ``static``, the
        blobs' URLs in its store (once the principal may see the version).
        """
        ds = self._catalog.dataset(self.principal, source_id)
        files = self.files(ds.source_id)
        if static:  # a file published by reference: its source
            return {
                f["path"]: FileLocation(f.get("url") or self._store.url_of(f["sha256"]), None) for f in files
            }
        ref = hub_reference(self)
        return {f["path"]: FileLocation(f"{PROTOCOL}://{ds.source_id}/{f['path']}", ref) for f in files}

    def provenance(self, sha256: str) -> bytes:
        """An executed notebook a run of a notebook servable stored as its provenance."""
        from hub.notebooks.provenance import read_provenance

        return read_provenance(self._catalog, self._store, self.principal, sha256)

    def download(
        self,
        target: str | SearchResult | Iterable[Hit | dict[str, Any]],
        dest: str | os.PathLike[str],
        paths: list[str] | None = None,
    ) -> list[Path]:
        """Copy files under ``dest``, verifying every sha256.

        ``target`` is a dataset (source_id or source_name; ``paths`` picks some of
        its files) written as ``dest/<path>``, or search results / records,
        whose files are written as ``dest/<source_id>/<path>``.
        """
        if isinstance(target, str):
            ds = self._catalog.dataset(self.principal, target)
            return self._copy_files(ds.source_id, dest, paths)
        wanted = files_by_dataset(target)
        out = []
        for source_id, file_paths in sorted(wanted.items()):
            out += self._copy_files(source_id, Path(dest) / source_id, sorted(file_paths) or None)
        return out

    def _copy_files(
        self, source_id: str, dest: str | os.PathLike[str], paths: list[str] | None
    ) -> list[Path]:
        rows = self._catalog.files(self.principal, source_id)
        if paths is not None:
            wanted = set(paths)
            missing = wanted - {r.path for r in rows}
            if missing:
                raise NotFoundError(f"{source_id} has no file(s) {', '.join(sorted(missing))}")
            rows = [r for r in rows if r.path in wanted]
        root = Path(dest).absolute()
        out = []
        with tqdm(
            total=sum(r.length for r in rows),
            unit="B",
            unit_scale=True,
            desc="download",
            disable=not self.progress,
            leave=False,
        ) as bar:
            for r in rows:
                target = (root / r.path).resolve()
                if not target.is_relative_to(root):
                    raise HubError(f"refusing to write {r.path!r} outside {root}")
                if r.url is not None:  # published by reference: from the source, checked
                    ref = _reference(r)
                    with source_errors(ref.name):
                        out.append(copy_reference(ref, target, read_options(ref.url)))
                else:
                    out.append(self._store.copy_to(r.sha256, target))
                bar.update(r.length)
        return out

    def verify(self, source_id: str) -> list[str]:
        """The paths of a version whose blobs are missing or do not match their sha256.

        For a dataset published by reference: the files that moved (gone from their URL)
        or changed at their source (each one is read in full).
        """
        ds = self._catalog.dataset(self.principal, source_id)
        return [
            f.path
            for f in self._catalog.files(self.principal, ds.source_id)
            if not (_reference_intact(f) if f.url is not None else self._store.verify(f.sha256))
        ]

    # -- Discover ------------------------------------------------------------------

    def search(
        self,
        q: str = "*",
        *,
        facets: Sequence[str | dict[str, Any]] = (),
        filters: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort: str | Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> SearchResult:
        """Search datasets and records you may see.

        ``q`` is a Lucene-style query (``material.elements:Co AND dft.converged:true``);
        ``facets`` are field paths (terms) or ``{"field", "type": "histogram"|"date_histogram",
        "interval"|"buckets"}``; ``filters`` (``{"material.elements": ["Co"]}``) drill down;
        ``sort`` is a field path, ``-path`` for descending; ``kinds`` restricts to
        ``record`` or ``dataset``.
        """
        result = self._index.search(
            q,
            self.principal,
            facets=facets,
            filters=filters,
            limit=limit,
            offset=offset,
            sort=sort,
            kinds=kinds or DATA_KINDS,
        )
        result.hub = self
        return result

    def catalog(
        self, query: str | SearchResult | None = None, *, all_versions: bool = False
    ) -> IntakeCatalog:
        """An intake catalog of datasets you may see.

        One entry per dataset you may see, per dataset ``query`` matches, or per dataset of
        a search result's hits (plus its record hits).  Reading an entry gives that dataset's catalog of files and record groups, each read
        lazily into pandas or xarray (see :func:`hub.catalog.catalog_for`).
        """
        from hub.catalog import catalog_for

        return catalog_for(self, query, all_versions=all_versions)

    def scroll(
        self, q: str = "*", *, filters: dict[str, Any] | None = None, kinds: Sequence[str] | None = None
    ) -> Iterator[Hit]:
        """Every hit of ``q`` you may see, in a stable order, with no cap."""
        return self._index.scroll(q, self.principal, filters=filters, kinds=kinds or DATA_KINDS)

    def scroll_page(
        self,
        q: str = "*",
        *,
        filters: dict[str, Any] | None = None,
        kinds: Sequence[str] | None = None,
        after: int | None = None,
        size: int = 1000,
    ) -> tuple[list[Hit], int | None]:
        """One page of :meth:`scroll` and the cursor of the next (None after the last)."""
        return self._index.scroll_page(
            q, self.principal, filters=filters, kinds=kinds or DATA_KINDS, after=after, size=size
        )

    def optimade_search(
        self,
        filter: str = "",
        *,
        limit: int = 20,
        offset: int = 0,
        sort: str | None = None,
        response_fields: str | Sequence[str] | None = None,
    ) -> StructureResults:
        """Structures matching an OPTIMADE filter, as OPTIMADE resources.

        A filter such as ``elements HAS ALL "Co","O" AND nsites<20`` gives what
        ``/optimade/v1/structures`` answers, with the same access rules.  ``sort``: a property, ``-nsites`` for descending; ``response_fields``: the
        attributes to return (all when None).  ``res.total``, ``res.structures``, ``res.ids``,
        ``res.more``, ``res.to_atoms()``.  Needs the ``service`` extra (the optimade package).
        """
        from hub.optimade.search import search_structures

        return search_structures(
            self, filter, limit=limit, offset=offset, sort=sort, response_fields=response_fields
        )

    def fields(self) -> dict[str, dict[str, int]]:
        """Searchable fields of what you may see: ``{path: {type: documents}}``."""
        visible = {d.source_id for d in self.datasets(all_versions=True)}
        return self._index.fields(visible)

    def rebuild_index(self) -> int:
        """Rebuild the search index from the catalog (admins); returns the number of documents."""
        require(self.principal, Action.ADMINISTER, Resource(Kind.HUB), "only admins rebuild the index")
        if self._index.handoff is not None:  # read-only here: the writer process rebuilds it
            if not self._index.handoff.request("rebuild"):
                raise HubError("the index writer did not finish the rebuild in time; it goes on")
            return self._index.count()
        return self._rebuild_index()

    def _rebuild_index(self) -> int:
        """Rebuild the index from the catalog, whoever opened the hub (an index that must be rebuilt)."""
        return (
            rebuild(self._catalog, self._index, progress=self.progress) + self._servables.registry.reindex()
        )

    # -- Servables (DLHub) ---------------------------------------------------------

    @property
    def _servables(self) -> ServableParts:
        """Made on first use (making it starts nothing: no worker starts before the first run)."""
        if self._servable_parts is None:
            if self._root is not self:
                self._servable_parts = self._root._servables.acting_as(self.principal)
            else:
                from hub.servables.parts import ServableParts

                self._servable_parts = ServableParts(
                    self._catalog,
                    self._store,
                    self._index,
                    self.principal,
                    self.home,
                    executor=self._executor,
                    publishers=self._publishers,
                    data=self.acting_as,
                )
        return self._servable_parts

    def describe(self, model: Any, **metadata: Any) -> ServableDescription:
        """A servable description of a model: inputs, outputs, requirements, DataCite.

        ``model`` is a scikit-learn estimator, a Keras model (object or file), a typed
        Python callable, or a DLHub metadata document.
        """
        return self._servables.registry.describe(model, **metadata)

    def pipeline(
        self,
        steps: Sequence[Step],
        *,
        name: str,
        title: str | None = None,
        authors: Sequence[str] | None = None,
        description: str | None = None,
        visible_to: Sequence[str] | str | None = None,
        runnable_by: Sequence[str] | str | None = None,
        domains: Sequence[str] = (),
    ) -> ServableDescription:
        """A pipeline of ``steps`` described as a servable of type ``pipeline`` (publish it with :meth:`publish_servable`).

        ``steps``, in order: published servables by name (``owner/name``, or ``owner/name@version``
        to pin one; an unpinned step runs the version that was the latest when the pipeline was
        published), Python callables (adapters between steps, run in workers), and as the first
        step a data source (:class:`hub.pipelines.Search`: the pipeline's input is then a query,
        None for the source's own; :class:`hub.pipelines.DatasetFile`: it takes no input).  Each
        step's output must fit the next step's input: a misfit is a
        :class:`~hub.exceptions.ValidationError` naming both steps and the field.  The other
        parameters are as for :meth:`describe`.
        """
        from hub.pipelines.describe import describe_pipeline

        return describe_pipeline(
            self,
            steps,
            name=name,
            title=title,
            authors=authors or ([self.principal.user] if self.principal.user else None),
            description=description,
            visible_to=visible_to,
            runnable_by=runnable_by,
            domains=domains,
        )

    def publish_servable(self, servable: Any, *, group: str | None = None, **metadata: Any) -> str:
        """Publish a described servable (a new version if the name exists); returns ``owner/name``.

        ``owner`` is you, or ``group`` (one of yours) whose members then publish its
        versions; a name that belongs to someone else is refused
        (:class:`~hub.exceptions.NameNotAvailableError`).
        """
        return self._servables.registry.publish(servable, group=group, **metadata)

    def publish_uploaded_servable(
        self, document: dict[str, Any], artifact: str | os.PathLike[str] | None, *, group: str | None = None
    ) -> str:
        """Publish a servable packaged by a remote client (its document and artifact tar), as :meth:`publish_servable`."""
        return self._servables.registry.publish_uploaded(document, artifact, group=group)

    def servables(
        self,
        q: str = "*",
        *,
        facets: Sequence[str | dict[str, Any]] = (),
        filters: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort: str | Sequence[str] | None = None,
    ) -> SearchResult:
        """Search the servables you may see, with the query language of data."""
        result = self._servables.registry.servables(
            q, facets=facets, filters=filters, limit=limit, offset=offset, sort=sort
        )
        result.hub = self
        return result

    def servable(self, name: str) -> PublishedServable:
        """A servable you may see: ``owner/name@version``, ``owner/name`` (latest) or ``name``."""
        return self._servables.registry.servable(name)

    @overload
    def run(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        asynchronous: Literal[False] = False,
        *,
        batch: bool | None = None,
        cache: bool | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
        trace: Literal[False] = False,
    ) -> Any: ...

    @overload
    def run(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        asynchronous: Literal[False] = False,
        *,
        batch: bool | None = None,
        cache: bool | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
        trace: Literal[True],
    ) -> RunTrace: ...

    @overload
    def run(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        *,
        asynchronous: Literal[True],
        batch: bool | None = None,
        cache: bool | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
        trace: Literal[False] = False,
    ) -> Task: ...

    @overload
    def run(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        asynchronous: bool = False,
        *,
        batch: bool | None = None,
        cache: bool | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
        trace: bool = False,
    ) -> Any: ...

    def run(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        asynchronous: bool = False,
        *,
        batch: bool | None = None,
        cache: bool | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
        trace: bool = False,
    ) -> Any:
        """Run a servable on ``inputs`` (validated first) in a worker process.

        Returns the outputs; with ``asynchronous=True``, a task (see :meth:`task` and
        :meth:`hub.api.HubAPI.run`).  A servable's error names the hub's own paths only
        to admins.
        """
        try:
            return self._servables.run(
                name,
                inputs,
                parameters,
                asynchronous,
                batch=batch,
                cache=cache,
                timeout=timeout,
                memory_mb=memory_mb,
                trace=trace,
            )
        except ServableRunError as exc:
            self._redact(exc)
            raise

    async def run_direct(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        *,
        batch: bool | None = None,
        cache: bool | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
        decode: Callable[[Any], Any] | None = None,
    ) -> Any:
        """A synchronous run of a servable on small ``inputs``, awaited on the running event loop.

        The same checks, limits and errors as :meth:`run` (the checks read the catalog in
        the loop's thread on SQLite, in a thread of their own on PostgreSQL); ``decode`` makes the input of ``inputs`` once your right to run
        it is checked.  The run goes straight to a worker process that holds the servable
        already when one is idle (:mod:`hub.servables.direct`), else as :meth:`run` sends
        it.  The service's run route uses it for small synchronous runs.
        """
        try:
            return await self._servables.run_direct(
                name,
                inputs,
                parameters,
                batch=batch,
                cache=cache,
                timeout=timeout,
                memory_mb=memory_mb,
                decode=decode,
            )
        except ServableRunError as exc:
            self._redact(exc)
            raise

    def _redact(self, exc: ServableRunError) -> None:
        """A servable's error names the hub's own paths only to admins."""
        if not shows_paths(self.principal):
            exc.message = self._paths.redact(exc.message)
            exc.args = (exc.message,)
            exc.traceback = self._paths.redacted(exc.traceback)
            exc.stdout, exc.stderr = self._paths.redact(exc.stdout), self._paths.redact(exc.stderr)

    def check_runnable(self, name: str) -> None:
        """Check that you may run servable ``name`` (the service asks before decoding a run's inputs).

        Raises
        ------
        NotFoundError
            No such servable that you may see.
        AccessDeniedError
            You may see it but not run it.
        NotRunnableError
            It has nothing to run.
        """
        self._servables.runs.runnable(name)

    def task(self, task_id: str) -> Task:
        """An asynchronous run you started (admins: anyone's); only admins see the hub's own paths in it."""
        task = self._servables.tasks.task(task_id)
        if shows_paths(self.principal):
            return task
        return dataclasses.replace(
            task,
            error=self._paths.redacted(task.error),
            stdout=self._paths.redact(task.stdout),
            stderr=self._paths.redact(task.stderr),
        )

    def resume_tasks(self) -> None:
        """Run again the asynchronous runs a stopped process of this host left unfinished.

        The first run or task read does it otherwise; opening a hub never does.
        """
        self._servables.tasks.resume_interrupted()

    def deprecate_servable(self, name: str, version: int | None = None) -> PublishedServable:
        """Mark a servable (or one version) deprecated (its owner or an admin)."""
        return self._servables.registry.deprecate(name, version)

    def delete_servable(self, name: str, version: int | None = None) -> None:
        """Delete a servable (or one version) (its owner or an admin)."""
        self._servables.registry.delete(name, version)

    def servable_artifact(self, name: str) -> IO[bytes]:
        """The artifact (packaged tar) of a servable version you may see; a full read checks its sha256."""
        return self._servables.registry.artifact(name)

    def extractors(self) -> list[dict[str, Any]]:
        """What each installed extractor reads and fills (declarative, nothing is run)."""
        return [cls.describe() for _, cls in sorted(extractor_classes().items())]

    def info(self) -> HubInfo:
        """What this hub is and what its caller sees."""
        return {
            "name": "MatterHub",
            "version": version("matterhub"),
            "api": "/api",
            "datasets": len(self.datasets()),
            "user": self.principal.user,
        }

    def stats(self) -> dict[str, int]:
        """How many datasets (all versions), records and files the hub holds."""
        return self._catalog.counts()


def _file_fields(f: FileRow) -> dict[str, Any]:
    """A file as :meth:`EmbeddedHub.files` lists it: :data:`~hub.api.FILE_FIELDS`, and ``url`` when by reference."""
    out = {k: getattr(f, k) for k in FILE_FIELDS}
    if f.url is not None:
        out["url"] = f.url
    return out


def _reference(f: FileRow) -> Reference:
    """A file published by reference, as the store reads it (named ``<source_id>/<path>``)."""
    assert f.url is not None
    return Reference(f.url, f.sha256, f.length, f"{f.source_id}/{f.path}")


def _reference_intact(f: FileRow) -> bool:
    ref = _reference(f)
    try:
        options = read_options(ref.url)
    except HubError:  # the address guard refuses it
        return False
    return reference_intact(ref, options)
