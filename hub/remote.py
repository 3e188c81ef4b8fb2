"""``Hub("http://host:port", token=...)``: the hub service, through the same Python API as
the embedded hub.

Every method of :class:`~hub.client.Hub` that users call has its twin here, returning the
same kinds of objects (:class:`~hub.connect.submission.Submission`,
:class:`~hub.index.results.SearchResult`, :class:`~hub.servables.tasks.Task`, a dataset
with ``files()``, ``records()``, ``open()``), so a notebook switches between the two by
changing one line.  Files are read over HTTP and checked against their sha256; folders
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
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx
from tqdm.auto import tqdm

from hub.access import Principal
from hub.connect.submission import Submission
from hub.dataset import Dataset
from hub.exceptions import (
    AccessDeniedError,
    AuthenticationError,
    ConflictError,
    HubError,
    InputValidationError,
    IntegrityError,
    NotFoundError,
    QueryError,
    ServableCrashedError,
    ServableMemoryError,
    ServableRunError,
    ServableTimeoutError,
    ValidationError,
)
from hub.index.results import Hit, SearchResult, files_by_dataset
from hub.store.blobs import VerifyingReader

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
    504: ServableTimeoutError,
    507: ServableMemoryError,
}


def is_remote(location: Any) -> bool:
    return isinstance(location, str) and location.startswith(("http://", "https://"))


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
    )


class RemoteDataset(Dataset):
    """A dataset version on a hub service: :class:`hub.dataset.Dataset` whose files, records
    and manifest come over HTTP (opening, downloads, versions and DataCite are inherited)."""

    def __init__(self, hub: RemoteHub, body: dict[str, Any]) -> None:
        self._hub = hub  # type: ignore[assignment]  # a RemoteHub has the Hub API
        self._remote = hub
        self.source_id: str = body["source_id"]
        self.source_name: str = body["source_name"]
        self.version: int = body["version"]
        self.status: str = body["status"]
        self.owner: str = body["owner"]
        self.title: str = body["title"]
        self.metadata: dict[str, Any] = body["metadata"]
        self.n_files: int = body["files"]
        self.n_records: int = body["records"]
        self.total_size: int = body["total_size"]
        self.root_hash: str = body["root_hash"]

    def _path(self, suffix: str = "") -> str:
        return f"/datasets/{quote(self.source_id, safe='')}{suffix}"

    def files(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self._remote._get(self._path("/files"))
        return out

    def records(self, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 10_000
        while limit is None or len(out) < limit:
            size = page if limit is None else min(page, limit - len(out))
            batch = self._remote._get(
                self._path("/records"), params={"offset": offset + len(out), "limit": size}
            )
            out += batch
            if len(batch) < size:
                break
        return out

    def manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = self._remote._get(self._path("/manifest"))
        return out

    def __repr__(self) -> str:
        return (
            f"<Dataset {self.source_id} {self.title!r} files={self.n_files} records={self.n_records} "
            f"{self.status} @ {self._remote.url}>"
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


class RemoteHub:
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

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        progress: bool = True,
        timeout: float = 300.0,
        **unused: Any,
    ) -> None:
        extra = {k for k, v in unused.items() if v is not None}
        if extra:
            raise HubError(
                f"{', '.join(sorted(extra))}: not for a remote hub, whose user and settings come from the "
                "service (give token=...)"
            )
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

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

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
        self._http.close()

    def __enter__(self) -> RemoteHub:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Hub {self.url} as {self.principal.name}>"

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = self._get("/info")
        return out

    # -- Connect ---------------------------------------------------------------------------

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
        progress: bool | None = None,
        wait: bool = True,
        **metadata: Any,
    ) -> Submission:
        """Send a dataset to the service: a URL it reads itself, or a local file, archive or
        folder (zipped) that is uploaded.  Waits until the service has processed it
        (``wait=False``: returns the queued submission at once; poll :meth:`submission`)."""
        fields: dict[str, Any] = {
            "title": title,
            "authors": list(authors),
            "mapping": mapping,
            "visible_to": visible_to,
            "curate": curate,
            "source_name": source_name,
            **metadata,
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        show = self.progress if progress is None else progress
        src = os.fspath(source)
        if "://" in src and not src.startswith("file://"):
            body = self._post("/submissions", json={"source": src, **fields})
        else:
            body = self._upload(Path(src.removeprefix("file://")), fields, show)
        sub = _submission(body)
        return self._follow(sub.id, show) if wait else sub

    def _upload(self, path: Path, fields: dict[str, Any], show: bool) -> dict[str, Any]:
        if not path.exists():
            raise NotFoundError(f"{path} does not exist")
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

    def _follow(self, sub_id: str, show: bool, poll: float = 0.1) -> Submission:
        with tqdm(total=7, desc=f"submission {sub_id}", disable=not show, leave=False) as bar:
            while True:
                sub = self.submission(sub_id)
                done = sum(1 for s in sub.steps if s.get("status") in ("done", "skipped", "failed"))
                bar.n = done
                bar.refresh()
                if sub.done:
                    return sub
                time.sleep(poll)
                poll = min(poll * 1.5, 2.0)

    def retry(self, submission_id: str, progress: bool | None = None) -> Submission:
        self._post(f"/submissions/{submission_id}/retry")
        return self._follow(submission_id, self.progress if progress is None else progress)

    def submission(self, submission_id: str) -> Submission:
        return _submission(self._get(f"/submissions/{quote(submission_id, safe='')}"))

    def submissions(self, status: str | None = None) -> list[Submission]:
        params = {"status": status} if status else {}
        return [_submission(b) for b in self._get("/submissions", params=params)]

    def pending_curation(self) -> list[Submission]:
        return [_submission(b) for b in self._get("/curation")]

    def curate(self, submission_id: str, accept: bool, reason: str = "") -> Submission:
        return _submission(
            self._post(f"/submissions/{submission_id}/curate", json={"accept": accept, "reason": reason})
        )

    def update_metadata(self, dataset: str, **changes: Any) -> RemoteDataset:
        return RemoteDataset(
            self, self._request("PATCH", f"/datasets/{quote(dataset, safe='')}", json=changes)
        )

    # -- reading ---------------------------------------------------------------------------

    def datasets(self, *, all_versions: bool = False, source_name: str | None = None) -> list[RemoteDataset]:
        params: dict[str, Any] = {"all_versions": all_versions}
        if source_name:
            params["source_name"] = source_name
        return [RemoteDataset(self, b) for b in self._get("/datasets", params=params)]

    def dataset(self, ident: str) -> RemoteDataset:
        return RemoteDataset(self, self._get(f"/datasets/{quote(ident, safe='')}"))

    def record(self, record_id: str) -> dict[str, Any]:
        out: dict[str, Any] = self._get(f"/records/{quote(record_id, safe='')}")
        return out

    def file_url(self, source_id: str, path: str) -> str:
        """Where the service serves a file (``GET``; Range requests; ``ETag`` is its sha256)."""
        return f"{self.api}/datasets/{quote(source_id, safe='')}/files/{quote(path)}"

    def file_info(self, source_id: str, path: str) -> dict[str, Any]:
        for f in self.dataset(source_id).files():
            if f["path"] == path:
                return f
        raise NotFoundError(f"{source_id} has no file {path!r}")

    def open(self, source_id: str, path: str, *, verify: bool = True) -> IO[bytes]:
        """A file as a binary stream; a full read checks its sha256 (``verify``)."""
        request = self._http.build_request("GET", self.file_url(source_id, path))
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
        files = self.dataset(source_id).files()
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
        bad: list[str] = self._get(f"/datasets/{quote(source_id, safe='')}/verify")["bad"]
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
    ) -> Any:
        """See :meth:`hub.client.Hub.optimade_search` (the service translates the filter)."""
        from hub.service.optimade.results import StructureResults, raise_for_optimade, structure_params

        params = structure_params(
            filter, limit=limit, offset=offset, sort=sort, response_fields=response_fields
        )
        response = self._http.get(f"{self.url}/optimade/v1/structures", params=params)
        raise_for_optimade(response)
        return StructureResults.from_response(response.json(), filter, offset, limit)

    def fields(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = self._get("/fields")
        return out

    def catalog(self, query: str | None = None, **kw: Any) -> Any:
        """An intake catalog of the datasets you may see (or that ``query`` matches); files are
        read over HTTP from the service."""
        from hub.catalog import catalog_for

        return catalog_for(self, query, **kw)  # type: ignore[arg-type]

    # -- Servables -------------------------------------------------------------------------

    def describe(self, model: Any, **metadata: Any) -> Any:
        """Describe a model or function here (nothing is sent until :meth:`publish_servable`)."""
        from hub.servables.description import describe

        if not metadata.get("authors") and self.principal.user:
            metadata["authors"] = [self.principal.user]
        return describe(model, **metadata)

    def publish_servable(self, servable: Any, **metadata: Any) -> str:
        """Package a described servable here and upload it; returns ``owner/name``."""
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
            body = self._post("/servables", data={"metadata": json.dumps(doc)}, files=files)
        sv.metadata.dlhub.owner = body["owner"]
        sv.metadata.dlhub.id = body["id"]
        sv.metadata.dlhub.version = body["version"]
        out: str = body["id"]
        return out

    def servables(self, q: str = "*", *, limit: int = 10, offset: int = 0, **search: Any) -> SearchResult:
        if search:
            raise HubError(f"a remote hub's servables() takes q, limit and offset (not {', '.join(search)})")
        return _search_result(
            self._get("/servables", params={"q": q, "limit": limit, "offset": offset}), self
        )

    def servable(self, name: str) -> Any:
        from hub.servables.published import PublishedServable

        owner, _, rest = name.partition("/")
        if not rest:
            raise NotFoundError(f"name servables as owner/name (got {name!r})")
        b = self._get(f"/servables/{quote(owner, safe='')}/{quote(rest, safe='@')}")
        return PublishedServable(
            id=b["id"],
            version=b["version"],
            owner=b["owner"],
            status=b["status"],
            type=b["type"],
            document=b["document"],
            versions=b["versions"],
        )

    def run(
        self,
        name: str,
        inputs: Any,
        parameters: dict[str, Any] | None = None,
        asynchronous: bool = False,
        batch: bool | None = None,
        **options: Any,
    ) -> Any:
        from hub.servables.codec import to_json
        from hub.servables.request import RunResult
        from hub.servables.tasks import Task

        if options:
            raise HubError(
                f"a remote run takes parameters, asynchronous and batch (not {', '.join(options)})"
            )
        owner, _, rest = name.partition("/")
        body = self._post(
            f"/servables/{quote(owner, safe='')}/{quote(rest, safe='@')}/run",
            json={
                "inputs": to_json(inputs),
                "parameters": to_json(parameters) if parameters else None,
                "asynchronous": asynchronous,
                "batch": batch,
            },
        )
        if asynchronous:
            return Task.from_json(body["task"], refresh=self.task)
        return RunResult.from_json(body).outputs(name)

    def task(self, task_id: str) -> Any:
        from hub.servables.tasks import Task

        return Task.from_json(self._get(f"/tasks/{quote(task_id, safe='')}"), refresh=self.task)

    def deprecate_servable(self, name: str, version: int | None = None) -> Any:
        owner, _, rest = name.partition("/")
        params = {"version": version} if version is not None else {}
        self._post(f"/servables/{quote(owner, safe='')}/{quote(rest, safe='')}/deprecate", params=params)
        return self.servable(name if version is None else f"{name}@{version}")

    def delete_servable(self, name: str, version: int | None = None) -> None:
        owner, _, rest = name.partition("/")
        params = {"version": version} if version is not None else {}
        self._request("DELETE", f"/servables/{quote(owner, safe='')}/{quote(rest, safe='')}", params=params)

    def stats(self) -> dict[str, Any]:
        return self.info()

    @property
    def users(self) -> RemoteUsers:
        """Users, groups and tokens (admins manage users; everyone their own tokens)."""
        return RemoteUsers(self)


class RemoteUsers:
    """Users, groups and tokens of a hub service: the twin of :class:`hub.users.Users`
    (same methods; ``actor`` is accepted for symmetry; the service acts as the token's user)."""

    def __init__(self, hub: RemoteHub) -> None:
        self._hub = hub

    def create_user(self, actor: Any, name: str, groups: Iterable[str] = ()) -> Any:
        from hub.users import User

        b = self._hub._post("/users", json={"name": name, "groups": list(groups)})
        return User(b["name"], tuple(b["groups"]), b["created_at"])

    def user(self, actor: Any, name: str) -> Any:
        from hub.users import User

        b = self._hub._get(f"/users/{quote(name, safe='')}")
        return User(b["name"], tuple(b["groups"]), b["created_at"])

    def users(self, actor: Any) -> list[Any]:
        from hub.users import User

        return [User(b["name"], tuple(b["groups"]), b["created_at"]) for b in self._hub._get("/users")]

    def set_groups(self, actor: Any, name: str, groups: Iterable[str]) -> Any:
        from hub.users import User

        b = self._hub._request("PUT", f"/users/{quote(name, safe='')}/groups", json={"groups": list(groups)})
        return User(b["name"], tuple(b["groups"]), b["created_at"])

    def delete_user(self, actor: Any, name: str) -> None:
        self._hub._request("DELETE", f"/users/{quote(name, safe='')}")

    def groups(self, actor: Any) -> dict[str, list[str]]:
        out: dict[str, list[str]] = self._hub._get("/groups")
        return out

    def create_token(
        self, actor: Any, user: str | None = None, label: str = "", expires_in: _dt.timedelta | None = None
    ) -> tuple[str, Any]:
        from hub.users import TokenInfo

        body: dict[str, Any] = {"user": user, "label": label}
        if expires_in is not None:
            body["expires_in_days"] = expires_in.total_seconds() / 86400
        b = self._hub._post("/tokens", json=body)
        token = b.pop("token")
        return token, TokenInfo(**b)

    def tokens(self, actor: Any, user: str | None = None) -> list[Any]:
        from hub.users import TokenInfo

        params = {"user": user} if user else {}
        return [TokenInfo(**b) for b in self._hub._get("/tokens", params=params)]

    def revoke_token(self, actor: Any, token_id: str) -> None:
        self._hub._request("DELETE", f"/tokens/{quote(token_id, safe='')}")


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
