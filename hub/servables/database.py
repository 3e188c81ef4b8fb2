"""The servables' part of the catalog: versions, access, tasks and memoized outputs.

Access is a table (``servable_acl``: one row per version, right and entry, the
ACL shape datasets share), so "what may this principal see / run" is one portable
query: the access policy's (:mod:`hub.access.policy`) through its SQL adapter
(:func:`hub.access.sql.clause`).
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from hub.access import Action, Kind, Principal, Resource, allowed
from hub.access.sql import clause
from hub.db.database import Database
from hub.db.engine import session_factory
from hub.db.models import ServableACL, ServableCacheRow, ServableRow, ServableTaskRow, utcnow
from hub.exceptions import ConflictError, NotFoundError
from hub.servables.metadata import DEPRECATED, PUBLISHED


def split_ref(ref: str) -> tuple[str, int | None]:
    """``owner/name@3`` -> (``owner/name``, 3); no version -> None."""
    ident, sep, version = ref.strip().rpartition("@")
    if not sep:
        return ref.strip(), None
    try:
        return ident, int(version.lstrip("v"))
    except ValueError:
        raise NotFoundError(f"{ref!r}: the version after '@' must be a number, e.g. {ident}@2") from None


class ServableDatabase:
    """SQL reads and writes for servables, over the hub's catalog engine."""

    def __init__(self, catalog: Database) -> None:
        self.catalog = catalog
        self._engine = catalog.read_engine  # lookups only (autocommit reads on PostgreSQL)
        self._lookup: dict[Principal, tuple[Any, Any]] = {}
        self._lookup_lock = threading.Lock()  # the service runs many threads over one catalog
        self._sessions: sessionmaker[Session] = session_factory(catalog.engine)  # writes, in transactions
        self._reads: sessionmaker[Session] = session_factory(catalog.read_engine)

    # -- versions ---------------------------------------------------------------------

    def publish(
        self,
        *,
        servable_id: str,
        name: str,
        owner: str,
        type: str,
        title: str,
        artifact_sha: str | None,
        artifact_size: int,
        visible_to: list[str],
        runnable_by: list[str],
        stamp: Callable[[int], dict[str, Any]],
        attempts: int = 20,
    ) -> ServableRow:
        """Insert the next version in one transaction (retried if a concurrent publisher took it).

        ``owner`` is the publisher's id; ``visible_to`` and ``runnable_by`` are ACL entries
        as stored (users by id).
        """
        for _ in range(attempts):
            with self._reads() as s:
                current = s.scalar(select(func.max(ServableRow.version)).where(ServableRow.id == servable_id))
            version = (current or 0) + 1
            doc = stamp(version)
            now = utcnow()
            row = ServableRow(
                id=servable_id,
                version=version,
                name=name,
                owner=owner,
                type=type,
                status=PUBLISHED,
                title=title,
                artifact_sha=artifact_sha,
                artifact_size=artifact_size,
                document=doc,
                created_at=now,
                updated_at=now,
            )
            try:
                with self._sessions.begin() as s:
                    s.add(row)
                    s.flush()
                    acl = [
                        ServableACL(servable_id=servable_id, version=version, right=right, principal=p)
                        for right, entries in (
                            (Action.SEE.value, visible_to),
                            (Action.RUN.value, runnable_by),
                        )
                        for p in entries
                    ]
                    s.add_all(acl)
                return row
            except sa_exc.IntegrityError as exc:
                with self._reads() as s:
                    taken = s.get(ServableRow, (servable_id, version)) is not None
                if taken:
                    continue  # a concurrent publisher took this version: stamp the next one
                raise ConflictError(
                    f"could not publish {servable_id}@{version}: the catalog refused it "
                    f"({str(exc.orig).strip().splitlines()[0] if exc.orig else exc})"
                ) from exc
        raise ConflictError(
            f"could not allocate a version of {servable_id!r}: {attempts} concurrent publishers took "
            "the next one first; publish again"
        )

    def versions(self, servable_id: str, principal: Principal | None = None) -> list[ServableRow]:
        """Every version of ``servable_id`` (those ``principal`` may see, when given), oldest first."""
        q = select(ServableRow).where(ServableRow.id == servable_id).order_by(ServableRow.version)
        if principal is not None:
            q = q.where(clause(principal, Action.SEE, Kind.SERVABLE))
        with self._reads() as s:
            return list(s.scalars(q))

    def ids(self) -> list[str]:
        """Every servable id in the catalog, sorted, whoever may see it (for reindexing)."""
        with self._reads() as s:
            return list(s.scalars(select(ServableRow.id).distinct().order_by(ServableRow.id)))

    def visible(self, principal: Principal, *, all_versions: bool = False) -> list[ServableRow]:
        """The servables ``principal`` may see, by id.

        One version per servable: the latest not deprecated, else the latest; every
        visible version (by id, oldest first) when ``all_versions``.
        """
        q = (
            select(ServableRow)
            .where(clause(principal, Action.SEE, Kind.SERVABLE))
            .order_by(ServableRow.id, ServableRow.version)
        )
        with self._reads() as s:
            rows = list(s.scalars(q))
        if all_versions:
            return rows
        latest: dict[str, ServableRow] = {}
        for r in rows:
            prev = latest.get(r.id)
            if prev is None or r.status != DEPRECATED or prev.status == DEPRECATED:
                latest[r.id] = r
        return list(latest.values())

    def resolve_key(self, principal: Principal, ref: str) -> tuple[str, int, str, _dt.datetime]:
        """(id, version, status, updated_at) of the version ``ref`` names, among those ``principal`` may see.

        ``ref`` is ``owner/name@version``, ``owner/name`` (the latest not deprecated,
        else the latest) or ``name`` (when one owner's servable of that name is visible).
        Reads four columns only (no document): runs call this every time.

        Raises
        ------
        NotFoundError
            When nothing visible matches, when ``name`` is ambiguous (several owners), or
            when the version after ``@`` is not a number.
        """
        ident, version = split_ref(ref)
        by_name, by_id = self._statements(principal)
        with self._engine.connect() as conn:
            if "/" not in ident:
                owners = list(conn.scalars(by_name, {"name": ident}))
                if len(owners) > 1:
                    raise NotFoundError(
                        f"{ident!r} is ambiguous: say which one of {', '.join(sorted(owners))}"
                    )
                if owners:
                    ident = owners[0]
            rows = list(conn.execute(by_id, {"ident": ident}))
        if version is not None:
            rows = [r for r in rows if r.version == version]
        if not rows:
            raise NotFoundError(
                f"no servable {ref!r} that {principal.name} may see; `hub.servables()` lists the ones you can"
            )
        live = [r for r in rows if r.status != DEPRECATED]
        sid, v, status, changed = (live or rows)[-1]
        return sid, v, status, changed

    def _statements(self, principal: Principal) -> tuple[Any, Any]:
        """The two lookups of :meth:`resolve_key` for ``principal``, built once (runs are hot)."""
        cached = self._lookup.get(principal)
        if cached is None:
            visible = clause(principal, Action.SEE, Kind.SERVABLE)
            by_name = select(ServableRow.id).where(ServableRow.name == bindparam("name"), visible).distinct()
            by_id = (
                select(ServableRow.id, ServableRow.version, ServableRow.status, ServableRow.updated_at)
                .where(ServableRow.id == bindparam("ident"), visible)
                .order_by(ServableRow.version)
            )
            cached = (by_name, by_id)
            with self._lookup_lock:
                self._lookup[principal] = cached
                while len(self._lookup) > 64:
                    self._lookup.pop(next(iter(self._lookup)))
        return cached

    def row(self, servable_id: str, version: int) -> ServableRow:
        """The version ``servable_id@version`` with its document, not checking access.

        Raises
        ------
        NotFoundError
            When there is no such version.
        """
        with self._reads() as s:
            row = s.get(ServableRow, (servable_id, version))
        if row is None:
            raise NotFoundError(f"no servable {servable_id}@{version}")
        return row

    def resolve(self, principal: Principal, ref: str) -> ServableRow:
        """The version ``ref`` names (see :meth:`resolve_key`), with its document."""
        return self.row(*self.resolve_key(principal, ref)[:2])

    def acl(self, row: ServableRow, right: Action) -> frozenset[str]:
        """The stored entries of a version's ``right`` ACL (``see`` or ``run``; users by id).

        They change only when a deleted user's things pass to another user (which also
        sets the version's ``updated_at``).
        """
        with self._reads() as s:
            found = s.scalars(
                select(ServableACL.principal).where(
                    ServableACL.servable_id == row.id,
                    ServableACL.version == row.version,
                    ServableACL.right == right.value,
                )
            )
            return frozenset(found)

    def set_status(self, servable_id: str, version: int, status: str) -> ServableRow:
        """Set a version's status (published, deprecated) in its row and document; the updated row.

        Raises
        ------
        NotFoundError
            When there is no such version.
        """
        with self._sessions.begin() as s:
            row = s.get(ServableRow, (servable_id, version))
            if row is None:
                raise NotFoundError(f"no servable {servable_id}@{version}")
            row.status = status
            row.updated_at = utcnow()
            row.document = {**row.document, "dlhub": {**row.document["dlhub"], "status": status}}
            return row

    def delete(self, servable_id: str, version: int) -> None:
        """Remove a version with its ACL rows and memoized outputs, in one transaction.

        The artifact's blob stays in the store.
        """
        with self._sessions.begin() as s:
            s.execute(
                delete(ServableACL).where(
                    ServableACL.servable_id == servable_id, ServableACL.version == version
                )
            )
            s.execute(
                delete(ServableCacheRow).where(
                    ServableCacheRow.servable_id == servable_id, ServableCacheRow.version == version
                )
            )
            s.execute(
                delete(ServableRow).where(ServableRow.id == servable_id, ServableRow.version == version)
            )

    # -- tasks ------------------------------------------------------------------------

    def add_task(self, row: ServableTaskRow) -> None:
        """Persist a new task."""
        with self._sessions.begin() as s:
            s.add(row)

    def update_task(self, task_id: str, **values: Any) -> None:
        """Set the task's columns named in ``values`` (and ``updated_at``, to now)."""
        values["updated_at"] = utcnow()
        with self._sessions.begin() as s:
            s.execute(update(ServableTaskRow).where(ServableTaskRow.id == task_id).values(**values))

    def task(self, task_id: str, principal: Principal) -> ServableTaskRow:
        """The task ``task_id``, when ``principal`` may see it (the access policy's task rule).

        Raises
        ------
        NotFoundError
            When there is no such task or ``principal`` may not see it (the same error,
            so hidden tasks are not revealed).
        """
        with self._reads() as s:
            row = s.get(ServableTaskRow, task_id)
        if row is None or not allowed(principal, Action.SEE, Resource(Kind.TASK, row.owner, row.status)):
            raise NotFoundError(f"no task {task_id!r} that {principal.name} may see")
        return row

    def unfinished_tasks(self) -> list[ServableTaskRow]:
        """Every pending or running task of any owner, oldest first.

        What :meth:`~hub.servables.taskqueue.TaskQueue.tasks` filters and what resuming
        interrupted tasks scans; callers check access themselves.
        """
        with self._reads() as s:
            return list(
                s.scalars(
                    select(ServableTaskRow)
                    .where(ServableTaskRow.status.in_(("pending", "running")))
                    .order_by(ServableTaskRow.created_at, ServableTaskRow.id)
                )
            )

    # -- memoized outputs --------------------------------------------------------------

    def cached(self, key: str) -> str | None:
        """The sha256 of the memoized result blob under ``key``, or None."""
        with self._reads() as s:
            return s.scalar(select(ServableCacheRow.result_sha).where(ServableCacheRow.key == key))

    def remember(self, key: str, servable_id: str, version: int, result_sha: str) -> None:
        """Memoize ``result_sha`` under ``key`` for that version; the first run to remember a key wins."""
        try:
            with self._sessions.begin() as s:
                s.add(
                    ServableCacheRow(key=key, servable_id=servable_id, version=version, result_sha=result_sha)
                )
        except sa_exc.IntegrityError:
            pass  # a concurrent run remembered it first

    @staticmethod
    def now() -> _dt.datetime:
        """The current time as the catalog stores it (UTC)."""
        return utcnow()
