"""Schema migrations (hub/db/migrate.py): new catalogs, catalogs made before
migrations, concurrent openers, unknown revisions; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from hub.db import migrate
from hub.db.engine import make_engine, open_engine
from hub.db.models import Base
from hub.exceptions import ConfigurationError

#: The tables of the first release (before servables, users and tokens).
FIRST_RELEASE = ["datasets", "dataset_acl", "files", "records", "submissions"]


@pytest.fixture()
def blank_url(catalog_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A catalog URL with nothing in it (``catalog_url``'s PostgreSQL databases are
    copies of a template already at the head revision)."""
    if catalog_url.startswith("sqlite"):
        yield catalog_url
        return
    server = request.getfixturevalue("postgres_server")
    name = server.create_database()
    yield server.url(name)
    server.drop_database(name)


def tables_of(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def indexes_of(engine: sa.Engine) -> set[tuple[str, str]]:
    insp = sa.inspect(engine)
    return {(t, i["name"]) for t in insp.get_table_names() for i in insp.get_indexes(t)}


def test_a_new_catalog_is_made_at_head_and_equals_the_models(blank_url: str) -> None:
    engine = open_engine(blank_url)
    try:
        assert migrate.current(engine) == migrate.head()
        assert tables_of(engine) == set(Base.metadata.tables) | {"alembic_version"}
        assert migrate.differences(engine) == []
        # every index the models declare, by name
        declared = {(t.name, i.name) for t in Base.metadata.sorted_tables for i in t.indexes}
        assert declared <= indexes_of(engine)
        # and Alembic's own check agrees (no alembic.ini involved)
        with engine.connect() as conn:
            command.check(migrate.config(connection=conn))
    finally:
        engine.dispose()


def test_the_check_sees_a_schema_that_differs(catalog_url: str) -> None:
    """The comparison can fail: a dropped index and a missing table are reported."""
    engine = open_engine(catalog_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX ix_files_sha256"))
            conn.execute(sa.text("DROP TABLE servable_cache"))
        found = {(d[0], d[1].name) for d in migrate.differences(engine)}
        assert found == {
            ("add_index", "ix_files_sha256"),
            ("add_table", "servable_cache"),
            ("add_index", "ix_servable_cache_servable_id"),
        }
    finally:
        engine.dispose()


def test_reopening_changes_nothing(catalog_url: str) -> None:
    engine = open_engine(catalog_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (id, name, groups, created_at, registered) VALUES ('a1', 'ann', '[]', :t, true)"
            ),
            {"t": "2024-01-01 00:00:00"},
        )
    engine.dispose()
    statements: list[str] = []
    again = make_engine(catalog_url)
    sa.event.listen(again, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert migrate.upgrade(again) == migrate.head()
    assert not [s for s in statements if s.lstrip().upper().startswith(("CREATE", "ALTER", "DROP"))]
    with again.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM users")).scalars().all() == ["ann"]
    again.dispose()


def test_a_catalog_made_by_create_all_is_stamped_and_kept(blank_url: str) -> None:
    legacy = make_engine(blank_url)
    Base.metadata.create_all(legacy)
    with legacy.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (id, name, groups, created_at, registered) "
                "VALUES ('b1', 'bo', '[\"lab\"]', :t, true)"
            ),
            {"t": "2024-01-01 00:00:00"},
        )
    assert migrate.current(legacy) is None
    legacy.dispose()

    engine = open_engine(blank_url)
    try:
        assert migrate.current(engine) == migrate.head()
        assert migrate.differences(engine) == []
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT name FROM users")).scalars().all() == ["bo"]
    finally:
        engine.dispose()


def test_a_catalog_of_the_first_release_gets_the_tables_it_lacks(blank_url: str) -> None:
    legacy = make_engine(blank_url)
    Base.metadata.create_all(legacy, tables=[Base.metadata.tables[t] for t in FIRST_RELEASE])
    with legacy.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO submissions (id, owner, source, source_name, status, steps, errors, options, "
                "created_at, updated_at) VALUES ('s1', 'ann', '/x', 'x', 'complete', '[]', '[]', '{}', :t, :t)"
            ),
            {"t": "2024-01-01 00:00:00"},
        )
    legacy.dispose()

    engine = open_engine(blank_url)
    try:
        assert tables_of(engine) == set(Base.metadata.tables) | {"alembic_version"}
        assert migrate.current(engine) == migrate.head()
        assert migrate.differences(engine) == []
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id FROM submissions")).scalars().all() == ["s1"]
    finally:
        engine.dispose()


def test_a_catalog_from_a_newer_release_is_refused(catalog_url: str) -> None:
    engine = open_engine(catalog_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(ConfigurationError, match=r"revision '9999'.*newer MatterHub"):
        open_engine(catalog_url)


def test_downgrade_to_base_and_up_again(catalog_url: str) -> None:
    engine = open_engine(catalog_url)
    try:
        assert migrate.downgrade(engine, "base") is None
        assert tables_of(engine) <= {"alembic_version"}
        assert migrate.upgrade(engine) == migrate.head()
        assert migrate.differences(engine) == []
    finally:
        engine.dispose()


def test_dataset_acl_entries_become_see_entries(catalog_url: str) -> None:
    """0003 gives datasets' ACL the servables' shape; every existing entry is a ``see`` entry
    and still lets its principal see the version."""
    from hub.access import Principal
    from hub.db.database import Database

    engine = open_engine(catalog_url)
    try:
        migrate.downgrade(engine, "0002")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO datasets (source_id, source_name, version, status, owner, title, document, "
                    "root_hash, total_size, n_files, n_records, created_at) VALUES ('lab_v1', 'lab', 1, "
                    "'published', 'ann', 'Lab', :doc, :h, 0, 0, 0, :t)"
                ),
                {"doc": '{"mdf": {"source_id": "lab_v1"}}', "h": "0" * 64, "t": "2024-01-01 00:00:00"},
            )
            conn.execute(
                sa.text("INSERT INTO dataset_acl (source_id, principal) VALUES ('lab_v1', 'group:lab')")
            )
        assert migrate.upgrade(engine) == migrate.head()
        assert migrate.differences(engine) == []
        with engine.connect() as conn:
            rows = conn.execute(sa.text('SELECT source_id, "right", principal FROM dataset_acl')).all()
        assert [tuple(r) for r in rows] == [("lab_v1", "see", "group:lab")]
        pk = sa.inspect(engine).get_pk_constraint("dataset_acl")["constrained_columns"]
        assert pk == ["source_id", "right", "principal"]
        assert ("dataset_acl", "ix_dataset_acl_principal") in indexes_of(engine)
        assert migrate.downgrade(engine, "0002") == "0002"
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT principal FROM dataset_acl")).scalars().all() == ["group:lab"]
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    catalog = Database(catalog_url)
    try:
        assert [r.source_id for r in catalog.datasets(Principal("dan", frozenset({"lab"})))] == ["lab_v1"]
        assert catalog.datasets(Principal("eve")) == []
    finally:
        catalog.close()


def test_users_get_ids_that_ownership_acls_and_tokens_name(catalog_url: str) -> None:
    """0004: every user and every name the catalog used for a user gets an id; owners, ACL
    entries and tokens are rewritten to it; each dataset name and servable belongs to its
    first version's owner (a name only submissions used, to its first submitter)."""
    from hub.access import Principal
    from hub.access.identities import Identities
    from hub.access.users import Users, hash_token
    from hub.db.database import Database

    t = "2024-01-01 00:00:00"
    doc = '{"mdf": {}}'
    engine = open_engine(catalog_url)
    try:
        migrate.downgrade(engine, "0003")
        with engine.begin() as conn:
            run = lambda sql, **kw: conn.execute(sa.text(sql), {"t": t, **kw})  # noqa: E731
            run(
                "INSERT INTO users (name, groups, created_at) VALUES ('ann', '[\"lab\"]', :t), ('bo', '[]', :t)"
            )
            run(
                "INSERT INTO tokens (id, \"user\", label, token_sha256, created_at) VALUES ('k', 'ann', '', :h, :t)",
                h=hash_token("mh_ann"),
            )
            for sid, name, version, owner in [
                ("z_v1", "z", 1, "ann"),
                ("z_v2", "z", 2, "bo"),
                ("e_v1", "e", 1, "emb"),
            ]:
                run(
                    "INSERT INTO datasets (source_id, source_name, version, status, owner, title, document, "
                    "root_hash, total_size, n_files, n_records, created_at) VALUES (:s, :n, :v, 'published', "
                    ":o, 'T', :d, :h, 0, 0, 0, :t)",
                    s=sid, n=name, v=version, o=owner, d=doc, h="0" * 64,
                )  # fmt: skip
            run(
                'INSERT INTO dataset_acl (source_id, "right", principal) VALUES '
                "('z_v1', 'see', 'user:cy'), ('z_v1', 'see', 'group:lab'), ('e_v1', 'see', 'user:bo')"
            )
            run(
                "INSERT INTO submissions (id, owner, source, source_name, status, steps, errors, options, "
                "created_at, updated_at) VALUES ('s1', 'bo', '/x', 'q', 'failed', '[]', '[]', '{}', :t, :t)"
            )
            run(
                "INSERT INTO servables (id, version, name, owner, type, status, title, artifact_size, document, "
                "created_at, updated_at) VALUES ('ann/m', 1, 'm', 'ann', 'python', 'published', 'M', 0, :d, :t, :t)",
                d=doc,
            )
            run(
                'INSERT INTO servable_acl (servable_id, version, "right", principal) VALUES '
                "('ann/m', 1, 'run', 'user:cy')"
            )
            run(
                "INSERT INTO servable_tasks (id, servable_id, version, owner, status, batch, n_inputs, stdout, "
                "stderr, timings, cached, created_at, updated_at) VALUES ('t1', 'ann/m', 1, 'anonymous', "
                "'completed', false, 1, '', '', '{}', false, :t, :t)"
            )
        assert migrate.upgrade(engine) == migrate.head()
        assert migrate.differences(engine) == []
        with engine.connect() as conn:
            q = lambda sql: [tuple(r) for r in conn.execute(sa.text(sql))]  # noqa: E731
            ids = dict(q("SELECT name, id FROM users"))
            registered = dict(q("SELECT name, registered FROM users"))
            assert sorted(ids) == ["ann", "bo", "cy", "emb"] and len(set(ids.values())) == 4
            assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids.values())
            assert {n: bool(r) for n, r in registered.items()} == {
                "ann": True,
                "bo": True,
                "cy": False,
                "emb": False,
            }
            assert q('SELECT "user" FROM tokens') == [(ids["ann"],)]
            assert dict(q("SELECT source_id, owner FROM datasets")) == {
                "z_v1": ids["ann"], "z_v2": ids["bo"], "e_v1": ids["emb"]
            }  # fmt: skip
            assert set(q("SELECT source_id, principal FROM dataset_acl")) == {
                ("z_v1", f"user:{ids['cy']}"), ("z_v1", "group:lab"), ("e_v1", f"user:{ids['bo']}")
            }  # fmt: skip
            assert q("SELECT owner FROM submissions") == [(ids["bo"],)]
            assert q("SELECT owner FROM servables") == [(ids["ann"],)]
            assert q("SELECT principal FROM servable_acl") == [(f"user:{ids['cy']}",)]
            assert q("SELECT owner FROM servable_tasks") == [("anonymous",)]
            assert set(q("SELECT kind, name, owner, owner_group FROM name_claims")) == {
                ("dataset", "z", ids["ann"], None),  # the first version's owner, not bo's takeover
                ("dataset", "e", ids["emb"], None),
                ("dataset", "q", ids["bo"], None),  # only submitted
                ("servable", "ann/m", ids["ann"], None),
            }
    finally:
        engine.dispose()
    catalog = Database(catalog_url)
    try:
        ann = Users(catalog).authenticate("mh_ann")
        assert ann == Principal("ann", frozenset({"lab"}), ids["ann"])
        cy = Identities(catalog).resolve(Principal("cy"))
        assert cy.id == ids["cy"], "the name's identity is kept"
        assert [r.source_id for r in catalog.datasets(cy)] == ["z_v1"]
        assert [r.source_id for r in catalog.datasets(ann, all_versions=True)] == ["z_v1"]
    finally:
        catalog.close()
    engine = open_engine(catalog_url)
    try:
        assert migrate.downgrade(engine, "0003") == "0003"
        with engine.connect() as conn:
            q = lambda sql: [tuple(r) for r in conn.execute(sa.text(sql))]  # noqa: E731
            assert sorted(q("SELECT name FROM users")) == [("ann",), ("bo",)]
            assert q('SELECT "user" FROM tokens') == [("ann",)]
            assert dict(q("SELECT source_id, owner FROM datasets")) == {
                "z_v1": "ann",
                "z_v2": "bo",
                "e_v1": "emb",
            }
            assert set(q("SELECT principal FROM dataset_acl")) == {("user:cy",), ("group:lab",), ("user:bo",)}
        migrate.upgrade(engine)
        assert migrate.differences(engine) == []
    finally:
        engine.dispose()


def test_dataset_documents_get_logical_locations(catalog_url: str) -> None:
    """0005 rewrites every version's ``data.location`` and ``data.origin`` (server paths before);
    a downgrade keeps the logical values."""
    upload = "/srv/hub/uploads/0123456789abcdef0123456789abcdef/films.zip"
    docs = {
        "up_v1": {"mdf": {"source_id": "up_v1"}, "data": {"location": "/srv/hub/blobs", "origin": upload}},
        "url_v1": {"data": {"location": "s3://b/blobs", "origin": "https://u:p@example.org/f.zip?sig=1"}},
        "bare_v1": {"data": {"location": "/srv/hub/blobs"}},
        "none_v1": {"mdf": {"source_id": "none_v1"}},
    }
    engine = open_engine(catalog_url)
    try:
        migrate.downgrade(engine, "0003")
        with engine.begin() as conn:
            for sid, doc in docs.items():
                conn.execute(
                    sa.text(
                        "INSERT INTO datasets (source_id, source_name, version, status, owner, title, document, "
                        "root_hash, total_size, n_files, n_records, created_at) VALUES (:sid, :name, 1, "
                        "'published', 'ann', 'T', :doc, :h, 0, 0, 0, :t)"
                    ),
                    {
                        "sid": sid,
                        "name": sid[:-3],
                        "doc": json.dumps(doc),
                        "h": "0" * 64,
                        "t": "2024-01-01 00:00:00",
                    },
                )
        assert migrate.upgrade(engine) == migrate.head()

        def documents() -> dict[str, dict[str, object]]:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT source_id, document FROM datasets")).all()
            return {sid: json.loads(doc) if isinstance(doc, str) else doc for sid, doc in rows}

        after = documents()
        assert after["up_v1"] == {
            "mdf": {"source_id": "up_v1"},
            "data": {"location": "matterhub://up_v1/", "origin": "upload:films.zip"},
        }
        assert after["url_v1"]["data"] == {
            "location": "matterhub://url_v1/",
            "origin": "https://example.org/f.zip",
        }
        assert after["bare_v1"]["data"] == {"location": "matterhub://bare_v1/"}
        assert after["none_v1"] == docs["none_v1"]
        assert migrate.downgrade(engine, "0003") == "0003"
        assert documents() == after
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def test_hubs_opening_a_new_catalog_at_once_do_not_race(blank_url: str) -> None:
    n = 6
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []
    engines: list[sa.Engine] = []

    def opener() -> None:
        engine = make_engine(blank_url)
        engines.append(engine)
        barrier.wait()
        try:
            migrate.upgrade(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert migrate.current(engines[0]) == migrate.head()
        with engines[0].connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert migrate.differences(engines[0]) == []
    finally:
        for e in engines:
            e.dispose()


def test_no_alembic_ini_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = migrate.config()
    assert cfg.config_file_name is None
    location = Path(cfg.get_main_option("script_location") or "")
    assert (location / "env.py").is_file() and (location / "script.py.mako").is_file()
    assert location.parent == Path(migrate.__file__).parent
    engine = open_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    assert migrate.current(engine) == migrate.head()
    engine.dispose()
    assert not list(tmp_path.glob("*.ini"))


def test_offline_sql_for_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    """``upgrade --sql`` writes the DDL a DBA can review: JSONB and time zones on PostgreSQL."""
    command.upgrade(migrate.config("postgresql+psycopg://u@db.example/hub"), "head", sql=True)
    out = capsys.readouterr().out
    assert "CREATE TABLE datasets" in out and "JSONB" in out and "TIMESTAMP WITH TIME ZONE" in out
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in out
    assert f"UPDATE alembic_version SET version_num='{migrate.head()}'" in out or migrate.head() == "0001"


def test_automatic_upgrades_can_be_turned_off(blank_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATTERHUB_DB_AUTO_UPGRADE", "0")
    with pytest.raises(ConfigurationError, match=r"revision \(none\).*matterhub db upgrade"):
        open_engine(blank_url)
    engine = make_engine(blank_url)
    assert migrate.current(engine) is None, "nothing was made"
    migrate.upgrade(engine)  # what `matterhub db upgrade` does
    engine.dispose()
    open_engine(blank_url).dispose()  # at head: opens


def test_a_new_connection_waits_while_another_holds_the_file_it_switches_to_wal(tmp_path: Path) -> None:
    """SQLite refuses ``PRAGMA journal_mode=WAL`` at once (no busy handler) while another
    connection holds the file: hubs opening a new catalog together must wait, not fail."""
    import sqlite3

    path = tmp_path / "catalog.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")  # a new file, still in rollback-journal mode
    holder.execute("BEGIN IMMEDIATE")  # as a migrating hub holds it
    holder.execute("INSERT INTO t VALUES (1)")
    engine = make_engine(f"sqlite:///{path}")
    done: list[str] = []
    errors: list[BaseException] = []

    def connect() -> None:
        try:
            with engine.connect() as conn:
                done.append(str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=connect)
    thread.start()
    thread.join(0.5)  # it cannot finish while the file is held
    assert errors == [] and done == []
    holder.execute("COMMIT")
    holder.close()
    thread.join(60)
    engine.dispose()
    assert errors == [] and done == ["wal"]
