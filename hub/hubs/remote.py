"""``Hub("http://host:port", token=...)``: the hub service, through the embedded hub's API.

:class:`RemoteHub` implements :class:`hub.api.HubAPI` as the embedded hub does, with the
same parameters and return types (:class:`~hub.connect.submission.Submission`,
:class:`~hub.index.results.SearchResult`, :class:`~hub.servables.tasks.Task`,
:class:`~hub.api.Dataset`, ...), so a notebook switches between the two by changing one
line.  Files are read over HTTP and checked against their sha256; folders
are zipped and uploaded; servables are described and packaged here and uploaded.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, overload
from urllib.parse import quote

import httpx
from tqdm.auto import tqdm

from hub.access import Principal
from hub.access.users import TokenInfo, User
from hub.api import Dataset, FileLocation, HubImplementation, HubInfo, OpenOptions, load_manifest
from hub.connect.origin import require_local_source
from hub.connect.submission import Submission
from hub.exceptions import (
    AccessDeniedError,
    AuthenticationError,
    ConflictError,
    HubError,
    InputValidationError,
    IntegrityError,
    NameNotAvailableError,
    NotFoundError,
    QueryError,
    ServableCrashedError,
    ServableMemoryError,
    ServableRefusedError,
    ServableRunError,
    ServableTimeoutError,
    SourceChangedError,
    SourceError,
    ValidationError,
)
from hub.index.results import Hit, SearchResult, files_by_dataset
from hub.store.blobs import VerifyingReader

if TYPE_CHECKING:
    from intake.readers.entry import Catalog as IntakeCatalog

    from hub.optimade.results import StructureResults
    from hub.pipelines.describe import Step
    from hub.pipelines.trace import RunTrace
    from hub.servables.description import ServableDescription
    from hub.servables.published import PublishedServable
    from hub.servables.tasks import Task

ENV_TOKEN = "MATTERHUB_TOKEN"

#: HTTP status -> the error class raised for it (the service sends the same statuses the
#: embedded hub's errors carry).
_ERRORS: dict[int, type[HubError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: AccessDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ServableRunError,
    502: ServableCrashedError,
    503: ServableRefusedError,
    504: ServableTimeoutError,
    507: ServableMemoryError,
}


def _raise_for(response: httpx.Response) -> None:
    if response.is_success or response.status_code == 304:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    message = str(detail or response.text or response.reason_phrase)
    title = body.get("title", "") if isinstance(body, dict) else ""
    status = response.status_code
    if status == 400 and title == "Bad query":
        raise QueryError(
            message.split("\n")[0], body.get("query", ""), body.get("position"), body.get("hint", "")
        )
    if status == 400 and title == "Invalid servable input":
        raise InputValidationError(message)
    if status == 409 and "integrity" in title.lower():
        raise IntegrityError(message)
    if status == 409 and title == SourceChangedError.title:
        raise SourceChangedError(message)
    if status == 409 and title == NameNotAvailableError.title:
        raise NameNotAvailableError(message)
    cls = _ERRORS.get(status, HubError)
    if issubclass(cls, ServableRunError):
        raise cls(
            message,
            kind=body.get("kind", "error"),
            exc_type=body.get("exc_type"),
            task_id=body.get("task_id"),
        )
    err = cls(message)
    err.status_code = status
    raise err


def _time(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _submission(body: dict[str, Any]) -> Submission:
    return Submission(
        id=body["id"],
        status=body["status"],
        source=body["source"],
        source_name=body["source_name"],
        source_id=body.get("source_id"),
        owner=body["owner"],
        steps=list(body.get("steps") or []),
        errors=list(body.get("errors") or []),
        message=body.get("message"),
        created_at=_time(body.get("created_at")),
        updated_at=_time(body.get("updated_at")),
    )


def _search_result(body: dict[str, Any], hub: RemoteHub) -> SearchResult:
    hits = [Hit(h["id"], h["kind"], h.get("score"), h["document"]) for h in body["hits"]]
    return SearchResult(
        query=body["query"],
        total=body["total"],
        hits=hits,
        facets=body.get("facets") or {},
        offset=body.get("offset", 0),
        limit=body.get("limit", len(hits)),
        hub=hub,
        warnings=list(body.get("warnings") or []),
    )


class _HTTPFile(io.RawIOBase):
    """A streamed HTTP response body as a read-only file."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks = response.iter_raw(1 << 20)
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


class RemoteHub(HubImplementation):
    """A hub service, through the embedded hub's Python API.

    Parameters
    ----------
    url
        The service (``http://127.0.0.1:8750``).
    token
        A bearer token (default ``$MATTERHUB_TOKEN``); without one you are anonymous and
        see public things only.
    progress
        Show tqdm progress bars for uploads, submissions and downloads.
    timeout
        Seconds to wait for one HTTP response.
    """

    #: Locations this implementation opens: the URLs of hub services.
    schemes = ("http", "https")

    @classmethod
    def from_location(cls, location: str | os.PathLike[str] | None, options: OpenOptions) -> RemoteHub:
        """The client of the hub service at the URL ``location`` (see :func:`hub.api.Hub`)."""
        options.refuse(
            ("user", "groups", "catalog", "store", "archive_limits"),
            "a remote hub's users and settings come from the service (give token=...)",
        )
        return cls(
            os.fspath(location or ""),
            token=options.token,
            progress=options.progress,
            timeout=300.0 if options.timeout is None else options.timeout,
        )

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        progress: bool = True,
        timeout: float = 300.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.api = self.url + "/api"
        self.token = token if token is not None else os.environ.get(ENV_TOKEN) or None
        self.progress = progress
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        self._http = httpx.Client(base_url=self.api, headers=headers, timeout=timeout)
        me = self._get("/whoami")
        self.principal = Principal(me["user"], frozenset(me["groups"]))

    # -- plumbing ------------------------------------------------------------------------

    @property
    def home(self) -> str:
        """The service URL (the embedded hub's folder, for a remote hub)."""
        return self.url

    def _request(self, method: str, path: str, **kw: Any) -> Any:
        r = self._http.request(method, path, **kw)
        _raise_for(r)
        if r.status_code == 204 or not r.content:
            return None
        return r.json()

    def _get(self, path: str, **kw: Any) -> Any:
        return self._request("GET", path, **kw)

    def _post(self, path: str, **kw: Any) -> Any:
        return self._request("POST", path, **kw)

    def close(self) -> None:
        """Close the HTTP connection to the service (the service itself keeps running)."""
        self._http.close()

    def __enter__(self) -> RemoteHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Hub {self.url} as {self.principal.name}>"

    def info(self) -> HubInfo:
        """What the service is and what its caller sees."""
        b = self._get("/info")
        return {
            "name": b["name"],
            "version": b["version"],
            "api": b["api"],
            "datasets": b["datasets"],
            "user": b["user"],
        }

    def stats(self) -> dict[str, int]:
        """How many datasets (all versions), records and files the service's hub holds."""
        out: dict[str, int] = self._get("/stats")
        return out

    # -- Connect ---------------------------------------------------------------------------

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
        """Send a dataset to the service and, by default, wait until it is processed.

        ``source`` is a URL the service reads itself, or a local file, archive or folder
        (zipped) that is uploaded.  Waits until the service has processed it
        (``wait=False``: returns the queued submission at once; poll :meth:`submission`).
        ``progress``: show tqdm bars, or a callable given the submission at each poll.
        ``copy=False`` (publish by reference) needs a URL: the service reads the files there.
        """
        fields: dict[str, Any] = {
            "title": title,
            "authors": list(authors),
            "mapping": mapping,
            "partial": partial or None,
            "visible_to": visible_to,
            "curate": curate,
            "source_name": source_name,
            "group": group,
            "filter": filter,
            **metadata,
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        show = self.progress if progress is None else bool(progress)
        src = os.fspath(source)
        if "://" in src and not src.startswith("file://"):
            body = self._post(
                "/submissions", json={"source": src, **fields, **({} if copy else {"copy": False})}
            )
        elif not copy:
            raise SourceError(
                f"{src} is on this machine: a hub service publishes by reference only from a URL it "
                "can read (give an https://, s3://, ... URL, or copy=True to upload the files)"
            )
        else:
            require_local_source(src)
            body = self._upload(Path(src.removeprefix("file://")), fields, show)
        sub = _submission(body)
        return self._follow(sub.id, show, progress if callable(progress) else None) if wait else sub

    def _upload(self, path: Path, fields: dict[str, Any], show: bool) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="matterhub-upload-") as tmp:
            if path.is_dir():
                upload = Path(tmp) / f"{path.name or 'dataset'}.zip"
                _zip_folder(path, upload)
                fields.setdefault("source_name", None)
                if fields["source_name"] is None:
                    fields.pop("source_name")
            else:
                upload = path
            size = upload.stat().st_size
            with (
                open(upload, "rb") as f,
                tqdm(
                    total=size, unit="B", unit_scale=True, desc="upload", disable=not show, leave=False
                ) as bar,
            ):
                reader = _ProgressReader(f, bar)
                files = {"file": (upload.name, reader, "application/octet-stream")}
                out: dict[str, Any] = self._post(
                    "/submissions/upload", files=files, data={"metadata": json.dumps(fields)}
                )
                return out

    def _follow(
        self, sub_id: str, show: bool, report: Callable[[Submission], None] | None = None, poll: float = 0.1
    ) -> Submission:
        with tqdm(total=7, desc=f"submission {sub_id}", disable=not show, leave=False) as bar:
            while True:
                sub = self.submission(sub_id)
                if report is not None:
                    report(sub)
                done = sum(1 for s in sub.steps if s.get("status") in ("done", "skipped", "failed"))
                bar.n = done
                bar.refresh()
                if sub.done:
                    return sub
                time.sleep(poll)
                poll = min(poll * 1.5, 2.0)

    def retry(self, submission_id: str, progress: bool | None = None) -> Submission:
        """Run a failed or interrupted submission again on the service and wait for it.

        ``progress`` shows tqdm bars while waiting (None: the hub's ``progress`` setting).
        """
        self._post(f"/submissions/{submission_id}/retry")
        return self._follow(submission_id, self.progress if progress is None else progress)

    def submission(self, submission_id: str) -> Submission:
        """One of your submissions (curators: anyone's), as the service reports it now."""
        return _submission(self._get(f"/submissions/{quote(submission_id, safe='')}"))

    def submissions(self, status: str | None = None) -> list[Submission]:
        """Your submissions (curators: everyone's), optionally of one status."""
        params = {"status": status} if status else {}
        return [_submission(b) for b in self._get("/submissions", params=params)]

    def pending_curation(self) -> list[Submission]:
        """Submissions waiting for a curator (curators only)."""
        return [_submission(b) for b in self._get("/curation")]

    def curate(self, submission_id: str, accept: bool, reason: str = "") -> Submission:
        """Accept (publish) or reject a submission waiting for curation (curators only)."""
        return _submission(
            self._post(f"/submissions/{submission_id}/curate", json={"accept": accept, "reason": reason})
        )

    def update_metadata(self, dataset: str, **changes: Any) -> Dataset:
        """A new version with changed metadata and the same files (its owner or an admin)."""
        return Dataset(self, self._request("PATCH", f"/datasets/{quote(dataset, safe='')}", json=changes))

    # -- reading ---------------------------------------------------------------------------

    def datasets(self, *, all_versions: bool = False, source_name: str | None = None) -> list[Dataset]:
        """The datasets you may see (latest version of each unless ``all_versions``)."""
        params: dict[str, Any] = {"all_versions": all_versions}
        if source_name:
            params["source_name"] = source_name
        return [Dataset(self, b) for b in self._get("/datasets", params=params)]

    def dataset(self, ident: str) -> Dataset:
        """A dataset by source_id (``name_v2``) or source_name (its latest version)."""
        return Dataset(self, self._get(_dataset_path(ident)))

    def files(self, source_id: str) -> list[dict[str, Any]]:
        """The files of a version: path, filename, sha256, length, mime_type, data_type."""
        out: list[dict[str, Any]] = self._get(_dataset_path(source_id, "/files"))
        return out

    def records(self, source_id: str, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """The records of a version (a page with ``offset`` and ``limit``).

        They are fetched in requests of at most 10,000 records, the most the service sends
        at once; ``limit=None`` reads to the end.
        """
        out: list[dict[str, Any]] = []
        page = 10_000
        while limit is None or len(out) < limit:
            size = page if limit is None else min(page, limit - len(out))
            batch = self._get(
                _dataset_path(source_id, "/records"), params={"offset": offset + len(out), "limit": size}
            )
            out += batch
            if len(batch) < size:
                break
        return out

    def manifest(self, source_id: str) -> dict[str, Any]:
        """A version's manifest: paths, sizes, sha256 and the root hash ({} if none)."""
        out: dict[str, Any] = self._get(_dataset_path(source_id, "/manifest"))
        return out or load_manifest(None)

    def record(self, record_id: str) -> dict[str, Any]:
        """One record by its id (``source_id.N``)."""
        out: dict[str, Any] = self._get(f"/records/{quote(record_id, safe='')}")
        return out

    def _file_url(self, source_id: str, path: str) -> str:
        """Where the service serves a file (``GET``; Range requests; ``ETag`` is its sha256)."""
        return f"{self.api}{_dataset_path(source_id, '/files/' + quote(path))}"

    def file_info(self, source_id: str, path: str) -> dict[str, Any]:
        """One file of a version: path, filename, sha256, length, mime_type, data_type."""
        for f in self.files(source_id):
            if f["path"] == path:
                return f
        raise NotFoundError(f"{source_id} has no file {path!r}")

    def file_locations(self, source_id: str, *, static: bool = False) -> dict[str, FileLocation]:
        """The service's URL of each file of a version, with the caller's token as a header.

        ``static`` changes nothing: these locations already read without this library.
        """
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        options = {"headers": headers} if headers else None
        sid = self.dataset(source_id).source_id
        return {f["path"]: FileLocation(self._file_url(sid, f["path"]), options) for f in self.files(sid)}

    def provenance(self, sha256: str) -> bytes:
        """An executed notebook a notebook servable's run stored as its provenance."""
        r = self._http.get(f"/provenance/{quote(sha256, safe='')}")
        _raise_for(r)
        return r.content

    def open(self, source_id: str, path: str, *, verify: bool = True) -> IO[bytes]:
        """A file as a binary stream; a full read checks its sha256 (``verify``)."""
        request = self._http.build_request("GET", self._file_url(source_id, path))
        response = self._http.send(request, stream=True)
        if not response.is_success:
            response.read()
            _raise_for(response)
        raw = io.BufferedReader(_HTTPFile(response))
        if not verify:
            return raw
        sha = response.headers.get("etag", "").strip('"')
        length = int(response.headers.get("content-length", 0)) or None
        return VerifyingReader(raw, sha, length)  # type: ignore[return-value]

    def download(
        self,
        target: str | SearchResult | Iterable[Hit | dict[str, Any]],
        dest: str | os.PathLike[str],
        paths: list[str] | None = None,
    ) -> list[Path]:
        """Copy files under ``dest`` (as :meth:`Hub.download`), verifying every sha256."""
        if isinstance(target, str):
            ds = self.dataset(target)
            return self._copy_files(ds.source_id, Path(dest), paths)
        wanted = files_by_dataset(target)
        out: list[Path] = []
        for source_id, file_paths in sorted(wanted.items()):
            out += self._copy_files(source_id, Path(dest) / source_id, sorted(file_paths) or None)
        return out

    def _copy_files(self, source_id: str, dest: Path, paths: list[str] | None) -> list[Path]:
        files = self.files(source_id)
        if paths is not None:
            wanted = set(paths)
            missing = wanted - {f["path"] for f in files}
            if missing:
                raise NotFoundError(f"{source_id} has no file(s) {', '.join(sorted(missing))}")
            files = [f for f in files if f["path"] in wanted]
        root = dest.absolute()
        out = []
        with tqdm(
            total=sum(f["length"] for f in files),
            unit="B",
            unit_scale=True,
            desc="download",
            disable=not self.progress,
            leave=False,
        ) as bar:
            for f in files:
                target = (root / f["path"]).resolve()
                if not target.is_relative_to(root):
                    raise HubError(f"refusing to write {f['path']!r} outside {root}")
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.part")
                with self.open(source_id, f["path"]) as src, open(tmp, "wb") as out_f:
                    while block := src.read(1 << 20):
                        out_f.write(block)
                        bar.update(len(block))
                os.replace(tmp, target)
                out.append(target)
        return out

    def verify(self, source_id: str) -> list[str]:
        """The paths of a version whose blobs are missing or do not match their sha256."""
        bad: list[str] = self._get(_dataset_path(source_id, "/verify"))["bad"]
        return bad

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
        """Search datasets and records you may see (see :meth:`hub.api.HubAPI.search`).

        The service runs the query under its access rules; the result keeps this hub, so
        its :meth:`~hub.index.results.SearchResult.to_catalog` reads through the service.
        """
        body = {
            "q": q,
            "facets": list(facets),
            "filters": filters,
            "limit": limit,
            "offset": offset,
            "sort": sort if sort is None or isinstance(sort, str) else list(sort),
            "kinds": list(kinds) if kinds else None,
        }
        return _search_result(self._post("/search", json=body), self)

    def scroll(
        self, q: str = "*", *, filters: dict[str, Any] | None = None, kinds: Sequence[str] | None = None
    ) -> Iterator[Hit]:
        """Every hit of ``q`` you may see, in a stable order, fetched 1000 at a time."""
        after: int | None = None
        while True:
            hits, after = self.scroll_page(q, filters=filters, kinds=kinds, after=after, size=1000)
            yield from hits
            if after is None:
                return

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
        body = self._post(
            "/search/scroll",
            json={
                "q": q,
                "filters": filters,
                "kinds": list(kinds) if kinds else None,
                "after": after,
                "size": size,
            },
        )
        return [Hit(h["id"], h["kind"], None, h["document"]) for h in body["hits"]], body["next"]

    def optimade_search(
        self,
        filter: str = "",
        *,
        limit: int = 20,
        offset: int = 0,
        sort: str | None = None,
        response_fields: str | Sequence[str] | None = None,
    ) -> StructureResults:
        """See :meth:`hub.api.HubAPI.optimade_search` (the service translates the filter)."""
        from hub.optimade.results import StructureResults, raise_for_optimade, structure_params

        params = structure_params(
            filter, limit=limit, offset=offset, sort=sort, response_fields=response_fields
        )
        response = self._http.get(f"{self.url}/optimade/v1/structures", params=params)
        raise_for_optimade(response)
        return StructureResults.from_response(response.json(), filter, offset, limit)

    def fields(self) -> dict[str, dict[str, int]]:
        """Searchable fields of what you may see: ``{path: {type: documents}}``."""
        out: dict[str, dict[str, int]] = self._get("/fields")
        return out

    def catalog(
        self, query: str | SearchResult | None = None, *, all_versions: bool = False
    ) -> IntakeCatalog:
        """An intake catalog of the datasets you may see.

        Its entries are the datasets ``query`` matches, or those of a search result's hits
        (all of them when None); files are read over HTTP from the service.
        """
        from hub.catalog import catalog_for

        return catalog_for(self, query, all_versions=all_versions)

    def rebuild_index(self) -> int:
        """Rebuild the service's search index from its catalog (admins); the number of documents."""
        out: int = self._post("/index/rebuild")["documents"]
        return out

    def extractors(self) -> list[dict[str, Any]]:
        """What each extractor installed on the service reads and fills."""
        out: list[dict[str, Any]] = self._get("/extractors")
        return out

    # -- Servables -------------------------------------------------------------------------

    def describe(self, model: Any, **metadata: Any) -> ServableDescription:
        """Describe a model or function here (nothing is sent until :meth:`publish_servable`)."""
        from hub.servables.description import describe

        if not metadata.get("authors") and self.principal.user:
            metadata["authors"] = [self.principal.user]
        return describe(model, **metadata)

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
        """Package a described servable here and upload it (for ``group``, when given); returns ``owner/name``."""
        from hub.servables import package
        from hub.servables.description import ServableDescription

        sv = servable if isinstance(servable, ServableDescription) else self.describe(servable, **metadata)
        with (
            tempfile.TemporaryDirectory(prefix="matterhub-servable-") as tmp,
            contextlib.ExitStack() as stack,
        ):
            files = None
            doc = sv.metadata.to_document()
            if sv.metadata.servable.runnable or sv.code or sv.files:
                tar, built = package.build(sv, Path(tmp))
                doc["dlhub"]["files"] = {**doc["dlhub"].get("files", {}), **built}
                files = {
                    "artifact": ("artifact.tar", stack.enter_context(open(tar, "rb")), "application/x-tar")
                }
            data = {"metadata": json.dumps(doc), **({"group": group} if group is not None else {})}
            body = self._post("/servables", data=data, files=files)
        sv.metadata.dlhub.owner = body["owner"]
        sv.metadata.dlhub.id = body["id"]
        sv.metadata.dlhub.version = body["version"]
        out: str = body["id"]
        return out

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
        body = {
            "q": q,
            "facets": list(facets),
            "filters": filters,
            "limit": limit,
            "offset": offset,
            "sort": sort if sort is None or isinstance(sort, str) else list(sort),
        }
        return _search_result(self._post("/servables/search", json=body), self)

    def servable(self, name: str) -> PublishedServable:
        """A servable you may see: ``owner/name@version``, ``owner/name`` (latest) or ``name``."""
        from hub.servables.published import PublishedServable

        if "/" in name:
            b = self._get(self._servable_path(name))
        else:  # the service resolves a bare name as the embedded hub does
            b = self._get(f"/servable-names/{quote(name, safe='@')}")
        return PublishedServable(
            id=b["id"],
            version=b["version"],
            owner=b["owner"],
            status=b["status"],
            type=b["type"],
            document=b["document"],
            versions=b["versions"],
        )

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
        """Run a servable on the service (see :meth:`hub.api.HubAPI.run`).

        The service caps ``timeout`` and ``memory_mb`` at its own limits.
        """
        from hub.pipelines.trace import RunTrace
        from hub.servables.codec import to_json
        from hub.servables.request import RunResult
        from hub.servables.tasks import Task

        body = self._post(
            f"{self._servable_path(name)}/run",
            json={
                "inputs": to_json(inputs),
                "parameters": to_json(parameters) if parameters else None,
                "asynchronous": asynchronous,
                "batch": batch,
                "cache": cache,
                "timeout": timeout,
                "memory_mb": memory_mb,
                "trace": trace,
            },
        )
        if asynchronous:
            return Task.from_json(body["task"], refresh=self.task)
        output = RunResult.from_json(body).outputs(name)
        if trace:
            return RunTrace(output, RunTrace.from_dict(body["trace"]).steps, body["trace"]["total_ms"])
        return output

    def task(self, task_id: str) -> Task:
        """An asynchronous run you started (admins: anyone's)."""
        from hub.servables.tasks import Task

        return Task.from_json(self._get(f"/tasks/{quote(task_id, safe='')}"), refresh=self.task)

    def deprecate_servable(self, name: str, version: int | None = None) -> PublishedServable:
        """Mark a servable (or one version) deprecated (its owner or an admin)."""
        params = {"version": version} if version is not None else {}
        self._post(f"{self._servable_path(name, at=False)}/deprecate", params=params)
        return self.servable(name if version is None else f"{name}@{version}")

    def delete_servable(self, name: str, version: int | None = None) -> None:
        """Delete a servable (or one version) (its owner or an admin)."""
        params = {"version": version} if version is not None else {}
        self._request("DELETE", self._servable_path(name, at=False), params=params)

    def servable_artifact(self, name: str) -> IO[bytes]:
        """The artifact (packaged tar) of a servable version you may see; a full read checks its sha256."""
        request = self._http.build_request("GET", f"{self._servable_path(name)}/artifact")
        response = self._http.send(request, stream=True)
        if not response.is_success:
            response.read()
            _raise_for(response)
        raw = io.BufferedReader(_HTTPFile(response))
        sha = response.headers.get("etag", "").strip('"')
        length = int(response.headers.get("content-length", 0)) or None
        return VerifyingReader(raw, sha, length)  # type: ignore[return-value]

    def _servable_path(self, name: str, *, at: bool = True) -> str:
        """The API path of a servable; a bare ``name`` is resolved first (as you may see it)."""
        if "/" not in name:
            ref = self.servable(name)
            name = f"{ref.id}@{name.partition('@')[2]}" if "@" in name else ref.id
        owner, _, rest = name.partition("/")
        return f"/servables/{quote(owner, safe='')}/{quote(rest, safe='@' if at else '')}"

    @property
    def users(self) -> RemoteUsers:
        """Users, groups and tokens (admins manage users; everyone their own tokens)."""
        return RemoteUsers(self._request)


class RemoteUsers:
    """Users, groups and tokens of a hub service: the twin of :class:`hub.access.users.Users`.

    It has the same methods; ``actor`` is accepted for symmetry, but the service acts as
    the token's user.
    """

    def __init__(self, request: Callable[..., Any]) -> None:
        self._request = request

    def create_user(self, actor: Principal, name: str, groups: Iterable[str] = ()) -> User:
        """Create a user (admins)."""
        b = self._request("POST", "/users", json={"name": name, "groups": list(groups)})
        return User(b["name"], tuple(b["groups"]), b["created_at"])

    def user(self, actor: Principal, name: str) -> User:
        """One user (admins, or the user itself)."""
        b = self._request("GET", f"/users/{quote(name, safe='')}")
        return User(b["name"], tuple(b["groups"]), b["created_at"])

    def users(self, actor: Principal) -> list[User]:
        """Every user (admins)."""
        return [User(b["name"], tuple(b["groups"]), b["created_at"]) for b in self._request("GET", "/users")]

    def set_groups(self, actor: Principal, name: str, groups: Iterable[str]) -> User:
        """Replace a user's groups (admins)."""
        b = self._request("PUT", f"/users/{quote(name, safe='')}/groups", json={"groups": list(groups)})
        return User(b["name"], tuple(b["groups"]), b["created_at"])

    def delete_user(self, actor: Principal, name: str, transfer_to: str | None = None) -> None:
        """Delete a user and revoke its tokens (admins); ``transfer_to`` inherits what they own."""
        params = {"transfer_to": transfer_to} if transfer_to is not None else {}
        self._request("DELETE", f"/users/{quote(name, safe='')}", params=params)

    def groups(self, actor: Principal) -> dict[str, list[str]]:
        """Every group and its members (admins)."""
        out: dict[str, list[str]] = self._request("GET", "/groups")
        return out

    def create_token(
        self,
        actor: Principal,
        user: str | None = None,
        label: str = "",
        expires_in: _dt.timedelta | None = None,
    ) -> tuple[str, TokenInfo]:
        """A new token (shown once) for ``user`` (yourself by default; admins: anyone)."""
        body: dict[str, Any] = {"user": user, "label": label}
        if expires_in is not None:
            body["expires_in_days"] = expires_in.total_seconds() / 86400
        b = self._request("POST", "/tokens", json=body)
        token = b.pop("token")
        return token, TokenInfo(**b)

    def tokens(self, actor: Principal, user: str | None = None) -> list[TokenInfo]:
        """Your tokens (admins: anyone's)."""
        params = {"user": user} if user else {}
        return [TokenInfo(**b) for b in self._request("GET", "/tokens", params=params)]

    def revoke_token(self, actor: Principal, token_id: str) -> None:
        """Revoke a token (its user or an admin)."""
        self._request("DELETE", f"/tokens/{quote(token_id, safe='')}")


def _dataset_path(ident: str, suffix: str = "") -> str:
    return f"/datasets/{quote(ident, safe='')}{suffix}"


class _ProgressReader:
    """A file whose reads advance a tqdm bar (an upload's progress)."""

    def __init__(self, f: IO[bytes], bar: Any) -> None:
        self._f = f
        self._bar = bar

    def read(self, size: int = -1) -> bytes:
        data = self._f.read(size)
        self._bar.update(len(data))
        return data

    def __iter__(self) -> Iterator[bytes]:
        while block := self.read(1 << 20):
            yield block


def _zip_folder(folder: Path, dest: Path) -> None:
    """Zip a folder for upload (regular files only; links are not followed out of it)."""
    root = folder.resolve()
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for p in sorted(root.rglob("*")):
            if p.is_symlink() or not p.is_file():
                continue
            zf.write(p, p.relative_to(root).as_posix())
