"""The servable registry: describe, package, publish, index, look up, deprecate and delete.

- **Publish** claims the servable's ``owner/name`` (``owner`` is the publisher's
  name, or the group it is published for; :mod:`hub.access.names`: a name someone
  else holds is refused before anything is packaged), packages the model, its code,
  metadata and pinned requirements into one artifact in the blob store, registers
  the next version in the catalog (its owner's id; who may see it and who may run
  it, users by id) and indexes the servable as a document of kind ``servable``.
- **Look up** reads versions from the catalog (what the principal may see);
  **search** goes through the index with the query language of data.
- **Deprecate** and **delete** are the owner's (or an admin's).

Nothing here loads or runs published code.
"""

from __future__ import annotations

import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError as PydanticValidationError

from hub.access import Action, Kind, Principal, Resource, publishing, require
from hub.access.identities import Identities
from hub.access.index import document_acl
from hub.access.names import Names
from hub.db.models import ServableRow
from hub.exceptions import NotRunnableError, ValidationError
from hub.index.engine import IndexDoc, SearchIndex
from hub.index.results import SearchResult
from hub.pipelines.publish import checked as pipeline_checked
from hub.servables import package
from hub.servables.database import ServableDatabase, split_ref
from hub.servables.description import ServableDescription, describe
from hub.servables.environments.store import Environments
from hub.servables.metadata import DEPRECATED, MethodSpec, ServableMetadata
from hub.store.blobs import BlobStore

#: The index documents' kind.
KIND = "servable"


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
        """The document, parsed."""
        return ServableMetadata.model_validate(self.document)

    @property
    def method(self) -> MethodSpec:
        """What running it takes and gives (input, output, parameters)."""
        return self.metadata.servable.run

    def json_schema(self) -> dict[str, Any]:
        """The input, output and parameters as JSON Schema."""
        return self.method.json_schema()

    def to_dict(self) -> dict[str, Any]:
        """As JSON (what the REST API and ``--json`` show)."""
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


class IndexCheck:
    """Whether a hub's search index was checked to hold every servable.

    The check runs once per hub: the registries of its views share one.
    """

    def __init__(self) -> None:
        self._done = False
        self._lock = threading.Lock()

    def once(self, check: Callable[[], None]) -> None:
        """Call ``check()`` unless it was called before."""
        with self._lock:
            if not self._done:
                check()
                self._done = True


class ServableRegistry:
    """Describe, publish, look up, deprecate and delete servables, as ``principal``.

    Parameters
    ----------
    db
        The servables' part of the catalog.
    store
        The blob store (artifacts).
    index
        The search index (servables are documents of kind ``servable``).
    principal
        Who is asking.
    staging
        A folder for packaging artifacts.
    index_check
        Shared by the registries of one hub: the index is checked once.
    environments
        The hub's environments (a version whose requirements the hub's does not meet
        gets one of its own at publish).
    """

    def __init__(
        self,
        db: ServableDatabase,
        store: BlobStore,
        index: SearchIndex,
        principal: Principal,
        staging: Path,
        index_check: IndexCheck | None = None,
        publishers: frozenset[str] | None = None,
        *,
        environments: Environments,
    ) -> None:
        self.db = db
        self.store = store
        self.index = index
        self.principal = principal
        self.staging = staging
        self.publishers = publishers
        self.environments = environments
        self._index_check = index_check or IndexCheck()

    def acting_as(self, principal: Principal) -> ServableRegistry:
        """A registry acting as ``principal``, sharing this one's catalog, store, index and index check."""
        return ServableRegistry(
            self.db,
            self.store,
            self.index,
            principal,
            self.staging,
            self._index_check,
            self.publishers,
            environments=self.environments,
        )

    # -- describe and publish ---------------------------------------------------------------

    def describe(self, obj: Any, **metadata: Any) -> ServableDescription:
        """:func:`hub.servables.description.describe`, with you as the default author."""
        if not metadata.get("authors") and self.principal.user:
            metadata["authors"] = [self.principal.user]
        return describe(obj, **metadata)

    def publish(self, sv: ServableDescription | Any, *, group: str | None = None, **metadata: Any) -> str:
        """Publish a described servable (or describe ``sv`` with ``metadata`` first); returns ``owner/name``.

        ``owner`` is the publisher's name, or ``group`` (one of theirs) to publish it for
        that group, whose members then publish its versions.  Publishing a name again
        makes a new version; a name that belongs to someone else is refused
        (:class:`~hub.exceptions.NameNotAvailableError`) before anything is packaged.
        """
        if not isinstance(sv, ServableDescription):
            sv = self.describe(sv, **metadata)
        elif metadata:
            raise ValidationError("give metadata to describe(), or publish(model, **metadata); not both")
        self._require_publisher()
        md = sv.metadata = pipeline_checked(sv.metadata, self.db, self.principal)
        servable_id = self._claim(md.dlhub.name, group)
        md.dlhub.environment = self.environments.for_version(md)  # refused now if it cannot be built
        artifact_sha: str | None = None
        size = 0
        files: dict[str, Any] = {}
        if md.servable.runnable or sv.code or sv.files:
            self.staging.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="servable-", dir=self.staging) as tmp:
                tar, files = package.build(sv, Path(tmp))
                size = tar.stat().st_size
                artifact_sha = self.store.put_file(tar).sha256
        version = self._register(servable_id, md, artifact_sha, size, files)
        sv.metadata.dlhub.owner, sv.metadata.dlhub.id, sv.metadata.dlhub.version = (
            self.principal.user,
            servable_id,
            version,
        )
        return servable_id

    def publish_uploaded(
        self, document: dict[str, Any], artifact: str | os.PathLike[str] | None, *, group: str | None = None
    ) -> str:
        """Publish a servable packaged elsewhere (the remote client's upload); returns ``owner/name``.

        ``document`` is its servable document and ``artifact`` the artifact tar that
        :func:`hub.servables.package.build` wrote; ``group`` as for :meth:`publish`.  The
        tar is checked (plain files only, ``servable.json`` present, the files the
        document names present) but nothing in it is loaded or run here.
        """
        self._require_publisher()
        doc = dict(document)
        dlhub = {
            k: v
            for k, v in (doc.get("dlhub") or {}).items()
            if k not in ("owner", "id", "version", "status", "published", "artifact", "environment")
        }
        files = dict(dlhub.get("files") or {})
        doc["dlhub"] = dlhub
        try:
            md = ServableMetadata.model_validate(doc)
        except PydanticValidationError as exc:
            raise ValidationError(f"the servable document is not valid: {exc}") from None
        md = pipeline_checked(md, self.db, self.principal)
        if md.servable.runnable and artifact is None:
            raise ValidationError(f"servable {md.dlhub.name!r} is runnable but no artifact was uploaded")
        servable_id = self._claim(md.dlhub.name, group)
        md.dlhub.environment = self.environments.for_version(md)  # refused now if it cannot be built
        artifact_sha: str | None = None
        size = 0
        if artifact is not None:
            package.check_artifact(Path(artifact), files)
            size = Path(artifact).stat().st_size
            artifact_sha = self.store.put_file(artifact).sha256
        self._register(servable_id, md, artifact_sha, size, files)
        return servable_id

    def _require_publisher(self) -> None:
        if self.principal.user is None:
            message = "anonymous users cannot publish servables; open the hub as a user"
        else:
            message = (
                f"{self.principal.name} may not publish servables on this hub: publishing code the hub "
                f"runs is a right its admins grant (to {', '.join(sorted(self.publishers or ()))})"
            )
        stored = (
            None if self.publishers is None else frozenset(Identities(self.db.catalog).acl(self.publishers))
        )
        require(self.principal, Action.CREATE, publishing(stored), message)

    def _claim(self, name: str, group: str | None) -> str:
        """The id ``name`` is published under (``publisher/name`` or ``group/name``), once claimed."""
        servable_id = f"{group or self.principal.name}/{name}"
        Names(self.db.catalog).claim(self.principal, Kind.SERVABLE, servable_id, group)
        return servable_id

    def _register(
        self,
        servable_id: str,
        md: ServableMetadata,
        artifact_sha: str | None,
        size: int,
        files: dict[str, Any],
    ) -> int:
        """Register the next version of ``servable_id``; returns its number."""
        owner = self.principal.user
        assert owner is not None
        identities = Identities(self.db.catalog)

        def stamp(version: int) -> dict[str, Any]:
            doc = md.to_document()
            doc["dlhub"].update(
                owner=owner,
                id=servable_id,
                version=version,
                status="published",
                published=self.db.now().isoformat(),
                files={**doc["dlhub"].get("files", {}), **files},
            )
            if artifact_sha:
                doc["dlhub"]["artifact"] = {"sha256": artifact_sha, "size": size}
            return doc

        row = self.db.publish(
            servable_id=servable_id,
            name=md.dlhub.name,
            owner=self.principal.owner_id,
            type=md.servable.type,
            title=md.datacite.titles[0].title,
            artifact_sha=artifact_sha,
            artifact_size=size,
            visible_to=identities.acl(md.dlhub.visible_to),
            runnable_by=identities.acl(md.dlhub.may_run),
            stamp=stamp,
        )
        self.sync_index(servable_id)
        return row.version

    # -- look up --------------------------------------------------------------------------

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
        self._index_check.once(self.ensure_indexed)
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
        row = self.db.resolve(self.principal, name)
        versions = [r.version for r in self.db.versions(row.id, self.principal)]
        owner = Identities(self.db.catalog).name(row.owner)
        return PublishedServable(row.id, row.version, owner, row.status, row.type, row.document, versions)

    def artifact(self, name: str) -> BinaryIO:
        """The artifact (the packaged tar) of a version you may see, as a binary stream.

        Whoever may see a servable may read its artifact (the policy's blob holders); a
        full read checks its sha256.

        Raises
        ------
        NotRunnableError
            When the version has no artifact (a metadata-only entry).
        """
        row = self.db.resolve(self.principal, name)
        if not row.artifact_sha:
            raise NotRunnableError(f"{row.id}@{row.version} has no artifact (a {row.type} entry)")
        return self.store.open(row.artifact_sha, length=row.artifact_size or None)

    def listing(self, *, all_versions: bool = False) -> list[PublishedServable]:
        """Every servable you may see (latest version of each unless ``all_versions``)."""
        rows = self.db.visible(self.principal, all_versions=all_versions)
        owners = Identities(self.db.catalog).names(r.owner for r in rows)
        return [
            PublishedServable(r.id, r.version, owners[r.owner], r.status, r.type, r.document, [])
            for r in rows
        ]

    # -- owner actions -----------------------------------------------------------------------

    def _owned(self, name: str, version: int | None) -> ServableRow:
        ident, v = split_ref(name)
        version = version if version is not None else v
        if version is None:
            raise ValidationError(f"say which version of {ident} (e.g. {ident}@1 or version=1)")
        row = self.db.resolve(self.principal, f"{ident}@{version}")
        require(
            self.principal,
            Action.CHANGE,
            Resource(Kind.SERVABLE, row.owner, row.status),
            f"only the owner of {row.id} ({Identities(self.db.catalog).name(row.owner)}) may change its versions",
        )
        return row

    def deprecate(self, name: str, version: int | None = None) -> PublishedServable:
        """Mark a version deprecated; the version as it is now.

        It stays runnable by name@version (with a warning) but ``name`` alone no longer picks it.
        """
        row = self._owned(name, version)
        self.db.set_status(row.id, row.version, DEPRECATED)
        self.sync_index(row.id)
        return self.servable(f"{row.id}@{row.version}")

    def delete(self, name: str, version: int | None = None) -> None:
        """Delete a version (its metadata, access and memoized outputs; past tasks stay)."""
        row = self._owned(name, version)
        self.db.delete(row.id, row.version)
        self.sync_index(row.id)

    # -- the index ----------------------------------------------------------------------------

    def _index_docs(self, servable_id: str) -> list[IndexDoc]:
        rows = self.db.versions(servable_id)
        if not rows:
            return []
        live = [r for r in rows if r.status != DEPRECATED]
        row = (live or rows)[-1]
        acl = document_acl(
            Resource(Kind.SERVABLE, row.owner, row.status, {Action.SEE: self.db.acl(row, Action.SEE)})
        )
        return [IndexDoc(row.id, KIND, f"{KIND}:{row.id}", acl, row.document)]

    def sync_index(self, servable_id: str) -> None:
        """Bring the index's document of ``servable_id`` up to date (a failure marks the index stale and warns)."""
        try:
            if self.index.handoff is None:
                self.index.replace_sources([f"{KIND}:{servable_id}"], self._index_docs(servable_id))
            elif not self.index.handoff.request("servable", servable_id):
                raise TimeoutError("the index writer did not answer")
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
        ids = self.db.ids()
        if self.index.handoff is not None:  # read-only here: the writer process indexes them
            self.index.handoff.request("servables")
            return len(ids)
        docs = [d for i in ids for d in self._index_docs(i)]
        self.index.replace_sources([f"{KIND}:{i}" for i in ids], docs)
        return len(docs)

    def ensure_indexed(self) -> None:
        """Index every servable again if the index does not hold one document per servable.

        That happens when the index was rebuilt or lost while the catalog kept them.
        """
        ids = self.db.ids()
        try:
            indexed = self.index.search(
                "*", Principal(None, frozenset({"admin"})), limit=0, kinds=[KIND]
            ).total
        except Exception:
            indexed = -1
        if indexed != len(ids):
            self.reindex()
