"""``Hub``: one Python API over a hub.

``Hub()`` opens (or creates) the embedded hub in ``$MATTERHUB_HOME`` (default
``~/.matterhub``): an SQLite catalog, a blob store and a staging area in one
folder, nothing to start.  ``Hub(path, user="alice", groups=["lab"])`` acts as
that principal; with no ``user`` the embedded hub acts as its local owner, who
administers it.
"""

from __future__ import annotations

import copy
import os
import shutil
import socket
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tqdm.auto import tqdm

from hub.access import PENDING_CURATION, PUBLISHED, Action, Kind, Principal, Resource, allowed, require
from hub.config import HubConfig
from hub.connect.archives import ArchiveLimits
from hub.connect.pipeline import Pipeline, new_submission_id
from hub.connect.request import SubmissionRequest, make_request
from hub.connect.submission import Submission, new_steps
from hub.dataset import Dataset
from hub.db.catalog import Catalog
from hub.db.models import SubmissionRow
from hub.exceptions import AccessDeniedError, ConflictError, HubError, NotFoundError
from hub.extractors.registry import extractor_classes
from hub.index.engine import SearchIndex
from hub.index.journal import IndexJournal
from hub.index.results import Hit, SearchResult, files_by_dataset
from hub.index.sync import rebuild, sync_name
from hub.records.dataset import source_id_of
from hub.records.validation import validate_dataset
from hub.store.blobs import BlobStore
from hub.store.manifest import ManifestEntry, store_manifest

if TYPE_CHECKING:
    from hub.servables.description import ServableDescription
    from hub.servables.service import PublishedServable, ServableService
    from hub.servables.tasks import Task
    from hub.service.optimade.results import StructureResults
    from hub.users import Users


#: What :meth:`Hub.search` and :meth:`Hub.scroll` find unless told otherwise (servables are
#: searched with :meth:`Hub.servables`).
DATA_KINDS = ("dataset", "record")


class Hub:
    """A materials data hub, embedded in this process.

    Parameters
    ----------
    location
        The hub folder (default ``$MATTERHUB_HOME`` or ``~/.matterhub``).
    user, groups
        The principal to act as.  Without ``user``, the local owner (an admin).
    token
        Act as the user a token of this hub stands for (what the hub service does).
        ``Hub("http://host:port", token=...)`` opens the remote client instead, with this API.
    progress
        Show tqdm progress bars for long work.
    catalog, store
        Override the catalog URL (e.g. ``postgresql+psycopg://...``) and the blob
        store URL (any fsspec URL); saved in the hub's ``config.json``.
    """

    def __new__(cls, location: Any = None, **kw: Any) -> Any:
        """``Hub("http://...")`` is the remote client (:class:`hub.remote.RemoteHub`), with
        this same API; anything else is an embedded hub."""
        from hub.remote import RemoteHub, is_remote

        if cls is Hub and is_remote(location):
            return RemoteHub(location, **kw)
        return super().__new__(cls)

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
    ) -> None:
        self.config = HubConfig.load(location, catalog=catalog, store=store)
        self.principal = Principal(user, frozenset(groups or ())) if user else Principal.local()
        self.progress = progress
        self._catalog = Catalog(self.config.catalog)
        if token is not None:
            from hub.users import Users

            self.principal = Users(self._catalog).authenticate(token)
        self._store = BlobStore(self.config.store)
        self._limits = archive_limits or ArchiveLimits()
        self._index = SearchIndex(self.config.index)
        self._journal = IndexJournal(self.config.index)
        self._servable_service: ServableService | None = None
        self._root: Hub = self
        self._recover_interrupted()
        if self._index.needs_rebuild and self._catalog.counts()["datasets"]:
            self.rebuild_index()
        # changes a killed process committed to the catalog but not to the index
        self._journal.recover(self._sync_index)

    # -- lifecycle -------------------------------------------------------------

    @property
    def home(self) -> Path:
        return self.config.home

    def acting_as(self, principal: Principal) -> Hub:
        """This hub seen by ``principal``: shares the catalog, store, index and workers.

        Cheap (no database is opened): the hub service makes one per request.
        Closing a view does nothing; close the hub it came from.
        """
        view = copy.copy(self)
        view.principal = principal
        view._servable_service = None
        view._root = self._root
        return view

    @property
    def users(self) -> Users:
        """Users, groups and tokens (used by the hub service; admins manage them)."""
        from hub.users import Users

        return Users(self._catalog)

    def close(self) -> None:
        if self._root is not self:
            return
        if self._servable_service is not None:
            self._servable_service.close()
        self._catalog.close()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Hub {self.home} as {self.principal.name}>"

    def _pipeline(self, progress: bool | Callable[[Submission], None] | None = None) -> Pipeline:
        require(
            self.principal,
            Action.CREATE,
            Resource(Kind.SUBMISSION),
            "anonymous callers cannot submit datasets; open the hub as a user",
        )
        return Pipeline(
            self._catalog,
            self._store,
            self.config.staging,
            self.principal,
            limits=self._limits,
            progress=self.progress if progress is None else progress,
        )

    def _recover_interrupted(self) -> None:
        """Mark submissions whose process died on this host as interrupted (they can be retried)."""
        host = socket.gethostname()
        for row in self._catalog.running_submissions():
            if row.host == host and row.pid and not _pid_alive(row.pid):
                steps = [{**s, "status": "failed"} if s["status"] == "running" else s for s in row.steps]
                self._catalog.update_submission(
                    row.id,
                    status="interrupted",
                    steps=steps,
                    message="the process running this submission stopped before it finished; "
                    f"nothing was published. Retry with hub.retry({row.id!r}) or `matterhub submit --retry {row.id}`",
                )
                shutil.rmtree(self.config.staging / row.id, ignore_errors=True)

    # -- Connect -----------------------------------------------------------------

    def submit(
        self,
        source: str | os.PathLike[str],
        title: str,
        authors: Sequence[str | dict[str, Any]],
        *,
        mapping: dict[str, str] | None = None,
        visible_to: list[str] | None = None,
        curate: bool = False,
        source_name: str | None = None,
        progress: bool | Callable[[Submission], None] | None = None,
        **metadata: Any,
    ) -> Submission:
        """Collect, extract, merge, validate, (curate) and publish a dataset.

        ``source`` is a file, a folder, a zip/tar archive or any fsspec URL.
        Extra keyword arguments are dataset metadata: ``description``,
        ``affiliations``, ``license``, ``related_dois``, ``subjects``, ``tags``,
        ``organizations``, ``custom`` (up to 10 searchable fields), ``extractors``
        (names to use), or any DataCite field (``publicationYear``, ...).

        ``progress``: show tqdm bars, or a callable given the submission each time a step
        is saved (a widget's progress bar).

        Returns when the submission has finished; ``sub.status`` is
        ``complete`` (published), ``pending_curation``, or ``failed`` with
        ``sub.message``; ``sub.errors`` lists every file that failed.
        """
        request = make_request(
            title=title,
            authors=authors,
            mapping=mapping,
            visible_to=visible_to,
            curate=curate,
            source_name=source_name,
            **metadata,
        )
        pipeline = self._pipeline(progress)
        src = os.fspath(source)
        sub_id = pipeline.create(src, request)
        self._journal.begin(request.name)
        return self._indexed(pipeline.run(sub_id, src, request))

    def enqueue(
        self,
        source: str | os.PathLike[str],
        title: str,
        authors: Sequence[str | dict[str, Any]],
        *,
        mapping: dict[str, str] | None = None,
        visible_to: list[str] | None = None,
        curate: bool = False,
        source_name: str | None = None,
        **metadata: Any,
    ) -> Submission:
        """Record a submission as ``queued`` without running it (the hub service's worker runs it
        with :meth:`process`); the metadata is validated now, so a bad request fails at once."""
        request = make_request(
            title=title,
            authors=authors,
            mapping=mapping,
            visible_to=visible_to,
            curate=curate,
            source_name=source_name,
            **metadata,
        )
        sub_id = self._pipeline(False).create(os.fspath(source), request)
        return self.submission(sub_id)

    def requeue(self, submission_id: str) -> Submission:
        """Put a failed or interrupted submission back in the queue (the service's retry)."""
        row = self._catalog.submission(submission_id, self.principal)
        if row.status not in ("failed", "interrupted"):
            raise ConflictError(
                f"submission {submission_id} is {row.status}; only failed or interrupted ones"
            )
        self._catalog.update_submission(row.id, status="queued", steps=new_steps(), errors=[], message=None)
        return self.submission(submission_id)

    def process(self, submission_id: str, progress: bool | None = None) -> Submission:
        """Run a queued (or interrupted) submission, as its owner."""
        row = self._catalog.submission(submission_id, self.principal)
        if row.status not in ("queued", "interrupted"):
            raise ConflictError(f"submission {submission_id} is {row.status}, not queued")
        request = SubmissionRequest.model_validate(row.options)
        if row.status == "interrupted":
            self._catalog.update_submission(
                row.id, status="queued", steps=new_steps(), errors=[], message=None
            )
        self._journal.begin(row.source_name)
        return self._indexed(self._pipeline(progress).run(row.id, row.source, request))

    def _indexed(self, sub: Submission) -> Submission:
        """Bring the search index up to date with a submission that reached the catalog."""
        if sub.ok:
            self._sync_index(sub.source_name)
        else:
            self._journal.end(sub.source_name)
        return sub

    def _sync_index(self, source_name: str) -> None:
        try:
            sync_name(self._catalog, self._index, source_name)
        except Exception as exc:  # the catalog is the truth; the index can be rebuilt
            self._index.mark_stale(f"indexing {source_name} failed: {exc!r}")
            warnings.warn(
                f"the search index could not be updated for {source_name} ({exc!r}); it will be rebuilt "
                "from the catalog when the hub is next opened (or run `matterhub index rebuild`)",
                RuntimeWarning,
                stacklevel=3,
            )
        finally:
            self._journal.end(source_name)

    def retry(self, submission_id: str, progress: bool | None = None) -> Submission:
        """Run a failed or interrupted submission again, with the same source and metadata."""
        row = self._catalog.submission(submission_id, self.principal)
        if row.status not in ("failed", "interrupted"):
            raise ConflictError(
                f"submission {submission_id} is {row.status}; only failed or interrupted ones can be retried"
            )
        request = SubmissionRequest.model_validate(row.options)
        self._catalog.update_submission(row.id, status="queued", steps=new_steps(), errors=[], message=None)
        self._journal.begin(row.source_name)
        return self._indexed(self._pipeline(progress).run(row.id, row.source, request))

    def submission(self, submission_id: str) -> Submission:
        return Submission.from_row(self._catalog.submission(submission_id, self.principal))

    def submissions(self, status: str | None = None) -> list[Submission]:
        return [Submission.from_row(r) for r in self._catalog.submissions(self.principal, status)]

    # -- curation ----------------------------------------------------------------

    def pending_curation(self) -> list[Submission]:
        self._require_curator()
        return self.submissions(status="pending_curation")

    def curate(self, submission_id: str, accept: bool, reason: str = "") -> Submission:
        """Accept (publish) or reject a submission waiting in ``pending_curation``."""
        self._require_curator()
        row = self._catalog.submission(submission_id, self.principal)
        if row.status != "pending_curation" or not row.source_id:
            raise ConflictError(f"submission {submission_id} is {row.status}, not pending_curation")
        verdict = "accepted" if accept else "rejected"
        note = f"{verdict} by {self.principal.name}" + (f": {reason}" if reason else "")
        steps = [{**s, "status": "done", "detail": note} if s["name"] == "curate" else s for s in row.steps]
        self._journal.begin(row.source_name)
        if accept:
            self._catalog.set_status(row.source_id, PUBLISHED)
            self._catalog.update_submission(row.id, status="complete", steps=steps, message=note)
        else:
            self._catalog.delete_version(row.source_id)
            self._catalog.update_submission(
                row.id, status="rejected", steps=steps, message=note, source_id=None
            )
        self._sync_index(row.source_name)
        return self.submission(submission_id)

    def _require_curator(self) -> None:
        require(
            self.principal,
            Action.CURATE,
            Resource(Kind.SUBMISSION),
            f"{self.principal.name} is not a curator (members of 'curators' or 'admin' are)",
        )

    # -- Publish: versions -------------------------------------------------------

    def update_metadata(self, dataset: str, **changes: Any) -> Dataset:
        """A new version with changed metadata and the same files (no blob is copied).

        ``changes`` are the metadata keywords of :meth:`submit` (``title``,
        ``authors``, ``description``, ``visible_to``, ``custom``, DataCite fields, ...).
        """
        prev = self._catalog.dataset(self.principal, dataset)
        if prev.status != PUBLISHED:
            raise ConflictError(
                f"{prev.source_id} is waiting for curation; update its metadata once a curator has accepted it"
            )
        if not allowed(self.principal, Action.CHANGE, Resource(Kind.DATASET, prev.owner, prev.status)):
            raise AccessDeniedError(f"only the owner of {prev.source_id} ({prev.owner}) may update it")
        prev_sub = self._catalog.submission_row(prev.submission_id) if prev.submission_id else None
        if prev_sub is not None:
            options = dict(prev_sub.options)
        else:
            dc = prev.document["dc"]
            options = {"title": dc["titles"][0]["title"], "authors": dc["creators"]}
        options.update(changes)
        options["source_name"] = prev.source_name
        request = make_request(**options)
        # a dataset that goes through curation goes through it again for each new version
        status = PENDING_CURATION if request.curate else PUBLISHED
        sub_id = new_submission_id()
        self._catalog.add_submission(
            SubmissionRow(
                id=sub_id,
                owner=self.principal.name,
                source=f"metadata update of {prev.source_id}",
                source_name=prev.source_name,
                status="running",
                steps=[
                    {
                        **s,
                        "status": "skipped"
                        if s["name"] in ("collect", "extract", "merge")
                        or (s["name"] == "curate" and not request.curate)
                        else "done",
                    }
                    for s in new_steps()
                ],
                errors=[],
                options=request.model_dump(mode="json"),
            )
        )
        files = [
            {k: getattr(f, k) for k in ("path", "filename", "sha256", "length", "mime_type", "data_type")}
            for f in self._catalog.files(self.principal, prev.source_id)
        ]
        old_records = self._catalog.records(self.principal, prev.source_id)
        entries = [ManifestEntry(f["path"], f["sha256"], f["length"]) for f in files]

        def stamp(version: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            sid = source_id_of(prev.source_name, version)
            doc = validate_dataset(
                {
                    "dc": request.datacite_block().model_dump(mode="json", exclude_none=True),
                    "mdf": {
                        **prev.document["mdf"],
                        "source_id": sid,
                        "version": version,
                        "visible_to": request.visible_to,
                        "tags": request.tags,
                        "organizations": request.organizations,
                        "previous_version": prev.source_id,
                        "status": status,
                    },
                    "data": {**prev.document["data"]},
                    "custom": request.custom,
                }
            )
            doc["data"]["manifest"] = store_manifest(self._store, sid, entries)
            records = [
                {
                    **r,
                    "mdf": {
                        **r["mdf"],
                        "source_id": sid,
                        "version": version,
                        "record_id": f"{sid}.{r['mdf']['scroll_id']}",
                        "visible_to": request.visible_to,
                    },
                }
                for r in old_records
            ]
            return doc, records

        self._journal.begin(prev.source_name)
        self._catalog.publish(
            source_name=prev.source_name,
            owner=prev.owner,
            status=status,
            visible_to=request.visible_to,
            files=files,
            stamp=stamp,
            submission_id=sub_id,
            submission_values={"status": "complete" if status == PUBLISHED else "pending_curation"},
        )
        row = self._catalog.submission_row(sub_id)
        assert row is not None and row.source_id
        self._sync_index(prev.source_name)
        return self.dataset(row.source_id)

    # -- reading -------------------------------------------------------------------

    def datasets(self, *, all_versions: bool = False, source_name: str | None = None) -> list[Dataset]:
        """The datasets you may see (latest version of each unless ``all_versions``)."""
        rows = self._catalog.datasets(self.principal, all_versions=all_versions, source_name=source_name)
        return [Dataset(self, r) for r in rows]

    def dataset(self, ident: str) -> Dataset:
        """A dataset by source_id (``name_v2``) or by source_name (its latest published version)."""
        return Dataset(self, self._catalog.dataset(self.principal, ident))

    def record(self, record_id: str) -> dict[str, Any]:
        return self._catalog.record(self.principal, record_id)

    def open(self, source_id: str, path: str, *, verify: bool = True) -> IO[bytes]:
        """A file of a dataset as a binary file object; a full read verifies its sha256
        (``verify=False``: a plain seekable file, for partial reads)."""
        ds = self._catalog.dataset(self.principal, source_id)
        f = self._catalog.file(self.principal, ds.source_id, path)
        return self._store.open(f.sha256, length=f.length, verify=verify)

    def file_info(self, source_id: str, path: str) -> dict[str, Any]:
        """One file of a dataset version: path, filename, sha256, length, mime_type, data_type."""
        ds = self._catalog.dataset(self.principal, source_id)
        f = self._catalog.file(self.principal, ds.source_id, path)
        return {k: getattr(f, k) for k in ("path", "filename", "sha256", "length", "mime_type", "data_type")}

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
                out.append(self._store.copy_to(r.sha256, target))
                bar.update(r.length)
        return out

    def verify(self, source_id: str) -> list[str]:
        """The paths of a version whose blobs are missing or do not match their sha256."""
        ds = self._catalog.dataset(self.principal, source_id)
        return [
            f.path
            for f in self._catalog.files(self.principal, ds.source_id)
            if not self._store.verify(f.sha256)
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

    def catalog(self, query: str | None = None, **kw: Any) -> Any:
        """An intake catalog with one entry per dataset you may see (or that ``query`` matches).

        Reading an entry gives that dataset's catalog of files and record groups,
        each read lazily into pandas or xarray (``kw``: ``all_versions=True``; see
        :func:`hub.catalog.catalog_for`).
        """
        from hub.catalog import catalog_for

        return catalog_for(self, query, **kw)

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
        """Structures matching an OPTIMADE filter (``elements HAS ALL "Co","O" AND nsites<20``),
        as OPTIMADE resources: what ``/optimade/v1/structures`` answers, with the same access
        rules.  ``sort``: a property, ``-nsites`` for descending; ``response_fields``: the
        attributes to return (all when None).  ``res.total``, ``res.structures``, ``res.ids``,
        ``res.more``, ``res.to_atoms()``.  Needs the ``service`` extra (the optimade package)."""
        from hub.service.optimade.search import search_structures

        return search_structures(
            self, filter, limit=limit, offset=offset, sort=sort, response_fields=response_fields
        )

    def fields(self) -> dict[str, dict[str, int]]:
        """Searchable fields of what you may see: ``{path: {type: documents}}``."""
        visible = {d.source_id for d in self.datasets(all_versions=True)}
        return self._index.fields(visible)

    def rebuild_index(self) -> int:
        """Rebuild the search index from the catalog; returns the number of documents."""
        return rebuild(self._catalog, self._index, progress=self.progress) + self._servables.reindex()

    # -- Servables (DLHub) ---------------------------------------------------------

    @property
    def _servables(self) -> ServableService:
        """Created on first use: no worker starts before the first run."""
        if self._servable_service is None:
            if self._root is not self:
                self._servable_service = self._root._servables.acting_as(self.principal)
            else:
                from hub.servables.service import ServableService

                self._servable_service = ServableService.from_hub(self)
        return self._servable_service

    def describe(self, model: Any, **metadata: Any) -> ServableDescription:
        """Describe a scikit-learn estimator, a Keras model (object or file), a typed Python
        callable, or a DLHub metadata document: inputs, outputs, requirements, DataCite."""
        return self._servables.describe(model, **metadata)

    def publish_servable(self, servable: Any, **metadata: Any) -> str:
        """Publish a described servable (a new version if the name exists); returns ``owner/name``."""
        return self._servables.publish(servable, **metadata)

    def publish_uploaded_servable(
        self, document: dict[str, Any], artifact: str | os.PathLike[str] | None
    ) -> str:
        """Publish a servable packaged by a remote client (its document and artifact tar)."""
        return self._servables.publish_uploaded(document, artifact)

    def servables(self, q: str = "*", **search: Any) -> SearchResult:
        """Search the servables you may see, with the query language of data."""
        return self._servables.servables(q, **search)

    def servable(self, name: str) -> PublishedServable:
        return self._servables.servable(name)

    def run(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        asynchronous: bool = False,
        **options: Any,
    ) -> Any:
        """Run a servable on ``inputs`` (validated first) in a worker process; with
        ``asynchronous=True`` returns a task (see :meth:`task`)."""
        return self._servables.run(name, inputs, parameters, asynchronous, **options)

    def task(self, task_id: str) -> Task:
        return self._servables.task(task_id)

    def deprecate_servable(self, name: str, version: int | None = None) -> PublishedServable:
        return self._servables.deprecate(name, version)

    def delete_servable(self, name: str, version: int | None = None) -> None:
        self._servables.delete(name, version)

    def extractors(self) -> list[dict[str, Any]]:
        """What each installed extractor reads and fills (declarative, nothing is run)."""
        return [cls.describe() for _, cls in sorted(extractor_classes().items())]

    def stats(self) -> dict[str, int]:
        return self._catalog.counts()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
