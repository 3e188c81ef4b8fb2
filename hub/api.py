"""``HubAPI``: the one public surface of a hub, embedded or remote, and ``Hub(...)``.

:class:`HubAPI` is a typed :class:`~typing.Protocol` that the embedded hub
(:class:`hub.hubs.embedded.EmbeddedHub`) and the client of a hub service
(:class:`hub.hubs.remote.RemoteHub`) both implement with the same parameters and the same
return types.  :func:`Hub` opens the implementation whose ``schemes`` include the
location's (a folder: embedded; ``http(s)://``: remote); implementations are plugins in
the entry point group ``matterhub.hubs``, so this module names none of them.  Front ends
(widgets, the JupyterLab backend), the command line and the Intake readers take a
``HubAPI`` and nothing else, so each works against both.

The values the API returns live beside it: :class:`Dataset` (a version as its reader
sees it), :class:`FileLocation` (where a reader reads a file from), and the types of
other modules (:class:`~hub.connect.submission.Submission`,
:class:`~hub.index.results.SearchResult`, :class:`~hub.servables.tasks.Task`, ...).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import (
    IO,
    TYPE_CHECKING,
    Any,
    Literal,
    NamedTuple,
    Protocol,
    overload,
    runtime_checkable,
)

from typing_extensions import TypedDict  # pydantic reads it on Python 3.11 (the /info reply)

from hub.records.datacite import to_datacite_json

if TYPE_CHECKING:
    import datetime as _dt

    from intake.readers.entry import Catalog as IntakeCatalog

    from hub.access import Principal
    from hub.access.users import TokenInfo, User
    from hub.connect.archives import ArchiveLimits
    from hub.connect.submission import Submission
    from hub.index.results import Hit, SearchResult
    from hub.optimade.results import StructureResults
    from hub.pipelines.describe import Step
    from hub.pipelines.trace import RunTrace
    from hub.servables.description import ServableDescription
    from hub.servables.published import PublishedServable
    from hub.servables.tasks import Task

#: The fields of one file of a dataset version, as :meth:`HubAPI.files` lists them.
FILE_FIELDS = ("path", "filename", "sha256", "length", "mime_type", "data_type")
#: The fsspec protocol of an embedded hub's dataset files, read through the hub
#: (``matterhub://<source_id>/<path>``; :class:`hub.catalog.hubfiles.HubFileSystem`).
PROTOCOL = "matterhub"


class FileLocation(NamedTuple):
    """Where a reader reads one file of a dataset: an fsspec URL and its storage options.

    An embedded hub gives the blob's URL in its store (a path, ``s3://...``); a remote hub
    the service's file URL with the caller's token as a header.  Either is read with
    ``fsspec.open(url, **(storage_options or {}))`` (Range requests over HTTP).
    """

    url: str
    storage_options: dict[str, Any] | None


class Dataset:
    """A dataset version as its reader sees it: metadata, files, records, DataCite.

    Parameters
    ----------
    hub
        The hub it was read from (files and records are read through it, as the hub's
        principal).
    summary
        The version's summary: ``source_id``, ``source_name``, ``version``, ``status``,
        ``owner``, ``title``, ``files`` (count), ``records`` (count), ``total_size``,
        ``root_hash`` and ``metadata`` (the dataset document).
    """

    def __init__(self, hub: HubAPI, summary: Mapping[str, Any]) -> None:
        self.hub = hub
        self.source_id: str = summary["source_id"]
        self.source_name: str = summary["source_name"]
        self.version: int = summary["version"]
        self.status: str = summary["status"]
        self.owner: str = summary["owner"]
        self.title: str = summary["title"]
        self.metadata: dict[str, Any] = summary["metadata"]
        self.n_files: int = summary["files"]
        self.n_records: int = summary["records"]
        self.total_size: int = summary["total_size"]
        self.root_hash: str = summary["root_hash"]

    def files(self) -> list[dict[str, Any]]:
        """Every file: path, filename, sha256, length, mime_type, data_type."""
        return self.hub.files(self.source_id)

    def records(self, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """The version's records (a page of them with ``offset`` and ``limit``)."""
        return self.hub.records(self.source_id, offset=offset, limit=limit)

    def open(self, path: str) -> IO[bytes]:
        """One file as a binary stream; a full read checks its sha256."""
        return self.hub.open(self.source_id, path)

    def download(self, dest: str | os.PathLike[str], paths: list[str] | None = None) -> list[Path]:
        """Copy the files (or ``paths``) under ``dest``, verifying every sha256."""
        return self.hub.download(self.source_id, dest, paths=paths)

    def manifest(self) -> dict[str, Any]:
        """The version's manifest: paths, sizes, sha256 and the root hash ({} if none)."""
        return self.hub.manifest(self.source_id)

    def datacite(self) -> dict[str, Any]:
        """The DataCite JSON of this version, ready for DOI registration."""
        body = to_datacite_json(self.metadata["dc"])
        body.setdefault("version", str(self.version))
        body.setdefault("identifiers", []).append(
            {"identifier": self.source_id, "identifierType": "MatterHub"}
        )
        return body

    def versions(self) -> list[Dataset]:
        """Every version of this dataset you may see, oldest first."""
        return self.hub.datasets(all_versions=True, source_name=self.source_name)

    def to_dict(self) -> dict[str, Any]:
        """The summary without the document (what ``matterhub datasets --json`` prints)."""
        return {
            "source_id": self.source_id,
            "source_name": self.source_name,
            "version": self.version,
            "status": self.status,
            "owner": self.owner,
            "title": self.title,
            "files": self.n_files,
            "records": self.n_records,
            "total_size": self.total_size,
            "root_hash": self.root_hash,
        }

    def to_json(self) -> dict[str, Any]:
        """The summary with the document, as the service sends it (:meth:`from_json`'s input)."""
        return {**self.to_dict(), "metadata": self.metadata}

    def __repr__(self) -> str:
        return (
            f"<Dataset {self.source_id} {self.title!r} files={self.n_files} "
            f"records={self.n_records} {self.status}>"
        )


def load_manifest(raw: bytes | None) -> dict[str, Any]:
    """A stored manifest's JSON ({} for a version without one)."""
    if not raw:
        return {}
    out: dict[str, Any] = json.loads(raw)
    return out


class HubInfo(TypedDict):
    """What a hub is and what its caller sees (``GET /api/info``)."""

    name: str
    version: str
    api: str
    datasets: int
    user: str | None


@runtime_checkable
class UsersAPI(Protocol):
    """Users, groups and tokens of a hub (:class:`hub.access.users.Users`, and its remote twin).

    ``actor`` is who asks; a remote hub's service acts as the token's user whatever is given.
    """

    def create_user(self, actor: Principal, name: str, groups: Iterable[str] = ()) -> User:
        """Create a user (admins)."""
        ...

    def user(self, actor: Principal, name: str) -> User:
        """One user (admins, or the user itself)."""
        ...

    def users(self, actor: Principal) -> list[User]:
        """Every user (admins)."""
        ...

    def set_groups(self, actor: Principal, name: str, groups: Iterable[str]) -> User:
        """Replace a user's groups (admins)."""
        ...

    def delete_user(self, actor: Principal, name: str, transfer_to: str | None = None) -> None:
        """Delete a user and revoke its tokens (admins).

        With ``transfer_to``, what they own and the ACL entries naming them pass to that
        user; without, they stay with the deleted user's id, which no one can act as (a
        user created later under the same name is someone new).
        """
        ...

    def groups(self, actor: Principal) -> dict[str, list[str]]:
        """Every group and its members (admins)."""
        ...

    def create_token(
        self,
        actor: Principal,
        user: str | None = None,
        label: str = "",
        expires_in: _dt.timedelta | None = None,
    ) -> tuple[str, TokenInfo]:
        """A new token (shown once) for ``user`` (yourself by default; admins: anyone)."""
        ...

    def tokens(self, actor: Principal, user: str | None = None) -> list[TokenInfo]:
        """Your tokens (admins: anyone's)."""
        ...

    def revoke_token(self, actor: Principal, token_id: str) -> None:
        """Revoke a token (its user or an admin)."""
        ...


@runtime_checkable
class HubAPI(Protocol):
    """A materials data and model hub, embedded or remote: the one public surface.

    Every front end, reader and command takes a ``HubAPI``.  Access decisions are the
    hub's: everything returned is what :attr:`principal` may see.
    """

    principal: Principal
    progress: bool

    @property
    def home(self) -> str | Path:
        """The hub's folder (embedded) or the service's URL (remote)."""
        ...

    @property
    def users(self) -> UsersAPI:
        """Users, groups and tokens."""
        ...

    def close(self) -> None:
        """Release the hub's resources (workers, connections)."""
        ...

    def __enter__(self) -> HubAPI: ...

    def __exit__(self, *exc: object) -> None: ...

    def info(self) -> HubInfo:
        """What this hub is and what its caller sees."""
        ...

    def stats(self) -> dict[str, int]:
        """How many datasets, records and files the hub holds (all versions)."""
        ...

    # -- Connect -----------------------------------------------------------------------

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

        Parameters
        ----------
        source
            A file, a folder, a zip/tar archive or any fsspec URL; or an OPTIMADE
            provider's base URL prefixed ``optimade+`` (``optimade+https://host/``) to
            harvest its structures, one record per entry (again: only what changed).
        title, authors
            The dataset's title and creators (``"Family, Given"`` or DataCite dicts).
        mapping
            Record field paths filled from table columns (``{"material.composition": "formula"}``).
            A mapping that names a column or key some file lacks fails the submission before
            anything is published (the message names the nearest columns), unless ``partial``.
        partial
            With a ``mapping``: publish the records it fits and report the files it does not
            fit as errors, instead of failing.
        visible_to
            Who may see it: ``"public"``, user names, ``"group:NAME"`` (default: public).
        curate
            Wait for a curator before publishing.
        source_name
            The dataset's stable name (default: derived from the title).  It belongs to
            whoever first submits under it; anyone else is refused with
            :class:`~hub.exceptions.NameNotAvailableError` (the same whatever holds it).
        group
            A group of yours a new ``source_name`` is claimed for: its members may then
            submit versions of it too.
        filter
            For an ``optimade+`` source: the OPTIMADE filter of the structures to take
            (``elements HAS "Si"``; None: all).
        copy
            False: publish by reference.  ``source`` is an fsspec URL (or a local path) whose
            files stay where they are; the hub keeps each file's sha256, size and URL, and
            reads (``open``, ``download``, catalogs, the REST file endpoints) go to the
            source, checking the sha256 (:meth:`verify` lists files that moved or changed).
            Through a hub service the URL must be one the service may read.
        progress
            Show progress bars (default: the hub's setting), or a callable given the
            submission each time it moves (a widget's progress bar).
        wait
            Return when the submission has finished (``False``: at once, queued or running;
            poll :meth:`submission`).
        **metadata
            Dataset metadata: ``description``, ``license``, ``tags``, ``custom``,
            ``extractors``, DataCite fields.

        Returns
        -------
        Submission
            ``status`` is ``complete``, ``pending_curation`` or ``failed`` (with
            ``message``; ``errors`` lists every file that failed) once done.

        Raises
        ------
        SourceError
            When ``source`` is a path on this machine that does not exist (no submission is made).
        ValidationError
            When the metadata is not valid: an author that is not ``"Family, Given"`` (or a
            name that splits into family and given names), a bad mapping target, ...
        """
        ...

    def retry(self, submission_id: str, progress: bool | None = None) -> Submission:
        """Run a failed or interrupted submission again, with its source and metadata."""
        ...

    def submission(self, submission_id: str) -> Submission:
        """One of your submissions (curators: anyone's)."""
        ...

    def submissions(self, status: str | None = None) -> list[Submission]:
        """Your submissions (curators: everyone's), optionally of one status."""
        ...

    def pending_curation(self) -> list[Submission]:
        """Submissions waiting for a curator (curators only)."""
        ...

    def curate(self, submission_id: str, accept: bool, reason: str = "") -> Submission:
        """Accept (publish) or reject a submission waiting for curation (curators only)."""
        ...

    def update_metadata(self, dataset: str, **changes: Any) -> Dataset:
        """A new version with changed metadata and the same files (its owner or an admin)."""
        ...

    # -- reading -------------------------------------------------------------------------

    def datasets(self, *, all_versions: bool = False, source_name: str | None = None) -> list[Dataset]:
        """The datasets you may see (latest version of each unless ``all_versions``)."""
        ...

    def dataset(self, ident: str) -> Dataset:
        """A dataset by source_id (``name_v2``) or source_name (its latest version)."""
        ...

    def files(self, source_id: str) -> list[dict[str, Any]]:
        """The files of a version: path, filename, sha256, length, mime_type, data_type."""
        ...

    def records(self, source_id: str, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """The records of a version (a page with ``offset`` and ``limit``)."""
        ...

    def manifest(self, source_id: str) -> dict[str, Any]:
        """A version's manifest: paths, sizes, sha256 and the root hash ({} if none)."""
        ...

    def record(self, record_id: str) -> dict[str, Any]:
        """One record by its id (``source_id.N``)."""
        ...

    def open(self, source_id: str, path: str, *, verify: bool = True) -> IO[bytes]:
        """A file of a version as a binary stream.

        A full read checks its sha256; ``verify=False`` gives a plain stream, for partial
        reads.
        """
        ...

    def file_info(self, source_id: str, path: str) -> dict[str, Any]:
        """One file of a version: path, filename, sha256, length, mime_type, data_type."""
        ...

    def file_locations(self, source_id: str, *, static: bool = False) -> dict[str, FileLocation]:
        """Where lazy readers (xarray, zarr, Pillow) read each file of a version from.

        The locations are fsspec URLs and options, ``{path: FileLocation}``.  Every read of these goes through the hub as its principal: an embedded hub's
        ``matterhub://<source_id>/<path>`` (:data:`PROTOCOL`), a service's file URL with the
        caller's token.  ``static``: locations that stay readable without this hub library,
        for exports (an embedded hub's blob URLs, once it has checked the principal may read
        them; a service's file URLs).
        """
        ...

    def download(
        self,
        target: str | SearchResult | Iterable[Hit | dict[str, Any]],
        dest: str | os.PathLike[str],
        paths: list[str] | None = None,
    ) -> list[Path]:
        """Copy files under ``dest``, verifying every sha256.

        ``target`` is a dataset (source_id or source_name; ``paths`` picks some of its
        files) written as ``dest/<path>``, or search results / records, whose files are
        written as ``dest/<source_id>/<path>``.
        """
        ...

    def verify(self, source_id: str) -> list[str]:
        """The paths of a version whose blobs are missing or do not match their sha256."""
        ...

    def provenance(self, sha256: str) -> bytes:
        """An executed notebook that a notebook servable's run stored as its provenance.

        ``sha256`` is the run's ``notebook_sha256``; the notebook is given only if you may
        see that run.
        """
        ...

    # -- Discover ----------------------------------------------------------------------------

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
        ``record`` or ``dataset``.  A field none of your documents has finds nothing; the
        result's ``warnings`` name it with the nearest fields there are
        (``did you mean 'material.elements'?``), and a facet on it carries its ``warning``.
        """
        ...

    def scroll(
        self, q: str = "*", *, filters: dict[str, Any] | None = None, kinds: Sequence[str] | None = None
    ) -> Iterator[Hit]:
        """Every hit of ``q`` you may see, in a stable order, with no cap."""
        ...

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
        ...

    def optimade_search(
        self,
        filter: str = "",
        *,
        limit: int = 20,
        offset: int = 0,
        sort: str | None = None,
        response_fields: str | Sequence[str] | None = None,
    ) -> StructureResults:
        """Structures matching an OPTIMADE filter, as OPTIMADE resources."""
        ...

    def fields(self) -> dict[str, dict[str, int]]:
        """Searchable fields of what you may see: ``{path: {type: documents}}``."""
        ...

    def catalog(
        self, query: str | SearchResult | None = None, *, all_versions: bool = False
    ) -> IntakeCatalog:
        """An intake catalog of datasets you may see.

        One entry per dataset you may see, per dataset ``query`` matches, or per dataset
        of a search result's hits (plus their records).
        """
        ...

    def rebuild_index(self) -> int:
        """Rebuild the search index from the catalog (admins); the number of documents."""
        ...

    def extractors(self) -> list[dict[str, Any]]:
        """What each installed extractor reads and fills (declarative, nothing is run)."""
        ...

    # -- Servables (DLHub) -----------------------------------------------------------------

    def describe(self, model: Any, **metadata: Any) -> ServableDescription:
        """A servable description of a model: inputs, outputs, requirements, DataCite.

        ``model`` is a scikit-learn estimator, a Keras model (object or file), a typed
        Python callable, a notebook or a DLHub document.
        """
        ...

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
        ...

    def publish_servable(self, servable: Any, *, group: str | None = None, **metadata: Any) -> str:
        """Publish a described servable (a new version if the name exists); ``owner/name``.

        ``owner`` is you, or ``group`` (one of yours) whose members then publish its
        versions too.  A name that belongs to someone else is refused with
        :class:`~hub.exceptions.NameNotAvailableError`.
        """
        ...

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
        ...

    def servable(self, name: str) -> PublishedServable:
        """A servable you may see: ``owner/name@version``, ``owner/name`` (latest) or ``name``."""
        ...

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

        Parameters
        ----------
        name
            ``owner/name``, ``owner/name@version`` or ``name``.
        inputs
            The input; a list of inputs runs as one batch (and returns a list).
        parameters
            Keyword parameters (checked against the servable's).
        asynchronous
            Return a :class:`~hub.servables.tasks.Task` at once (see :meth:`task`).
        batch
            Force (True) or forbid (False) reading ``inputs`` as a list of inputs.
        cache
            Memoize by version and input hash (default: the servable's setting).
        timeout, memory_mb
            Limits for this run (default: the servable's, within the hub's own limits).
        trace
            Return a :class:`~hub.pipelines.trace.RunTrace` (the output, each step's exact
            version, time and input and output hashes) instead of the output; synchronous
            runs only.
        """
        ...

    def task(self, task_id: str) -> Task:
        """An asynchronous run you started (admins: anyone's)."""
        ...

    def deprecate_servable(self, name: str, version: int | None = None) -> PublishedServable:
        """Mark a servable (or one version) deprecated (its owner or an admin)."""
        ...

    def delete_servable(self, name: str, version: int | None = None) -> None:
        """Delete a servable (or one version) (its owner or an admin)."""
        ...

    def servable_artifact(self, name: str) -> IO[bytes]:
        """The artifact (packaged tar) of a servable version you may see; a full read checks its sha256."""
        ...


#: The entry point group of hub implementations (subclasses of :class:`HubImplementation`).
HUB_GROUP = "matterhub.hubs"


@dataclass(frozen=True)
class OpenOptions:
    """What :func:`Hub` was given besides the location; each implementation takes some."""

    user: str | None = None
    groups: list[str] | None = None
    token: str | None = None
    progress: bool = True
    catalog: str | None = None
    store: str | None = None
    archive_limits: ArchiveLimits | None = None
    timeout: float | None = None

    def refuse(self, names: Sequence[str], why: str) -> None:
        """Raise :class:`~hub.exceptions.HubError` naming the ``names`` that were given."""
        from hub.exceptions import HubError

        given = [n for n in names if getattr(self, n) is not None]
        if given:
            raise HubError(f"{', '.join(given)}: not for this hub ({why})")


class HubImplementation:
    """A kind of hub :func:`Hub` can open: the locations it serves and how to open one.

    Register a subclass in the entry point group ``matterhub.hubs``; it implements
    :class:`HubAPI` and :meth:`from_location`.
    """

    #: URL schemes of the locations it opens (``""``: a plain path).
    schemes: tuple[str, ...] = ()

    @classmethod
    def from_location(cls, location: str | os.PathLike[str] | None, options: OpenOptions) -> HubAPI:
        """Open the hub at ``location`` with ``options`` (refusing those it does not take)."""
        raise NotImplementedError(f"{cls.__name__} does not say how to open a location")


def hub_reference(hub: HubAPI) -> dict[str, Any]:
    """What names ``hub`` as its principal in a catalog entry or a file location.

    ``{"hub": folder or URL, "user": ..., "groups": [...]}``; user None means the hub's
    local owner.
    """
    from hub.access import Principal

    local, me = Principal.local(), hub.principal
    if (me.user, me.groups) == (local.user, local.groups):  # ids aside: the name opens the same one
        return {"hub": str(hub.home), "user": None, "groups": []}
    return {"hub": str(hub.home), "user": hub.principal.user, "groups": sorted(hub.principal.groups)}


def scheme_of(location: str | os.PathLike[str] | None) -> str:
    """The scheme of a hub location: ``http``, ``https``, ``file``, or ``""`` for a path."""
    if not isinstance(location, str) or "://" not in location:
        return ""
    return location.split("://", 1)[0].lower()


@cache
def implementations() -> dict[str, type[HubImplementation]]:
    """The installed hub implementations, by scheme (entry point group ``matterhub.hubs``)."""
    from hub.plugins import load_group

    return {
        scheme: cls
        for cls in load_group(HUB_GROUP, HubImplementation, "hub").values()
        for scheme in cls.schemes
    }


def Hub(
    location: str | os.PathLike[str] | None = None,
    *,
    user: str | None = None,
    groups: list[str] | None = None,
    token: str | None = None,
    progress: bool = True,
    catalog: str | None = None,
    store: str | None = None,
    archive_limits: ArchiveLimits | None = None,
    timeout: float | None = None,
) -> HubAPI:
    """Open a hub: the embedded hub in a folder, or the client of a hub service.

    Parameters
    ----------
    location
        A hub folder (default ``$MATTERHUB_HOME`` or ``~/.matterhub``), or the URL of a hub
        service (``http://host:port``).
    user, groups
        Embedded: the principal to act as (default: the local owner, an admin).
    token
        Act as the user a token stands for (a remote hub: default ``$MATTERHUB_TOKEN``).
    progress
        Show tqdm progress bars for long work.
    catalog, store
        Embedded: the catalog URL (``postgresql+psycopg://...``) and the blob store URL (any
        fsspec URL), saved in the hub's ``config.json``.
    archive_limits
        Embedded: the limits on archives a submission unpacks.
    timeout
        Remote: seconds to wait for one HTTP response (default 300).

    Returns
    -------
    HubAPI
        An embedded hub (:class:`hub.hubs.embedded.EmbeddedHub`) or the client of a service
        (:class:`hub.hubs.remote.RemoteHub`): the same API.

    Raises
    ------
    HubError
        When no installed implementation opens the location's scheme, or an option does not
        apply to the hub it names (``user`` for a service, ``timeout`` for a folder).
    """
    from hub.exceptions import HubError

    scheme = scheme_of(location)
    found = implementations()
    if scheme not in found:
        known = ", ".join(f"{s}://" if s else "a folder" for s in sorted(found))
        raise HubError(f"no hub opens {location!r}: give {known}")
    options = OpenOptions(user, groups, token, progress, catalog, store, archive_limits, timeout)
    hub: HubAPI = found[scheme].from_location(location, options)
    return hub


__all__ = [
    "FILE_FIELDS",
    "HUB_GROUP",
    "PROTOCOL",
    "Dataset",
    "FileLocation",
    "Hub",
    "HubAPI",
    "HubImplementation",
    "HubInfo",
    "OpenOptions",
    "UsersAPI",
    "hub_reference",
    "implementations",
    "load_manifest",
    "scheme_of",
]
