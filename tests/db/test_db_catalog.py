"""The catalog (hub/db/database.py) on SQLite and PostgreSQL: versions, access,
ordering, documents, big ingests, concurrent publishers and threads."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hub.access import PENDING_CURATION, PUBLISHED, Principal
from hub.db.database import Database
from hub.db.models import SubmissionRow
from hub.exceptions import ConflictError, NotFoundError

ADMIN = Principal("root", frozenset({"admin"}))
CURATOR = Principal("cora", frozenset({"curators"}))
ALICE = Principal("alice")
BOB = Principal("bob")
LABMATE = Principal("dan", frozenset({"lab"}))
ANONYMOUS = Principal(None)
BIG = 5 * 2**32  # more than a 32-bit integer holds


@pytest.fixture()
def catalog(catalog_url: str) -> Iterator[Database]:
    c = Database(catalog_url)
    yield c
    c.close()


def files_of(n: int) -> list[dict[str, Any]]:
    return [
        {
            "path": f"d/{i:03d}.cif",
            "filename": f"{i:03d}.cif",
            "sha256": f"{i:064x}",
            "length": BIG + i,
            "mime_type": "chemical/x-cif",
            "data_type": "crystal",
        }
        for i in range(n)
    ]


def stamp_of(
    name: str, n_records: int, *, status: str = PUBLISHED, seed: int = 0, calls: list[int] | None = None
):
    """A stamp: the dataset document and records of version ``v`` (records in shuffled order)."""

    def stamp(v: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if calls is not None:
            calls.append(v)
        sid = f"{name}_v{v}"
        doc = {
            "mdf": {"source_id": sid, "source_name": name, "version": v, "status": status},
            "dc": {"titles": [{"title": f"The {name} dataset"}]},
            "data": {"root_hash": "f" * 64, "total_size": BIG, "files": 3},
        }
        order = list(range(1, n_records + 1))
        random.Random(seed).shuffle(order)
        records = [
            {
                "mdf": {"source_id": sid, "record_id": f"{sid}.{i}", "scroll_id": i},
                "material": {"composition": "NaCl", "elements": ["Cl", "Na"]},
                "custom": {"i": i, "x": i / 7, "big": BIG * i, "flag": i % 2 == 0, "none": None},
            }
            for i in order
        ]
        return doc, records

    return stamp


def publish(
    catalog: Database,
    name: str,
    n_records: int = 5,
    *,
    owner: str = "alice",
    visible_to: tuple[str, ...] = ("public",),
    status: str = PUBLISHED,
    **kw: Any,
) -> str:
    return catalog.publish(
        source_name=name,
        owner=owner,
        status=status,
        visible_to=list(visible_to),
        files=files_of(3),
        stamp=stamp_of(name, n_records, status=status, **kw),
        submission_id=None,
    )


def test_versions_documents_and_order(catalog: Database) -> None:
    assert publish(catalog, "salt", 40, seed=1) == "salt_v1"
    assert publish(catalog, "salt", 3) == "salt_v2"
    assert catalog.next_version("salt") == 3 and catalog.next_version("other") == 1
    assert [r.source_id for r in catalog.versions("salt")] == ["salt_v1", "salt_v2"]
    assert catalog.dataset(ALICE, "salt").source_id == "salt_v2"
    v1 = catalog.dataset(ALICE, "salt_v1")
    assert (v1.total_size, v1.n_files, v1.n_records, v1.title) == (BIG, 3, 40, "The salt dataset")
    # records come back in scroll order, whatever order they went in
    records = catalog.records(ALICE, "salt_v1")
    assert [r["mdf"]["scroll_id"] for r in records] == list(range(1, 41))
    assert records[9]["custom"] == {"i": 10, "x": 10 / 7, "big": BIG * 10, "flag": True, "none": None}
    assert [r["mdf"]["scroll_id"] for r in catalog.records(ALICE, "salt_v1", offset=5, limit=3)] == [6, 7, 8]
    assert [r["mdf"]["scroll_id"] for r in catalog.iter_records("salt_v1", batch=7)] == list(range(1, 41))
    assert catalog.record(BOB, "salt_v1.17")["custom"]["i"] == 17
    files = catalog.files(ALICE, "salt_v2")
    assert [f.path for f in files] == ["d/000.cif", "d/001.cif", "d/002.cif"]
    assert files[2].length == BIG + 2
    assert catalog.file(ALICE, "salt_v2", "d/001.cif").sha256 == f"{1:064x}"
    assert catalog.counts() == {"datasets": 2, "records": 43, "files": 6}
    assert catalog.source_names() == ["salt"]
    # times are aware and in UTC, on every backend
    created = v1.created_at
    assert created.tzinfo is not None and created.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=5)


def test_listing_latest_versions(catalog: Database) -> None:
    for name in ["zeta", "alpha", "mid"]:
        publish(catalog, name, 1)
    publish(catalog, "alpha", 1)
    publish(catalog, "alpha", 1, status=PENDING_CURATION)
    latest = [r.source_id for r in catalog.datasets(ALICE)]
    assert latest == ["alpha_v2", "mid_v1", "zeta_v1"], "sorted by name; published wins over pending"
    assert [r.source_id for r in catalog.datasets(ALICE, all_versions=True, source_name="alpha")] == [
        "alpha_v1",
        "alpha_v2",
        "alpha_v3",
    ]
    assert catalog.dataset(ALICE, "alpha").source_id == "alpha_v2"
    assert [r.source_id for r in catalog.pending_curation()] == ["alpha_v3"]
    # a name that is also another dataset's source_id: the exact version wins
    publish(catalog, "alpha_v1", 1)
    assert catalog.dataset(ALICE, "alpha_v1").source_name == "alpha"
    assert catalog.dataset(ALICE, "alpha_v1_v1").source_name == "alpha_v1"


def test_access_rules_in_sql(catalog: Database) -> None:
    publish(catalog, "open", 2)
    publish(catalog, "lab", 2, visible_to=("group:lab", "user:bob"))
    publish(catalog, "mine", 2, visible_to=("user:alice",))
    publish(catalog, "waiting", 2, owner="bob", status=PENDING_CURATION)

    def names(p: Principal) -> list[str]:
        return [r.source_name for r in catalog.datasets(p)]

    assert names(ANONYMOUS) == ["open"]
    assert names(BOB) == ["lab", "open", "waiting"]
    assert names(LABMATE) == ["lab", "open"]
    assert names(ALICE) == ["lab", "mine", "open"]  # the owner of the first three
    assert names(CURATOR) == ["open", "waiting"]
    assert names(ADMIN) == ["lab", "mine", "open", "waiting"]
    for who, sid in [(ANONYMOUS, "lab_v1"), (LABMATE, "mine_v1"), (LABMATE, "waiting_v1")]:
        with pytest.raises(NotFoundError):
            catalog.dataset(who, sid)
        with pytest.raises(NotFoundError):
            catalog.record(who, f"{sid}.1")
        with pytest.raises(NotFoundError):
            catalog.files(who, sid)
        with pytest.raises(NotFoundError):
            catalog.records(who, sid)
    assert catalog.record(LABMATE, "lab_v1.2")["mdf"]["scroll_id"] == 2
    assert len(catalog.records(LABMATE, "lab_v1")) == 2 and len(catalog.files(LABMATE, "lab_v1")) == 3
    assert catalog.records(LABMATE, "lab_v1", offset=10) == [], "past the end is empty, not an error"
    with pytest.raises(NotFoundError):
        catalog.records(LABMATE, "nothing_v1")


def test_curation_and_removal(catalog: Database) -> None:
    sid = publish(catalog, "cur", 4, status=PENDING_CURATION)
    assert catalog.datasets(ANONYMOUS) == []
    catalog.set_status(sid, PUBLISHED)
    row = catalog.dataset(ANONYMOUS, "cur")
    assert row.status == PUBLISHED and row.document["mdf"]["status"] == PUBLISHED
    catalog.delete_version(sid)
    assert catalog.counts() == {"datasets": 0, "records": 0, "files": 0}
    with pytest.raises(NotFoundError):
        catalog.set_status(sid, PUBLISHED)


def test_submissions(catalog: Database) -> None:
    t0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    for i, owner in enumerate(["alice", "bob", "alice"]):
        catalog.add_submission(
            SubmissionRow(
                id=f"sub{2 - i}",  # ids in the opposite order of creation
                owner=owner,
                source="/data",
                source_name="x",
                status="running",
                steps=[{"name": "collect", "status": "running"}],
                errors=[],
                options={"curate": False, "visible_to": ["public"]},
                pid=4_194_304,
                created_at=t0 + dt.timedelta(seconds=i),
            )
        )
    catalog.update_submission("sub1", status="failed", errors=[{"path": "a", "message": "bad"}])
    assert [s.id for s in catalog.submissions(ADMIN)] == ["sub2", "sub1", "sub0"]
    assert [s.id for s in catalog.submissions(ALICE)] == ["sub2", "sub0"]
    assert [s.id for s in catalog.submissions(ADMIN, status="failed")] == ["sub1"]
    assert [s.id for s in catalog.running_submissions()] == ["sub2", "sub0"]
    row = catalog.submission("sub1", BOB)
    assert row.errors == [{"path": "a", "message": "bad"}] and row.pid == 4_194_304
    assert row.updated_at > row.created_at
    # a time given in another zone comes back as the same instant, in UTC
    first = catalog.submission("sub2", ADMIN).created_at
    assert first == t0 and first.utcoffset() == dt.timedelta(0) and first.hour == 19
    with pytest.raises(NotFoundError):
        catalog.submission("sub1", ALICE)


def test_documents_are_strict_json_on_every_backend(catalog: Database) -> None:
    """PostgreSQL's jsonb holds neither NaN nor NUL: both backends store them the same way."""

    def stamp(v: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        doc, records = stamp_of("odd", 1)(v)
        records[0]["custom"] = {
            "nan": float("nan"),
            "inf": [float("inf"), 1.5],
            "text": "nul\x00here",
            "unicode": "Å ✓ 🧪",
            "deep": {"a\x00b": "c"},
        }
        return doc, records

    catalog.publish(
        source_name="odd",
        owner="alice",
        status=PUBLISHED,
        visible_to=["public"],
        files=[],
        stamp=stamp,
        submission_id=None,
    )
    assert catalog.record(ALICE, "odd_v1.1")["custom"] == {
        "nan": None,
        "inf": [None, 1.5],
        "text": "nulhere",
        "unicode": "Å ✓ 🧪",
        "deep": {"ab": "c"},
    }


def test_a_big_ingest_in_one_transaction(catalog: Database) -> None:
    n = 8_000
    sid = publish(catalog, "big", n, seed=3)
    assert catalog.counts()["records"] == n
    scrolls = [r["mdf"]["scroll_id"] for r in catalog.iter_records(sid, batch=4096)]
    assert scrolls == list(range(1, n + 1))


def test_concurrent_publishers_get_distinct_versions(catalog_url: str) -> None:
    """Threads (each with its own Database, as separate processes would) publish the same name."""
    n = 8
    barrier = threading.Barrier(n)
    catalogs = [Database(catalog_url) for _ in range(n)]
    calls: list[int] = []

    def work(c: Database) -> str:
        barrier.wait()
        return publish(c, "race", 30, calls=calls)

    try:
        with ThreadPoolExecutor(n) as pool:
            sids = list(pool.map(work, catalogs))
        assert sorted(sids) == [f"race_v{v}" for v in range(1, n + 1)]
        c = catalogs[0]
        assert [r.version for r in c.versions("race")] == list(range(1, n + 1))
        assert c.counts() == {"datasets": n, "records": 30 * n, "files": 3 * n}
        assert len(calls) >= n  # retried publishers stamped again
    finally:
        for c in catalogs:
            c.close()


def test_an_integrity_error_is_not_mistaken_for_a_race(catalog: Database) -> None:
    calls: list[int] = []
    twice = files_of(2) + files_of(1)  # the same path twice
    with pytest.raises(ConflictError, match="could not publish 'dup_v1'"):
        catalog.publish(
            source_name="dup",
            owner="alice",
            status=PUBLISHED,
            visible_to=["public"],
            files=twice,
            stamp=stamp_of("dup", 2, calls=calls),
            submission_id=None,
        )
    assert calls == [1], "not retried"
    assert catalog.counts() == {"datasets": 0, "records": 0, "files": 0}, "rolled back"


def test_many_threads_over_one_catalog(catalog: Database) -> None:
    """The hub service's pattern: one Database, many threads reading and writing at once."""
    publish(catalog, "shared", 50)
    for i in range(16):
        catalog.add_submission(
            SubmissionRow(
                id=f"t{i}",
                owner="alice",
                source="/x",
                source_name="shared",
                status="running",
                steps=[],
                errors=[],
                options={},
            )
        )

    def work(i: int) -> int:
        done = 0
        for j in range(15):
            catalog.update_submission(f"t{i}", message=f"step {j}", steps=[{"n": j}])
            assert len(catalog.records(BOB, "shared_v1", offset=j, limit=5)) == 5
            assert catalog.dataset(ANONYMOUS, "shared").n_records == 50
            done += 1
        return done

    with ThreadPoolExecutor(16) as pool:
        assert sum(pool.map(work, range(16))) == 16 * 15
    assert {s.message for s in catalog.submissions(ADMIN)} == {"step 14"}
    assert catalog.engine.pool.checkedout() == 0


@pytest.mark.parametrize("n", [10, 600], ids=["executemany", "copy"])
def test_both_bulk_paths_store_the_same_and_refuse_duplicates(catalog: Database, n: int) -> None:
    """Many rows go by COPY on PostgreSQL, few by executemany: same documents, same errors."""
    from hub.db.bulk import COPY_THRESHOLD

    assert (n >= COPY_THRESHOLD) == (n == 600)

    def stamp(v: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        doc, records = stamp_of("bulk", n)(v)
        records[0]["custom"] = {
            "nan": float("nan"),
            "text": "tab\there\nnewline \\ back\x00slash",
            "q": "'\"",
        }
        return doc, records

    catalog.publish(
        source_name="bulk",
        owner="alice",
        status=PUBLISHED,
        visible_to=["public"],
        files=[],
        stamp=stamp,
        submission_id=None,
    )
    records = catalog.records(ALICE, "bulk_v1")
    assert len(records) == n
    first = stamp(1)[1][0]
    stored = next(r for r in records if r["mdf"]["record_id"] == first["mdf"]["record_id"])
    assert stored["custom"] == {"nan": None, "text": "tab\there\nnewline \\ backslash", "q": "'\""}

    def duplicated(v: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        doc, records = stamp_of("bulk", n)(v)
        records[-1]["mdf"] = {**records[-1]["mdf"], "record_id": records[0]["mdf"]["record_id"]}
        return doc, records

    with pytest.raises(ConflictError, match="could not publish 'bulk_v2'"):
        catalog.publish(
            source_name="bulk",
            owner="alice",
            status=PUBLISHED,
            visible_to=["public"],
            files=[],
            stamp=duplicated,
            submission_id=None,
        )
    assert catalog.counts()["records"] == n and catalog.next_version("bulk") == 2


def test_connections_the_server_dropped_are_replaced(
    postgres_url: str, postgres_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled PostgreSQL connection idle for a while is checked before use; if the
    server dropped it (a restart, an idle timeout), the pool opens a new one."""
    import sqlalchemy as sa

    from hub.db import engine as engine_mod

    catalog = Database(postgres_url)
    try:
        publish(catalog, "kept", 2)
        assert catalog.counts()["datasets"] == 1
        with postgres_server.connect() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (sa.make_url(postgres_url).database,),
            )
        monkeypatch.setattr(engine_mod, "IDLE_PING_S", 0.0)  # every pooled connection counts as idle
        assert catalog.counts()["datasets"] == 1
        assert catalog.dataset(ANONYMOUS, "kept").n_records == 2
        assert publish(catalog, "kept", 1) == "kept_v2"
    finally:
        catalog.close()
