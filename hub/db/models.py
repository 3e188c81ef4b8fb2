"""The catalog schema: the source of truth for datasets, files, records and submissions.

Portable SQL only (SQLite by default, PostgreSQL for shared deployments);
dialect-specific settings live in :mod:`hub.db.engine`.

Access control is a table per kind of object with an ACL, of one shape
(:class:`ACLEntry`: the object's key, a right and an entry; ``dataset_acl``,
``servable_acl``), so "what may this principal see" is one portable
``IN (subquery)`` rather than a JSON query that differs per database
(:mod:`hub.access.sql`).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> _dt.datetime:
    """The current time, as an aware UTC datetime (the catalog's timestamps)."""
    return _dt.datetime.now(_dt.UTC)


class UTCDateTime(TypeDecorator[_dt.datetime]):
    """A point in time, read back as an aware UTC datetime on every backend.

    Stored as ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL (which returns it in the
    session's time zone) and as text on SQLite (which keeps no zone); a naive
    value is taken to be UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: _dt.datetime | None, dialect: Any) -> _dt.datetime | None:
        """``value`` in UTC before it is stored (a naive one taken to be UTC already)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=_dt.UTC)
        return value.astimezone(_dt.UTC)

    def process_result_value(self, value: _dt.datetime | None, dialect: Any) -> _dt.datetime | None:
        """A stored value as an aware UTC datetime (a naive one taken to be UTC)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=_dt.UTC)
        return value.astimezone(_dt.UTC)


class Base(DeclarativeBase):
    """The base of the catalog's tables; ``dict`` and ``list`` columns are JSON (``jsonb`` on PostgreSQL)."""

    type_annotation_map = {dict[str, Any]: JSONType, list[Any]: JSONType}


class DatasetRow(Base):
    """One version of a dataset (``source_id`` = ``{source_name}_v{version}``)."""

    __tablename__ = "datasets"

    source_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    source_name: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), index=True)  # published | pending_curation
    owner: Mapped[str] = mapped_column(String(200))  # the owner's user id
    title: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    root_hash: Mapped[str] = mapped_column(String(64))
    total_size: Mapped[int] = mapped_column(BigInteger)
    n_files: Mapped[int] = mapped_column(Integer)
    n_records: Mapped[int] = mapped_column(Integer)
    submission_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("source_name", "version", name="uq_dataset_version"),)


class ACLEntry:
    """One entry of an object's ACL: ``principal`` holds ``right`` on the object.

    ``principal`` is ``public``, ``user:ID`` (a user's id, :mod:`hub.access.identities`)
    or ``group:NAME``; ``right`` is ``see`` or ``run``.

    The ACL shape datasets and servables share: each ACL table is the object's key
    followed by these two columns.
    """

    right: Mapped[str] = mapped_column(String(8), primary_key=True)
    principal: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class DatasetACL(ACLEntry, Base):
    """Who may see a dataset version (``right`` is ``see``: datasets have no other right)."""

    __tablename__ = "dataset_acl"

    source_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.source_id", ondelete="CASCADE"), primary_key=True
    )


class FileRow(Base):
    """One file of a dataset version: its path in the dataset and the blob holding its bytes.

    ``sha256`` names the blob in the blob store; ``length`` is its size in bytes.  A file
    published by reference has no blob: ``url`` is where it is, ``sha256`` and ``length``
    what it held when published (None for a copied file).
    """

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("datasets.source_id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    length: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    data_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        UniqueConstraint("source_id", "path", name="uq_file_path"),
        Index("ix_files_source", "source_id"),
    )


class RecordRow(Base):
    """One record of a dataset version: its validated document.

    ``record_id`` is ``{source_id}.{scroll_id}``; ``scroll_id`` orders the records of a
    version, for reading them in pages.
    """

    __tablename__ = "records"

    record_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("datasets.source_id", ondelete="CASCADE"))
    scroll_id: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)

    __table_args__ = (Index("ix_records_source_scroll", "source_id", "scroll_id"),)


class SubmissionRow(Base):
    """A submission and its steps (``owner``: a user id); ``options`` keeps what is needed to retry it."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    source: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(String(80), index=True)
    source_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    steps: Mapped[list[Any]] = mapped_column(JSONType)
    errors: Mapped[list[Any]] = mapped_column(JSONType)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    host: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- servables ------------------------------------------------------------------

from sqlalchemy import ForeignKeyConstraint  # noqa: E402  (appended section)


class ServableRow(Base):
    """One version of a servable (``id`` = ``owner/name`` as first published; ``owner``: a user id)."""

    __tablename__ = "servables"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(32), index=True)  # published | deprecated
    title: Mapped[str] = mapped_column(Text)
    artifact_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    artifact_size: Mapped[int] = mapped_column(BigInteger, default=0)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ServableACL(ACLEntry, Base):
    """Who may see (``right='see'``) or run (``right='run'``) a servable version."""

    __tablename__ = "servable_acl"

    servable_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["servable_id", "version"], ["servables.id", "servables.version"], ondelete="CASCADE"
        ),
    )


class ServableTaskRow(Base):
    """A servable run submitted asynchronously: status, result, timings, captured output, error."""

    __tablename__ = "servable_tasks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    servable_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)  # pending | running | completed | failed
    batch: Mapped[bool] = mapped_column(Boolean, default=False)
    n_inputs: Mapped[int] = mapped_column(Integer, default=1)
    result: Mapped[Any] = mapped_column(JSONType, nullable=True)
    result_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    stdout: Mapped[str] = mapped_column(Text, default="")
    stderr: Mapped[str] = mapped_column(Text, default="")
    timings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The run's inputs, parameters and limits (a blob), so a restart can run it again.
    inputs_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    host: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ServableCacheRow(Base):
    """A memoized output: servable version + hash of inputs and parameters -> result blob."""

    __tablename__ = "servable_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    servable_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    result_sha: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- users, groups and tokens (the hub service) --------------------------------------


class UserRow(Base):
    """A user's identity: an immutable id, the name it goes by, and its groups.

    The id is given when the name is first used and never reused; owner columns, stored
    ACL entries (``user:<id>``) and tokens name it (:mod:`hub.access.identities`).  A row
    is ``registered`` once an admin created the user (only registered users are listed
    and get tokens); one made because the name was used first (an embedded hub acting as
    it, an ACL entry naming it) is not, until then.  Deleting a user sets ``deleted_at``:
    the row stays (its name shows as deleted), the name is free for a new id.
    """

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    groups: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    registered: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        # one live identity per name; deleted ones keep theirs
        Index(
            "uq_users_live_name",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )


class TokenRow(Base):
    """A bearer token of a user (by id): only its sha256 is stored, never the token itself."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user: Mapped[str] = mapped_column(String(40), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[_dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class NameClaimRow(Base):
    """Who a name belongs to: a dataset's ``source_name`` or a servable's ``owner/name``.

    ``kind`` is ``dataset`` or ``servable``; ``owner`` the id of the user who first
    published under it and ``owner_group`` the group it was published for (None: the
    user alone).  :mod:`hub.access.names` decides who may publish under it.
    """

    __tablename__ = "name_claims"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    owner_group: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[_dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RateBucketRow(Base):
    """One caller's token bucket of the service's rate limits, shared by its API processes.

    ``key`` is the limit and the caller (``requests|token:<hash>``); ``tokens`` what is
    left at ``stamp`` (seconds since the epoch, the database's clock); ``granted`` whether
    the last request taken from it was let through (:mod:`hub.service.sharedlimits`).
    """

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float())
    stamp: Mapped[float] = mapped_column(Float(), index=True)
    granted: Mapped[bool] = mapped_column(Boolean(), default=True)
