"""The adapters agree with the policy, as a property.

Hypothesis draws principals (users, groups, the admin and curator roles, anonymous
callers, anonymous callers with groups) and objects of every kind the SQL adapter
serves: dataset versions (owner, ``visible_to``, published or waiting for curation)
with a record and a file, servable versions (owner, ``visible_to``, ``runnable_by``,
published or deprecated), submissions, tasks (some run anonymously), users and tokens.
They are written to a real SQLite catalog through the catalog's own publish paths and
indexed through the index's own sync.  Then, for every rule of the policy table and
every principal, the rows the SQL adapter's condition selects, the documents the index
filter lets through and the blobs the blob rule lets one read are exactly the objects
the policy's Python predicate (:func:`hub.access.allowed`) allows.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Select, delete, select

from hub.access import (
    ANONYMOUS,
    BLOB_HOLDERS,
    PENDING_CURATION,
    POLICY,
    PUBLISHED,
    Action,
    Kind,
    Principal,
    Resource,
    allowed,
)
from hub.access.index import INDEXED, document_acl
from hub.access.sql import STORED, clause
from hub.db.database import Database
from hub.db.models import (
    DatasetACL,
    DatasetRow,
    FileRow,
    RecordRow,
    ServableACL,
    ServableRow,
    ServableTaskRow,
    SubmissionRow,
    TokenRow,
    UserRow,
)
from hub.index.engine import IndexDoc, SearchIndex
from hub.index.sync import sync_name
from hub.servables.database import ServableDatabase

USERS = ["alice", "bob", "carol"]
GROUPS = ["lab", "ext", "curators", "admin"]
ENTRIES = [
    "public",
    *(f"user:{u}" for u in [*USERS, "dave"]),
    *(f"group:{g}" for g in GROUPS),
]
SEE, RUN = Action.SEE, Action.RUN


@dataclass(frozen=True)
class Obj:
    """One object of the drawn world: its key in its table and what the policy knows of it."""

    key: tuple[Any, ...]
    resource: Resource


@dataclass
class World:
    datasets: list[Obj] = field(default_factory=list)
    servables: list[Obj] = field(default_factory=list)
    submissions: list[Obj] = field(default_factory=list)
    tasks: list[Obj] = field(default_factory=list)
    users: list[Obj] = field(default_factory=list)
    tokens: list[Obj] = field(default_factory=list)

    def objects(self, kind: Kind) -> list[Obj]:
        """The objects of ``kind``; a record and a file are their dataset version's, seen alike."""
        if kind is Kind.RECORD:
            return [Obj((f"{o.key[0]}.1",), _as(o.resource, kind)) for o in self.datasets]
        if kind is Kind.FILE:
            return [Obj((o.key[0], "data.txt"), _as(o.resource, kind)) for o in self.datasets]
        return {
            Kind.DATASET: self.datasets,
            Kind.SERVABLE: self.servables,
            Kind.SUBMISSION: self.submissions,
            Kind.TASK: self.tasks,
            Kind.USER: self.users,
            Kind.TOKEN: self.tokens,
        }[kind]


def _as(resource: Resource, kind: Kind) -> Resource:
    return Resource(kind, resource.owner, resource.status, resource.acl)


# -- drawing ------------------------------------------------------------------------------

group_sets = st.frozensets(st.sampled_from(GROUPS), max_size=3)
principals = st.lists(
    st.builds(Principal, st.sampled_from([*USERS, "dave", None]), group_sets),
    min_size=6,
    max_size=10,
).map(lambda ps: [*ps, Principal(None)])
acl = st.frozensets(st.sampled_from(ENTRIES), min_size=1, max_size=3)
owners = st.sampled_from(USERS)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    w = World()
    for i in range(draw(st.integers(1, 5))):
        status = draw(st.sampled_from([PUBLISHED, PUBLISHED, PENDING_CURATION]))
        w.datasets.append(Obj((f"ds{i}_v1",), Resource(Kind.DATASET, draw(owners), status, {SEE: draw(acl)})))
    for i in range(draw(st.integers(1, 5))):
        owner = draw(owners)
        status = draw(st.sampled_from(["published", "deprecated"]))
        rights = {SEE: draw(acl), RUN: draw(acl)}
        w.servables.append(Obj((f"{owner}/sv{i}", 1), Resource(Kind.SERVABLE, owner, status, rights)))
    for i in range(draw(st.integers(0, 3))):
        status = draw(st.sampled_from(["complete", "failed", "pending_curation"]))
        w.submissions.append(Obj((f"sub{i}",), Resource(Kind.SUBMISSION, draw(owners), status)))
    for i in range(draw(st.integers(0, 3))):
        owner = draw(st.sampled_from([*USERS, ANONYMOUS]))
        status = draw(st.sampled_from(["pending", "completed"]))
        w.tasks.append(Obj((f"task{i}",), Resource(Kind.TASK, owner, status)))
    for name in draw(st.lists(owners, unique=True)):
        w.users.append(Obj((name,), Resource(Kind.USER, name)))
        w.tokens.append(Obj((f"tok-{name}",), Resource(Kind.TOKEN, name)))
    return w


# -- writing the world through the hub's own paths -------------------------------------------


def sha_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write(catalog: Database, servables: ServableDatabase, index: SearchIndex, world: World) -> None:
    for o in world.datasets:
        sid = o.key[0]
        name = sid.removesuffix("_v1")
        visible_to = sorted(o.resource.acl[SEE])

        def stamp(
            v: int,
            sid: str = sid,
            name: str = name,
            visible_to: list[str] = visible_to,
            status: Any = o.resource.status,
        ) -> Any:
            doc = {
                "mdf": {
                    "source_id": sid,
                    "source_name": name,
                    "version": v,
                    "status": status,
                    "visible_to": visible_to,
                },
                "dc": {"titles": [{"title": name}]},
                "data": {"root_hash": "f" * 64, "total_size": 1, "files": 1},
            }
            record = {"mdf": {"source_id": sid, "record_id": f"{sid}.1", "scroll_id": 1}}
            return doc, [record]

        catalog.publish(
            source_name=name,
            owner=str(o.resource.owner),
            status=str(o.resource.status),
            visible_to=visible_to,
            files=[{"path": "data.txt", "filename": "data.txt", "sha256": sha_of(sid), "length": 1}],
            stamp=stamp,
            submission_id=None,
        )
        sync_name(catalog, index, name)
    for o in world.servables:
        sid, _ = o.key
        owner = str(o.resource.owner)
        see, run = sorted(o.resource.acl[SEE]), sorted(o.resource.acl[RUN])
        servables.publish(
            servable_id=sid,
            name=sid.split("/")[1],
            owner=owner,
            type="python",
            title=sid,
            artifact_sha=sha_of(sid),
            artifact_size=1,
            visible_to=see,
            runnable_by=run,
            stamp=lambda v, sid=sid, see=see: {"dlhub": {"id": sid, "version": v, "visible_to": see}},
        )
        if o.resource.status == "deprecated":
            servables.set_status(sid, 1, "deprecated")
        row = servables.row(sid, 1)
        shown = frozenset(row.document["dlhub"]["visible_to"])
        doc_acl = document_acl(Resource(Kind.SERVABLE, row.owner, row.status, {SEE: shown}))
        index.replace_sources(
            [f"servable:{sid}"], [IndexDoc(sid, "servable", f"servable:{sid}", doc_acl, {})]
        )
    with catalog.transaction() as s:
        for o in world.submissions:
            s.add(
                SubmissionRow(
                    id=o.key[0],
                    owner=o.resource.owner,
                    source="/x",
                    source_name="x",
                    status=o.resource.status,
                    steps=[],
                    errors=[],
                    options={},
                )
            )
        for o in world.tasks:
            s.add(
                ServableTaskRow(
                    id=o.key[0],
                    servable_id="a/b",
                    version=1,
                    owner=o.resource.owner,
                    status=o.resource.status,
                )
            )
        for o in world.users:  # the world's users go by their names as ids
            s.add(UserRow(id=o.key[0], name=o.key[0], groups=[]))
        s.flush()
        for o in world.tokens:
            s.add(TokenRow(id=o.key[0], user=o.resource.owner, token_sha256=sha_of(o.key[0])))


def clear(catalog: Database, index: SearchIndex) -> None:
    with catalog.transaction() as s:
        for table in (
            TokenRow,
            UserRow,
            ServableTaskRow,
            SubmissionRow,
            ServableACL,
            ServableRow,
            RecordRow,
            FileRow,
            DatasetACL,
            DatasetRow,
        ):
            s.execute(delete(table))
    index.clear()


# -- reading it back through the adapters ----------------------------------------------------


def rows_of(kind: Kind) -> Select[Any]:
    """The keys of ``kind``'s objects (records and files joined to their dataset version)."""
    if kind is Kind.RECORD:
        return select(RecordRow.record_id).join(DatasetRow, DatasetRow.source_id == RecordRow.source_id)
    if kind is Kind.FILE:
        return select(FileRow.source_id, FileRow.path).join(
            DatasetRow, DatasetRow.source_id == FileRow.source_id
        )
    return {
        Kind.DATASET: select(DatasetRow.source_id),
        Kind.SERVABLE: select(ServableRow.id, ServableRow.version),
        Kind.SUBMISSION: select(SubmissionRow.id),
        Kind.TASK: select(ServableTaskRow.id),
        Kind.USER: select(UserRow.id),
        Kind.TOKEN: select(TokenRow.id),
    }[kind]


def sql_keys(catalog: Database, principal: Principal, action: Action, kind: Kind) -> set[tuple[Any, ...]]:
    with catalog.session() as s:
        return {tuple(r) for r in s.execute(rows_of(kind).where(clause(principal, action, kind)))}


def index_ids(index: SearchIndex, principal: Principal, kind: Kind) -> set[str]:
    res = index.search("*", principal, limit=1000, kinds=[kind.value])
    assert res.total == len(res.hits)
    return {h.id for h in res.hits}


def check(catalog: Database, index: SearchIndex, world: World, people: list[Principal]) -> None:
    rules = [(kind, action) for kind, action in POLICY if kind in STORED]
    for principal, (kind, action) in itertools.product(people, rules):
        expected = {o.key for o in world.objects(kind) if allowed(principal, action, o.resource)}
        assert sql_keys(catalog, principal, action, kind) == expected, (principal, kind, action)
    for principal, kind in itertools.product(people, INDEXED):
        expected_ids = {o.key[0] for o in world.objects(kind) if allowed(principal, SEE, o.resource)}
        assert index_ids(index, principal, kind) == expected_ids, (principal, kind)
    holders = [o for kind in BLOB_HOLDERS for o in world.objects(kind)]
    for principal, o in itertools.product(people, holders):
        readable = any(allowed(principal, SEE, h.resource) for h in holders if h.key[0] == o.key[0])
        assert catalog.blob_readable(principal, sha_of(o.key[0])) == readable, (principal, o)


@pytest.fixture(scope="module")
def stores(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Database, ServableDatabase, SearchIndex]]:
    root = tmp_path_factory.mktemp("policy")
    catalog = Database(f"sqlite:///{root / 'catalog.sqlite'}")
    yield catalog, ServableDatabase(catalog), SearchIndex(Path(root / "index"))
    catalog.close()


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(world=worlds(), people=principals)
def test_sql_and_index_decide_as_the_policy(
    stores: tuple[Database, ServableDatabase, SearchIndex], world: World, people: list[Principal]
) -> None:
    catalog, servables, index = stores
    clear(catalog, index)
    write(catalog, servables, index, world)
    check(catalog, index, world, people)


def test_the_sql_adapter_on_every_backend(catalog_url: str, tmp_path: Path) -> None:
    """One fixed world through the SQL adapter on SQLite and PostgreSQL (the composite-key
    ``IN`` of servables' ACL included)."""
    catalog = Database(catalog_url)
    try:
        world = World(
            datasets=[
                Obj(("open_v1",), Resource(Kind.DATASET, "alice", PUBLISHED, {SEE: frozenset({"public"})})),
                Obj(("lab_v1",), Resource(Kind.DATASET, "bob", PUBLISHED, {SEE: frozenset({"group:lab"})})),
                Obj(
                    ("wait_v1",),
                    Resource(Kind.DATASET, "carol", PENDING_CURATION, {SEE: frozenset({"public"})}),
                ),
            ],
            servables=[
                Obj(
                    ("alice/sv0", 1),
                    Resource(
                        Kind.SERVABLE,
                        "alice",
                        "published",
                        {SEE: frozenset({"public"}), RUN: frozenset({"group:lab", "user:carol"})},
                    ),
                ),
                Obj(
                    ("bob/sv1", 1),
                    Resource(
                        Kind.SERVABLE,
                        "bob",
                        "deprecated",
                        {SEE: frozenset({"user:alice"}), RUN: frozenset({"public"})},
                    ),
                ),
            ],
            tasks=[Obj(("task0",), Resource(Kind.TASK, ANONYMOUS, "completed"))],
        )
        people = [
            Principal(None),
            Principal("alice"),
            Principal("bob", frozenset({"lab"})),
            Principal("carol", frozenset({"curators"})),
            Principal("root", frozenset({"admin"})),
        ]
        index = SearchIndex(tmp_path / "index")
        write(catalog, ServableDatabase(catalog), index, world)
        check(catalog, index, world, people)
    finally:
        catalog.close()
