"""``ServableService``: describe, publish, discover and run servables (DLHub's part of the hub).

One object over the hub's catalog, blob store and search index, acting as one
principal; :class:`~hub.client.Hub` exposes it as ``hub.describe``,
``hub.publish_servable``, ``hub.servables``, ``hub.run`` and ``hub.task``.

- **Publish** packages the model, its code, metadata and pinned requirements
  into one artifact in the blob store, registers the next version in the
  catalog (with who may see it and who may run it), and indexes the servable
  as a document of kind ``servable`` for search.
- **Run** checks the inputs against the servable's schema before anything
  runs, then hands the run to the executor (the local worker pool, or Dask):
  published code never runs in this process.  Synchronous runs return the
  outputs; asynchronous ones return a :class:`~hub.servables.tasks.Task`
  persisted in the catalog.  A list of inputs runs as one batch; outputs can
  be memoized by servable version and input hash.
"""

from __future__ import annotations

import copy
import os
import re
import socket
import tempfile
import threading
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError

from hub.access import Action, Kind, Principal, Resource, allowed, require
from hub.access.index import document_acl
from hub.db.catalog import Catalog
from hub.db.models import ServableRow, ServableTaskRow
from hub.exceptions import (
    AccessDeniedError,
    InputValidationError,
    NotFoundError,
    NotRunnableError,
    ValidationError,
)
from hub.index.engine import IndexDoc, SearchIndex
from hub.index.results import SearchResult
from hub.plugins import extra_providing
from hub.servables import codec, package
from hub.servables.catalog import ServableCatalog, split_ref
from hub.servables.description import ServableDescription, describe
from hub.servables.executors import Executor, LocalExecutor, executor_from
from hub.servables.metadata import DEPRECATED, MethodSpec, ServableMetadata
from hub.servables.schema import check_parameters, given_text
from hub.servables.tasks import COMPLETED, FAILED, PENDING, RUNNING, Task, error_from
from hub.servables.worker import LoadSpec
from hub.store.blobs import BlobStore
from hub.users import Users

if TYPE_CHECKING:
    from hub.client import Hub

KIND = "servable"
#: Task results larger than this (as JSON) go to the blob store.
INLINE_RESULT_BYTES = 1024 * 1024

_SHARED_LOCAL: LocalExecutor | None = None
_SHARED_LOCK = threading.Lock()


def shared_local_executor() -> LocalExecutor:
    """The process-wide local worker pool (hubs in one process share their workers)."""
    global _SHARED_LOCAL
    with _SHARED_LOCK:
        if _SHARED_LOCAL is None:
            _SHARED_LOCAL = LocalExecutor()
        return _SHARED_LOCAL


class ServableDeprecatedWarning(UserWarning):
    """Running a version its owner deprecated."""


@dataclass
class PublishedServable:
    """One published version: its catalog row and document."""

    id: str
    version: int
    owner: str
    status: str
    type: str
    document: dict[str, Any]
    versions: list[int]

    @property
    def metadata(self) -> ServableMetadata:
        return ServableMetadata.model_validate(self.document)

    @property
    def method(self) -> MethodSpec:
        return self.metadata.servable.run

    def json_schema(self) -> dict[str, Any]:
        return self.method.json_schema()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "owner": self.owner,
            "status": self.status,
            "type": self.type,
            "versions": self.versions,
            "document": self.document,
        }

    def __repr__(self) -> str:
        m = self.method
        return (
            f"<Servable {self.id}@{self.version} ({self.type}, {self.status}); "
            f"input: {m.input.describe()}; output: {m.output.describe()}>"
        )


@dataclass
class _Resolved:
    """What a run needs from a version, parsed once and kept (versions never change)."""

    row: ServableRow
    method: MethodSpec
    spec: LoadSpec | None
    cache: bool
    timeout_s: float | None
    memory_mb: int | None
    may_run: list[str]
    #: The principals the version runs for (ACL rows of a version never change).  The cache
    #: of resolved versions is shared by every principal's view, so it keeps the ACL, never
    #: an answer for one principal.
    run_acl: frozenset[str] = frozenset()

    def runnable_by(self, principal: Principal) -> bool:
        return allowed(
            principal,
            Action.RUN,
            Resource(Kind.SERVABLE, self.row.owner, self.row.status, {Action.RUN: self.run_acl}),
        )


class ServableService:
    """Describe, publish, discover and run servables, as ``principal``.

    Parameters
    ----------
    catalog, store, index
        The hub's catalog, blob store and search index.
    principal
        Who is asking.
    home
        The hub folder (artifacts are unpacked under ``home/servables``).
    executor
        An :class:`~hub.servables.executors.Executor`, a ``distributed.Client``,
        ``"local"`` or ``"dask://host:port"``; default ``$MATTERHUB_EXECUTOR``
        or the process-wide local worker pool.
    async_threads
        Threads that wait on asynchronous runs (default: the pool's size, at least 2).
    """

    def __init__(
        self,
        catalog: Catalog,
        store: BlobStore,
        index: SearchIndex,
        principal: Principal,
        home: str | os.PathLike[str],
        *,
        executor: Any = None,
        async_threads: int | None = None,
    ) -> None:
        self.principal = principal
        self.store = store
        self.index = index
        self.home = Path(home)
        self.cache_dir = self.home / "servables"
        self._db = ServableCatalog(catalog)
        self._executor_setting = executor
        self._executor: Executor | None = executor if isinstance(executor, Executor) else None
        self._async_threads = async_threads
        self._threads: ThreadPoolExecutor | None = None
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._resolved: OrderedDict[tuple[str, int], _Resolved] = OrderedDict()
        self._recover_interrupted()
        self._ensure_indexed()

    @classmethod
    def from_hub(cls, hub: Hub, **options: Any) -> ServableService:
        """The service over an open :class:`~hub.client.Hub` (its catalog, store, index and principal)."""
        return cls(hub._catalog, hub._store, hub._index, hub.principal, hub.home, **options)

    def acting_as(self, principal: Principal) -> ServableService:
        """This service seen by ``principal``, sharing its executor, task threads and caches."""
        _ = self.executor
        self._pool()
        view = copy.copy(self)
        view.principal = principal
        return view

    # -- lifecycle --------------------------------------------------------------------

    @property
    def executor(self) -> Executor:
        with self._lock:
            if self._executor is None:
                setting = self._executor_setting
                if setting is None and not os.environ.get("MATTERHUB_EXECUTOR"):
                    self._executor = shared_local_executor()
                else:
                    self._executor = executor_from(setting)
            return self._executor

    def close(self) -> None:
        """Stop waiting for queued asynchronous runs (they are marked failed); running ones finish."""
        with self._lock:
            threads, self._threads = self._threads, None
            futures = dict(self._futures)
        if threads is not None:
            threads.shutdown(wait=True, cancel_futures=True)
        for task_id, fut in futures.items():
            if fut.cancelled():
                self._db.update_task(
                    task_id,
                    status=FAILED,
                    error={"kind": "error", "message": "the hub was closed before this task ran"},
                )
        with self._lock:
            owned = (
                self._executor is not None
                and self._executor_setting is not None
                and not isinstance(self._executor_setting, Executor)
            )
            if owned and self._executor is not None:
                self._executor.close()
            self._executor = None

    def __enter__(self) -> ServableService:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _recover_interrupted(self) -> None:
        """Tasks left pending or running by a process of this host that died (a restart, a
        SIGKILL) run again from their saved inputs; those without saved inputs fail clearly."""
        host = socket.gethostname()
        for row in self._db.unfinished_tasks():
            if row.host == host and row.pid and not _pid_alive(row.pid):
                try:
                    self._resume(row)
                except Exception as exc:
                    self._db.update_task(
                        row.id,
                        status=FAILED,
                        error={
                            "kind": "error",
                            "message": "the process that ran this task stopped before it finished, and the "
                            f"task could not be resumed ({exc}); run it again",
                        },
                    )

    def _owner(self, name: str) -> Principal:
        """A task owner with the groups the catalog gives them now (a run allowed through a
        group must stay allowed when it resumes)."""
        return Users(self._db.catalog).principal(name)

    def _resume(self, row: ServableTaskRow) -> None:
        if not row.inputs_sha:
            raise NotFoundError("its inputs were not saved")
        saved = codec.safe_loads(self.store.get_bytes(row.inputs_sha))
        owner = self._owner(row.owner)
        view = self.acting_as(owner)
        r = view._resolve(f"{row.servable_id}@{row.version}")
        if not r.runnable_by(owner) or r.spec is None:
            raise AccessDeniedError(f"{row.owner} may no longer run {row.servable_id}@{row.version}")
        now = self._db.now()
        timings = {**dict(row.timings or {}), "resumed_at": now.isoformat()}
        self._db.update_task(row.id, status=PENDING, pid=os.getpid(), timings=timings)
        self._start_job(
            row.id,
            r,
            saved["values"],
            saved["params"],
            saved["batch"],
            saved["key"],
            saved["limits"],
            now,
            True,
        )

    # -- describe and publish ---------------------------------------------------------------

    def describe(self, obj: Any, **metadata: Any) -> ServableDescription:
        """:func:`hub.servables.description.describe`, with you as the default author."""
        if not metadata.get("authors") and self.principal.user:
            metadata["authors"] = [self.principal.user]
        return describe(obj, **metadata)

    def publish(self, sv: ServableDescription | Any, **metadata: Any) -> str:
        """Publish a described servable (or describe ``sv`` with ``metadata`` first); returns ``owner/name``.

        Publishing a name again makes a new version.
        """
        if not isinstance(sv, ServableDescription):
            sv = self.describe(sv, **metadata)
        elif metadata:
            raise ValidationError("give metadata to describe(), or publish(model, **metadata); not both")
        self._require_publisher()
        md = sv.metadata
        artifact_sha: str | None = None
        size = 0
        files: dict[str, Any] = {}
        if md.servable.runnable or sv.code or sv.files:
            staging = self.home / "staging"
            staging.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="servable-", dir=staging) as tmp:
                tar, files = package.build(sv, Path(tmp))
                size = tar.stat().st_size
                artifact_sha = self.store.put_file(tar)
        servable_id, version = self._register(md, artifact_sha, size, files)
        sv.metadata.dlhub.owner, sv.metadata.dlhub.id, sv.metadata.dlhub.version = (
            self.principal.user,
            servable_id,
            version,
        )
        return servable_id

    def publish_uploaded(self, document: dict[str, Any], artifact: str | os.PathLike[str] | None) -> str:
        """Publish a servable packaged elsewhere (the remote client's upload): its document and
        the artifact tar that :func:`hub.servables.package.build` wrote.  The tar is checked
        (plain files only, ``servable.json`` present, the files the document names present)
        but nothing in it is loaded or run here."""
        self._require_publisher()
        doc = dict(document)
        dlhub = {
            k: v
            for k, v in (doc.get("dlhub") or {}).items()
            if k not in ("owner", "id", "version", "status", "published", "artifact")
        }
        files = dict(dlhub.get("files") or {})
        doc["dlhub"] = dlhub
        try:
            md = ServableMetadata.model_validate(doc)
        except PydanticValidationError as exc:
            raise ValidationError(f"the servable document is not valid: {exc}") from None
        if md.servable.runnable and artifact is None:
            raise ValidationError(f"servable {md.dlhub.name!r} is runnable but no artifact was uploaded")
        artifact_sha: str | None = None
        size = 0
        if artifact is not None:
            package.check_artifact(Path(artifact), files)
            size = Path(artifact).stat().st_size
            artifact_sha = self.store.put_file(artifact)
        return self._register(md, artifact_sha, size, files)[0]

    def _require_publisher(self) -> None:
        require(
            self.principal,
            Action.CREATE,
            Resource(Kind.SERVABLE),
            "anonymous users cannot publish servables; open the hub as a user",
        )

    def _register(
        self, md: ServableMetadata, artifact_sha: str | None, size: int, files: dict[str, Any]
    ) -> tuple[str, int]:
        owner = self.principal.user
        assert owner is not None
        servable_id = f"{owner}/{md.dlhub.name}"

        def stamp(version: int) -> dict[str, Any]:
            doc = md.to_document()
            doc["dlhub"].update(
                owner=owner,
                id=servable_id,
                version=version,
                status="published",
                published=self._db.now().isoformat(),
                files={**doc["dlhub"].get("files", {}), **files},
            )
            if artifact_sha:
                doc["dlhub"]["artifact"] = {"sha256": artifact_sha, "size": size}
            return doc

        row = self._db.publish(
            servable_id=servable_id,
            name=md.dlhub.name,
            owner=owner,
            type=md.servable.type,
            title=md.datacite.titles[0].title,
            artifact_sha=artifact_sha,
            artifact_size=size,
            visible_to=md.dlhub.visible_to,
            runnable_by=md.dlhub.may_run,
            stamp=stamp,
        )
        self._sync_index(servable_id)
        return servable_id, row.version

    # -- discover -----------------------------------------------------------------------

    def servables(
        self,
        query: str = "*",
        *,
        facets: Sequence[str | dict[str, Any]] = (),
        filters: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort: str | Sequence[str] | None = None,
    ) -> SearchResult:
        """Search the servables you may see (``servable.type:keras AND dlhub.domains:materials``)."""
        return self.index.search(
            query,
            self.principal,
            facets=facets,
            filters=filters,
            limit=limit,
            offset=offset,
            sort=sort,
            kinds=[KIND],
        )

    def servable(self, name: str) -> PublishedServable:
        """A version you may see: ``owner/name@version``, ``owner/name`` (latest) or ``name``."""
        row = self._db.resolve(self.principal, name)
        versions = [r.version for r in self._db.versions(row.id, self.principal)]
        return PublishedServable(row.id, row.version, row.owner, row.status, row.type, row.document, versions)

    def listing(self, *, all_versions: bool = False) -> list[PublishedServable]:
        """Every servable you may see (latest version of each unless ``all_versions``)."""
        rows = self._db.visible(self.principal, all_versions=all_versions)
        return [PublishedServable(r.id, r.version, r.owner, r.status, r.type, r.document, []) for r in rows]

    # -- owner actions -----------------------------------------------------------------------

    def _owned(self, name: str, version: int | None) -> ServableRow:
        ident, v = split_ref(name)
        version = version if version is not None else v
        if version is None:
            raise ValidationError(f"say which version of {ident} (e.g. {ident}@1 or version=1)")
        row = self._db.resolve(self.principal, f"{ident}@{version}")
        require(
            self.principal,
            Action.CHANGE,
            Resource(Kind.SERVABLE, row.owner, row.status),
            f"only the owner of {row.id} ({row.owner}) may change its versions",
        )
        return row

    def deprecate(self, name: str, version: int | None = None) -> PublishedServable:
        """Mark a version deprecated: it stays runnable by name@version (with a warning) but
        ``name`` alone no longer picks it."""
        row = self._owned(name, version)
        self._db.set_status(row.id, row.version, DEPRECATED)
        self._forget(row.id, row.version)
        self._sync_index(row.id)
        return self.servable(f"{row.id}@{row.version}")

    def delete(self, name: str, version: int | None = None) -> None:
        """Delete a version (its metadata, access and memoized outputs; past tasks stay)."""
        row = self._owned(name, version)
        self._db.delete(row.id, row.version)
        self._forget(row.id, row.version)
        self._sync_index(row.id)

    def _forget(self, servable_id: str, version: int) -> None:
        with self._lock:
            self._resolved.pop((servable_id, version), None)

    # -- the index ----------------------------------------------------------------------------

    def _index_docs(self, servable_id: str) -> list[IndexDoc]:
        rows = self._db.versions(servable_id)
        if not rows:
            return []
        live = [r for r in rows if r.status != DEPRECATED]
        row = (live or rows)[-1]
        dl = row.document.get("dlhub", {})
        acl = document_acl(
            Resource(
                Kind.SERVABLE,
                row.owner,
                row.status,
                {Action.SEE: frozenset(dl.get("visible_to", ["public"]))},
            )
        )
        return [IndexDoc(row.id, KIND, f"{KIND}:{row.id}", acl, row.document)]

    def _sync_index(self, servable_id: str) -> None:
        try:
            self.index.replace_sources([f"{KIND}:{servable_id}"], self._index_docs(servable_id))
        except Exception as exc:  # the catalog is the truth; the index can be rebuilt
            self.index.mark_stale(f"indexing servable {servable_id} failed: {exc!r}")
            warnings.warn(
                f"the search index could not be updated for {servable_id} ({exc!r}); "
                "run `matterhub index rebuild`",
                RuntimeWarning,
                stacklevel=3,
            )

    def reindex(self) -> int:
        """Index every servable again (after the search index was rebuilt); returns how many."""
        ids = self._db.ids()
        docs = [d for i in ids for d in self._index_docs(i)]
        self.index.replace_sources([f"{KIND}:{i}" for i in ids], docs)
        return len(docs)

    def _ensure_indexed(self) -> None:
        ids = self._db.ids()
        try:
            indexed = self.index.search(
                "*", Principal(None, frozenset({"admin"})), limit=0, kinds=[KIND]
            ).total
        except Exception:
            indexed = -1
        if indexed != len(ids):
            self.reindex()

    # -- run ----------------------------------------------------------------------------------

    def _resolve(self, name: str) -> _Resolved:
        sid, version, status = self._db.resolve_key(self.principal, name)
        key = (sid, version)
        with self._lock:
            hit = self._resolved.get(key)
            if hit is not None and hit.row.status == status:
                self._resolved.move_to_end(key)
                return hit
        row = self._db.row(sid, version)
        doc = row.document
        md = ServableMetadata.model_validate(doc)
        spec = None
        if md.servable.runnable and row.artifact_sha:
            spec = LoadSpec(
                key=f"{row.id}@{row.version}:{row.artifact_sha[:12]}",
                type=row.type,
                artifact_sha=row.artifact_sha,
                store_url=self.store.url,
                cache_dir=str(self.cache_dir),
                files=dict(md.dlhub.files),
                options=dict(md.servable.options),
                requirements=tuple(md.dlhub.requirements),
            )
        resolved = _Resolved(
            row=row,
            run_acl=self._db.run_acl(row),
            method=md.servable.run,
            spec=spec,
            cache=md.dlhub.cache,
            timeout_s=md.dlhub.limits.timeout_s,
            memory_mb=md.dlhub.limits.memory_mb,
            may_run=md.dlhub.may_run,
        )
        with self._lock:
            self._resolved[key] = resolved
            while len(self._resolved) > 256:
                self._resolved.popitem(last=False)
        return resolved

    @staticmethod
    def _check_inputs(method: MethodSpec, inputs: Any, batch: bool | None) -> tuple[Any, bool]:
        spec = method.input
        if batch:
            if not isinstance(inputs, list | tuple):
                raise InputValidationError(
                    f"batch=True needs a list of inputs; got {_given(inputs)}",
                    errors=[{"input": "input", "expected": "a list of inputs", "given": _given(inputs)}],
                )
            return [spec.check(x, f"input[{i}]") for i, x in enumerate(inputs)], True
        try:
            return spec.check(inputs, "input"), False
        except InputValidationError as single:
            if batch is False or not isinstance(inputs, list) or not inputs:
                raise
            try:
                return [spec.check(x, f"input[{i}]") for i, x in enumerate(inputs)], True
            except InputValidationError as item:
                raise InputValidationError(
                    f"{single.message}; nor is it a list of valid inputs ({item.message})",
                    errors=single.errors + item.errors,
                ) from None

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
    ) -> Any:
        """Run a servable on ``inputs``.

        Parameters
        ----------
        name
            ``owner/name``, ``owner/name@version`` or ``name``.
        inputs
            The input; a list of inputs runs as one batch (and returns a list).
        parameters
            Keyword parameters (checked against the servable's).
        asynchronous
            Return a :class:`Task` at once instead of the outputs.
        batch
            Force (True) or forbid (False) reading ``inputs`` as a list of inputs.
        cache
            Memoize by version and input hash (default: the servable's setting).
        timeout, memory_mb
            Limits for this run (default: the servable's, else the executor's).

        Raises
        ------
        InputValidationError
            Before anything runs, when the inputs or parameters do not fit.
        AccessDeniedError
            When you may see the servable but not run it.
        ServableRunError
            When it raised (ServableTimeoutError, ServableCrashedError and
            ServableMemoryError for the other ways a run fails).
        """
        r = self._resolve(name)
        row = r.row
        if r.spec is None:
            raise NotRunnableError(
                f"{row.id}@{row.version} is a {row.type} entry with nothing to run"
                + (
                    " (imported from DLHub without its model files)"
                    if row.document.get("dlhub", {}).get("imported_from")
                    else ""
                )
            )
        if not r.runnable_by(self.principal):
            raise AccessDeniedError(
                f"{self.principal.name} may see {row.id}@{row.version} but not run it; "
                f"it runs for {', '.join(r.may_run)} (ask its owner, {row.owner})"
            )
        if row.status == DEPRECATED:
            warnings.warn(
                f"{row.id}@{row.version} is deprecated by its owner", ServableDeprecatedWarning, stacklevel=2
            )
        values, is_batch = self._check_inputs(r.method, inputs, batch)
        params = check_parameters(r.method.parameters, parameters)
        key = None
        if cache if cache is not None else r.cache:
            key = codec.input_hash(row.id, row.version, row.artifact_sha, values, params, is_batch)
        limits: dict[str, Any] = {
            "timeout": timeout if timeout is not None else r.timeout_s,
            "memory_mb": memory_mb if memory_mb is not None else r.memory_mb,
        }
        if asynchronous:
            return self._submit(r, values, params, is_batch, key, limits)
        if key is not None:
            sha = self._db.cached(key)
            if sha is not None:
                return codec.safe_loads(self.store.get_bytes(sha))
        reply = self.executor.run(r.spec, values, params, batch=is_batch, **limits)
        if reply["status"] != "ok":
            raise error_from(_error_record(reply, row), reply.get("stdout", ""), reply.get("stderr", ""))
        if key is not None:
            self._db.remember(
                key,
                row.id,
                row.version,
                self.store.put_bytes(codec.dumps(reply["value"], shm_threshold=1 << 62)),
            )
        return reply["value"]

    # -- asynchronous tasks ----------------------------------------------------------------------

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._threads is None:
                n = self._async_threads or max(2, getattr(getattr(self._executor, "pool", None), "size", 2))
                self._threads = ThreadPoolExecutor(n, thread_name_prefix="matterhub-task")
            return self._threads

    def _submit(
        self,
        r: _Resolved,
        values: Any,
        params: dict[str, Any],
        is_batch: bool,
        key: str | None,
        limits: dict[str, Any],
    ) -> Task:
        task_id = uuid.uuid4().hex
        now = self._db.now()
        saved = {"values": values, "params": params, "batch": is_batch, "key": key, "limits": limits}
        inputs_sha = self.store.put_bytes(codec.dumps(saved, shm_threshold=1 << 62))
        self._db.add_task(
            ServableTaskRow(
                id=task_id,
                servable_id=r.row.id,
                version=r.row.version,
                owner=self.principal.name,
                status=PENDING,
                batch=is_batch,
                n_inputs=len(values) if is_batch else 1,
                timings={"queued_at": now.isoformat()},
                inputs_sha=inputs_sha,
                pid=os.getpid(),
                host=socket.gethostname(),
                created_at=now,
                updated_at=now,
            )
        )
        self._start_job(task_id, r, values, params, is_batch, key, limits, now)
        return self.task(task_id)

    def _start_job(
        self,
        task_id: str,
        r: _Resolved,
        values: Any,
        params: dict[str, Any],
        is_batch: bool,
        key: str | None,
        limits: dict[str, Any],
        queued: Any,
        resumed: bool = False,
    ) -> None:
        fut = self._pool().submit(
            self._job, task_id, r, values, params, is_batch, key, limits, queued, resumed
        )
        with self._lock:
            self._futures[task_id] = fut

        def forget(_: Future[None], t: str = task_id) -> None:
            with self._lock:
                self._futures.pop(t, None)

        fut.add_done_callback(forget)

    def _job(
        self,
        task_id: str,
        r: _Resolved,
        values: Any,
        params: dict[str, Any],
        is_batch: bool,
        key: str | None,
        limits: dict[str, Any],
        queued: Any,
        resumed: bool = False,
    ) -> None:
        started = self._db.now()
        timings: dict[str, Any] = {
            "queued_at": queued.isoformat(),
            "started_at": started.isoformat(),
            "queue_ms": (started - queued).total_seconds() * 1000,
        }
        if resumed:
            timings["resumed_at"] = queued.isoformat()
        self._db.update_task(task_id, status=RUNNING, timings=timings)
        try:
            sha = self._db.cached(key) if key is not None else None
            if sha is not None:
                reply = {"status": "ok", "value": codec.safe_loads(self.store.get_bytes(sha)), "cached": True}
            else:
                assert r.spec is not None
                reply = self.executor.run(r.spec, values, params, batch=is_batch, **limits)
        except BaseException as exc:  # the executor itself failed: the task must not stay "running"
            reply = {"status": "crash", "message": f"the run could not be executed: {exc!r}"}
        finished = self._db.now()
        timings.update(
            finished_at=finished.isoformat(),
            total_ms=(finished - started).total_seconds() * 1000,
            load_ms=reply.get("load_ms"),
            run_ms=reply.get("run_ms"),
            worker_pid=reply.get("pid"),
        )
        values_out: dict[str, Any] = {
            "timings": timings,
            "stdout": reply.get("stdout", ""),
            "stderr": reply.get("stderr", ""),
            "cached": bool(reply.get("cached")),
        }
        if reply["status"] == "ok":
            if key is not None and not reply.get("cached"):
                self._db.remember(
                    key,
                    r.row.id,
                    r.row.version,
                    self.store.put_bytes(codec.dumps(reply["value"], shm_threshold=1 << 62)),
                )
            encoded = codec.to_json(reply["value"])
            import json

            text = json.dumps(encoded)
            if len(text) > INLINE_RESULT_BYTES:
                values_out.update(result=None, result_sha=self.store.put_bytes(text.encode()))
            else:
                values_out.update(result=encoded)
            values_out["status"] = COMPLETED
        else:
            values_out.update(status=FAILED, error=_error_record(reply, r.row))
        self._db.update_task(task_id, **values_out)

    def _wait(self, task_id: str, timeout: float | None) -> None:
        with self._lock:
            fut = self._futures.get(task_id)
        if fut is not None:
            try:
                fut.result(timeout)
            except FutureTimeout:
                pass

    def task(self, task_id: str) -> Task:
        """An asynchronous run's status, result, timings, captured output and error."""
        row = self._db.task(task_id, self.principal)
        result = row.result
        if row.result_sha:
            import json

            result = json.loads(self.store.get_bytes(row.result_sha))
        return Task(
            id=row.id,
            servable=row.servable_id,
            version=row.version,
            status=row.status,
            result=codec.from_json(result) if result is not None else None,
            error=row.error,
            timings=dict(row.timings or {}),
            stdout=row.stdout or "",
            stderr=row.stderr or "",
            batch=row.batch,
            cached=row.cached,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _refresh=self.task,
            _wait=self._wait,
        )

    def tasks(self) -> Iterator[Task]:
        """Your unfinished tasks."""
        for row in self._db.unfinished_tasks():
            if allowed(self.principal, Action.SEE, Resource(Kind.TASK, row.owner, row.status)):
                yield self.task(row.id)


def _given(value: Any) -> str:
    return given_text(value)


def _install_hint(reply: dict[str, Any]) -> str:
    """For a servable that needs a package its worker's environment lacks: which to install."""
    missing = re.search(r"No module named '([^']+)'", str(reply.get("message", "")))
    if reply.get("exc_type") != "ModuleNotFoundError" or missing is None:
        return ""
    extra = extra_providing(missing[1])
    what = f"'matterhub[{extra}]'" if extra else missing[1].split(".")[0]
    return f" (the servable needs it: pip install {what} where the hub runs its servables)"


def _error_record(reply: dict[str, Any], row: ServableRow) -> dict[str, Any]:
    kind = reply.get("status", "error")
    what = f"{row.id}@{row.version}"
    message = reply.get("message", "")
    if kind == "error":
        text = f"{what} raised {reply.get('exc_type', 'an error')}: {message}{_install_hint(reply)}"
    elif kind == "memory":
        text = f"{what} ran out of memory: {message}"
    elif kind == "timeout":
        text = f"{what} timed out: {message}"
    else:
        text = f"{what} crashed: {message}"
    return {
        "kind": kind,
        "exc_type": reply.get("exc_type"),
        "message": text,
        "traceback": reply.get("traceback"),
    }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def service_for(hub: Hub, **options: Any) -> ServableService:
    """The hub's servable service (``hub._servables`` once the Hub has one), else a new one."""
    existing = getattr(hub, "_servables", None)
    if isinstance(existing, ServableService):
        return existing
    return ServableService.from_hub(hub, **options)


__all__ = [
    "PublishedServable",
    "ServableDeprecatedWarning",
    "ServableService",
    "service_for",
    "shared_local_executor",
]
