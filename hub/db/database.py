"""The catalog: every read and write of the SQL source of truth.

Writes that publish a dataset version happen in one transaction, and only after
it commits is a submission reported complete.  Every read takes a
:class:`~hub.access.Principal` and filters with the access policy's SQL condition
(:func:`hub.access.sql.clause`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, delete, func, or_, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from hub.access import PENDING_CURATION, PUBLISHED, Action, Kind, Principal, Resource, allowed
from hub.access.sql import blob_readable, clause
from hub.db.bulk import insert_many
from hub.db.engine import open_engine, read_engine, session_factory
from hub.db.models import DatasetACL, DatasetRow, FileRow, RecordRow, SubmissionRow, utcnow
from hub.exceptions import ConflictError, NotFoundError

#: Builds the final dataset document and records once the version is known.
Stamp = Callable[[int], tuple[dict[str, Any], list[dict[str, Any]]]]


class Database:
    """The hub's SQL database at ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``).

    Its schema is brought to the current revision on open (:func:`hub.db.engine.open_engine`).

    Thread-safe: every method takes its own session from the engine's pool
    (:data:`hub.db.engine.POOL_SIZE` connections, more under load), so one Database
    serves the many threads of the hub service.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = open_engine(url)
        #: the same pool, for reads (one round trip each on PostgreSQL: autocommit)
        self.read_engine: Engine = read_engine(self.engine)
        self._sessions = session_factory(self.engine)
        self._reads = session_factory(self.read_engine)

    def close(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reads: each statement sees what is committed when it runs.

        Write in :meth:`transaction` (on PostgreSQL a read session commits each
        statement by itself, so a write there would not be atomic).
        """
        with self._reads() as s:
            yield s

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction, committed at the end (rolled back on error)."""
        with self._sessions.begin() as s:
            yield s

    # -- submissions ----------------------------------------------------------

    def add_submission(self, row: SubmissionRow) -> None:
        """Insert a new submission, in a transaction of its own."""
        with self._sessions.begin() as s:
            s.add(row)

    def update_submission(self, sub_id: str, **values: Any) -> None:
        """Set the columns ``values`` names on submission ``sub_id`` (and its ``updated_at``)."""
        values["updated_at"] = utcnow()
        with self._sessions.begin() as s:
            s.execute(update(SubmissionRow).where(SubmissionRow.id == sub_id).values(**values))

    def submission_row(self, sub_id: str) -> SubmissionRow | None:
        """A submission without an access check (internal use)."""
        with self.session() as s:
            return s.get(SubmissionRow, sub_id)

    def submission(self, sub_id: str, principal: Principal) -> SubmissionRow:
        """Submission ``sub_id``, when ``principal`` may see it.

        Raises
        ------
        NotFoundError
            When there is no such submission or ``principal`` may not see it.
        """
        row = self.submission_row(sub_id)
        if row is None or not allowed(
            principal, Action.SEE, Resource(Kind.SUBMISSION, row.owner, row.status)
        ):
            raise NotFoundError(f"no submission {sub_id!r} that you may see")
        return row

    def submissions(self, principal: Principal, status: str | None = None) -> list[SubmissionRow]:
        """The submissions ``principal`` may see (only those in ``status``, when given), oldest first."""
        q = (
            select(SubmissionRow)
            .where(clause(principal, Action.SEE, Kind.SUBMISSION))
            .order_by(SubmissionRow.created_at, SubmissionRow.id)
        )
        if status:
            q = q.where(SubmissionRow.status == status)
        with self.session() as s:
            return list(s.scalars(q))

    def running_submissions(self) -> list[SubmissionRow]:
        """Every submission whose status is ``running``, oldest first (no access check)."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(SubmissionRow)
                    .where(SubmissionRow.status == "running")
                    .order_by(SubmissionRow.created_at, SubmissionRow.id)
                )
            )

    # -- publishing -----------------------------------------------------------

    def next_version(self, source_name: str) -> int:
        """The version number a new version of ``source_name`` would get (1 for a new dataset)."""
        with self.session() as s:
            current = s.scalar(
                select(func.max(DatasetRow.version)).where(DatasetRow.source_name == source_name)
            )
        return (current or 0) + 1

    def publish(
        self,
        *,
        source_name: str,
        owner: str,
        status: str,
        visible_to: Sequence[str],
        files: Sequence[dict[str, Any]],
        stamp: Stamp,
        submission_id: str | None,
        submission_values: dict[str, Any] | None = None,
        attempts: int = 20,
    ) -> str:
        """Insert a new version in one transaction; returns its source_id.

        ``stamp(version)`` returns the dataset document and the records for that
        version; it is called again if a concurrent publisher took the version.  The
        version's ACL lists ``visible_to`` (entries as stored: users by id) for ``see``;
        ``files`` are the file rows' columns.  When ``submission_id`` is given, ``submission_values`` (and the new
        ``source_id``) are set on that submission in the same transaction.

        Raises
        ------
        ConflictError
            When the catalog refuses the version, or ``attempts`` concurrent publishers
            each took the next version first.
        """
        for _ in range(attempts):
            version = self.next_version(source_name)
            doc, records = stamp(version)
            source_id: str = doc["mdf"]["source_id"]
            try:
                with self._sessions.begin() as s:
                    s.add(
                        DatasetRow(
                            source_id=source_id,
                            source_name=source_name,
                            version=version,
                            status=status,
                            owner=owner,
                            title=doc["dc"]["titles"][0]["title"],
                            document=doc,
                            root_hash=doc["data"]["root_hash"],
                            total_size=doc["data"]["total_size"],
                            n_files=doc["data"]["files"],
                            n_records=len(records),
                            submission_id=submission_id,
                        )
                    )
                    s.flush()
                    conn = s.connection()
                    insert_many(
                        conn,
                        DatasetACL,
                        [
                            {"source_id": source_id, "right": Action.SEE.value, "principal": p}
                            for p in visible_to
                        ],
                    )
                    insert_many(conn, FileRow, [{**f, "source_id": source_id} for f in files])
                    insert_many(
                        conn,
                        RecordRow,
                        [
                            {
                                "record_id": r["mdf"]["record_id"],
                                "source_id": source_id,
                                "scroll_id": r["mdf"]["scroll_id"],
                                "document": r,
                            }
                            for r in records
                        ],
                    )
                    if submission_id is not None:
                        _record_outcome(
                            s, submission_id, {"source_id": source_id, **(submission_values or {})}
                        )
                return source_id
            except sa_exc.IntegrityError as exc:
                if self.next_version(source_name) > version:
                    continue  # a concurrent publisher took this version: stamp the next one
                raise ConflictError(
                    f"could not publish {source_id!r}: the catalog refused it ({_first_line(exc.orig)})"
                ) from exc
        raise ConflictError(
            f"could not allocate a version of {source_name!r}: {attempts} concurrent publishers took "
            "the next one first; submit again"
        )

    def set_status(
        self,
        source_id: str,
        status: str,
        *,
        submission_id: str | None = None,
        submission_values: dict[str, Any] | None = None,
    ) -> None:
        """Change a version's status (its row and its document's ``mdf.status``).

        In the same transaction, ``submission_values`` are set on the submission
        ``submission_id``, so a curator's verdict and its outcome commit together.

        Raises
        ------
        NotFoundError
            When there is no version ``source_id``.
        """
        with self._sessions.begin() as s:
            row = s.get(DatasetRow, source_id)
            if row is None:
                raise NotFoundError(f"no dataset {source_id!r}")
            row.status = status
            row.document = {**row.document, "mdf": {**row.document["mdf"], "status": status}}
            if submission_id is not None:
                _record_outcome(s, submission_id, submission_values or {})

    def delete_version(
        self,
        source_id: str,
        *,
        submission_id: str | None = None,
        submission_values: dict[str, Any] | None = None,
    ) -> None:
        """Remove a version and everything of it (records, files, ACL).

        In the same transaction, ``submission_values`` are set on the submission
        ``submission_id``.  The blobs of its files stay in the blob store.
        """
        with self._sessions.begin() as s:
            s.execute(delete(RecordRow).where(RecordRow.source_id == source_id))
            s.execute(delete(FileRow).where(FileRow.source_id == source_id))
            s.execute(delete(DatasetACL).where(DatasetACL.source_id == source_id))
            s.execute(delete(DatasetRow).where(DatasetRow.source_id == source_id))
            if submission_id is not None:
                _record_outcome(s, submission_id, submission_values or {})

    # -- reading --------------------------------------------------------------

    def datasets(
        self, principal: Principal, *, all_versions: bool = False, source_name: str | None = None
    ) -> list[DatasetRow]:
        """The dataset versions ``principal`` may see, by source name then version.

        By default one version per dataset: the latest published one, else (when none
        visible is published) the earliest visible one.  ``all_versions`` gives every
        visible version; ``source_name`` only that dataset's.
        """
        q = (
            select(DatasetRow)
            .where(clause(principal, Action.SEE, Kind.DATASET))
            .order_by(DatasetRow.source_name, DatasetRow.version)
        )
        if source_name:
            q = q.where(DatasetRow.source_name == source_name)
        with self.session() as s:
            rows = list(s.scalars(q))
        if all_versions:
            return rows
        latest: dict[str, DatasetRow] = {}
        for r in rows:  # ordered by version: the last one wins
            if r.status == PUBLISHED or r.source_name not in latest:
                latest[r.source_name] = r
        return list(latest.values())

    def dataset(self, principal: Principal, ident: str) -> DatasetRow:
        """A version by source_id, or the latest visible published version by source_name.

        For a source_name with no visible published version, its latest visible version.

        Raises
        ------
        NotFoundError
            When ``principal`` may see no such version.
        """
        with self.session() as s:  # one query: the exact version first, else the name's best
            row = s.scalar(
                select(DatasetRow)
                .where(
                    or_(DatasetRow.source_id == ident, DatasetRow.source_name == ident),
                    clause(principal, Action.SEE, Kind.DATASET),
                )
                .order_by(
                    (DatasetRow.source_id == ident).desc(),
                    (DatasetRow.status == PUBLISHED).desc(),
                    DatasetRow.version.desc(),
                )
                .limit(1)
            )
        if row is None:
            raise NotFoundError(
                f"no dataset {ident!r} that {principal.name} may see; `hub.datasets()` lists the ones you can"
            )
        return row

    def files(self, principal: Principal, source_id: str) -> list[FileRow]:
        """The files of version ``source_id``, by path.

        Raises
        ------
        NotFoundError
            When ``principal`` may not see the version (or there is none).
        """
        q = (
            select(FileRow)
            .join(DatasetRow, DatasetRow.source_id == FileRow.source_id)
            .where(FileRow.source_id == source_id, clause(principal, Action.SEE, Kind.FILE))
            .order_by(FileRow.path)
        )
        with self.session() as s:
            rows = list(s.scalars(q))
        if not rows:
            self.dataset(principal, source_id)  # not visible (or no such version): say so
        return rows

    def file(self, principal: Principal, source_id: str, path: str) -> FileRow:
        """The file at ``path`` in version ``source_id``.

        Raises
        ------
        NotFoundError
            When ``principal`` may not see the version, or it has no such file.
        """
        self.dataset(principal, source_id)
        with self.session() as s:
            row = s.scalar(select(FileRow).where(FileRow.source_id == source_id, FileRow.path == path))
        if row is None:
            raise NotFoundError(f"dataset {source_id!r} has no file {path!r}")
        return row

    def records(
        self, principal: Principal, source_id: str, *, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The record documents of version ``source_id`` in scroll order, a page of them.

        Raises
        ------
        NotFoundError
            When ``principal`` may not see the version (or there is none).
        """
        q = (
            select(RecordRow.document)
            .join(DatasetRow, DatasetRow.source_id == RecordRow.source_id)
            .where(RecordRow.source_id == source_id, clause(principal, Action.SEE, Kind.RECORD))
            .order_by(RecordRow.scroll_id)
            .offset(offset)
        )
        if limit is not None:
            q = q.limit(limit)
        with self.session() as s:  # one query; the access check is part of it
            docs = list(s.scalars(q))
        if not docs:
            self.dataset(principal, source_id)  # not visible (or no such version): say so
        return docs

    def record(self, principal: Principal, record_id: str) -> dict[str, Any]:
        """The document of record ``record_id``.

        Raises
        ------
        NotFoundError
            When there is no such record or ``principal`` may not see its version.
        """
        with self.session() as s:
            doc: dict[str, Any] | None = s.scalar(
                select(RecordRow.document)
                .join(DatasetRow, DatasetRow.source_id == RecordRow.source_id)
                .where(RecordRow.record_id == record_id, clause(principal, Action.SEE, Kind.RECORD))
            )
        if doc is None:
            raise NotFoundError(f"no record {record_id!r} that {principal.name} may see")
        return doc

    def acl(self, source_id: str) -> frozenset[str]:
        """The stored ``see`` entries of version ``source_id`` (``user:<id>``, ``group:NAME``, ``public``).

        No access check: for the search index and for a revision keeping them.
        """
        with self.session() as s:
            return frozenset(
                s.scalars(
                    select(DatasetACL.principal).where(
                        DatasetACL.source_id == source_id, DatasetACL.right == Action.SEE.value
                    )
                )
            )

    def blob_readable(self, principal: Principal, sha256: str) -> bool:
        """Whether ``principal`` may read blob ``sha256``.

        It may when a dataset file or a servable's artifact it may see holds the blob
        (:data:`hub.access.policy.BLOB_HOLDERS`).
        """
        with self.session() as s:
            return bool(s.scalar(blob_readable(principal, sha256)))

    # -- for the search index (no principal: the index applies access itself) -------

    def versions(self, source_name: str) -> list[DatasetRow]:
        """Every version of ``source_name``, oldest first, whatever its status (no access check)."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(DatasetRow)
                    .where(DatasetRow.source_name == source_name)
                    .order_by(DatasetRow.version)
                )
            )

    def source_names(self) -> list[str]:
        """The name of every dataset in the catalog, sorted (no access check)."""
        with self.session() as s:
            return list(s.scalars(select(DatasetRow.source_name).distinct().order_by(DatasetRow.source_name)))

    def iter_records(self, source_id: str, batch: int = 5000) -> Iterator[dict[str, Any]]:
        """The record documents of version ``source_id`` in scroll order (no access check).

        Read ``batch`` at a time, each batch in a session of its own.
        """
        last = 0
        while True:
            with self.session() as s:
                rows = list(
                    s.execute(
                        select(RecordRow.scroll_id, RecordRow.document)
                        .where(RecordRow.source_id == source_id, RecordRow.scroll_id > last)
                        .order_by(RecordRow.scroll_id)
                        .limit(batch)
                    )
                )
            if not rows:
                return
            for scroll_id, doc in rows:
                yield doc
                last = scroll_id

    def pending_curation(self) -> list[DatasetRow]:
        """The versions waiting for curation, oldest first (no access check)."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(DatasetRow)
                    .where(DatasetRow.status == PENDING_CURATION)
                    .order_by(DatasetRow.created_at, DatasetRow.source_id)
                )
            )

    def counts(self) -> dict[str, int]:
        """How many dataset versions, records and files the catalog holds (no access check)."""
        with self.session() as s:
            return {
                "datasets": s.scalar(select(func.count()).select_from(DatasetRow)) or 0,
                "records": s.scalar(select(func.count()).select_from(RecordRow)) or 0,
                "files": s.scalar(select(func.count()).select_from(FileRow)) or 0,
            }

    @staticmethod
    def now() -> _dt.datetime:
        """The current time, as the catalog stamps it: an aware UTC datetime."""
        return utcnow()


def _record_outcome(s: Session, submission_id: str, values: dict[str, Any]) -> None:
    """Set ``values`` on a submission, inside the transaction of the change it led to."""
    s.execute(
        update(SubmissionRow).where(SubmissionRow.id == submission_id).values(updated_at=utcnow(), **values)
    )


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else "integrity error"
