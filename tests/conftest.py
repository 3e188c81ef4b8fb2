"""Shared fixtures.  Tests that need the real files in ../shared/data take the
``shared_data`` fixture and skip cleanly when the folder is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MATTERHUB_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data mirror (../shared/data); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture()
def hub_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty hub directory used as $MATTERHUB_HOME."""
    home = tmp_path / "hubhome"
    monkeypatch.setenv("MATTERHUB_HOME", str(home))
    return home


# -- the catalog on SQLite and on PostgreSQL ------------------------------------------
#
# ``catalog_url`` runs a test once per backend (ids ``sqlite`` and ``postgresql``,
# so ``pytest -k postgresql`` picks the PostgreSQL runs).  PostgreSQL is a real
# server, started once per session by ``postgres_server`` (tests/postgres_server.py)
# and stopped at its end; each test gets a new database copied from a template at
# the head revision, dropped afterwards.  Without the server binaries the
# PostgreSQL runs skip, saying why.
#
# ``MATTERHUB_TEST_CATALOG=postgresql pytest tests/...`` runs whole folders with
# every new hub's catalog in its own PostgreSQL database (the default is sqlite).

from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

from postgres_server import PostgresServer, PostgresUnavailable  # noqa: E402

CATALOG_BACKENDS = ["sqlite", "postgresql"]
ENV_TEST_CATALOG = "MATTERHUB_TEST_CATALOG"
TEMPLATE_DB = "matterhub_template"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the session's own (loopback port and a unix socket)."""
    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """A database migrated to the head revision, copied by each test's CREATE DATABASE."""
    from hub.db.engine import open_engine

    name = postgres_server.create_database(TEMPLATE_DB)
    open_engine(postgres_server.url(name)).dispose()  # no connection may stay on a template
    return name


@pytest.fixture()
def postgres_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """A new PostgreSQL catalog database for one test, dropped afterwards."""
    name = postgres_server.create_database(template=postgres_template)
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture(params=CATALOG_BACKENDS)
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty catalog URL: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        folder = tmp_path / "catalog-db"
        folder.mkdir(exist_ok=True)
        return f"sqlite:///{folder / 'catalog.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture()
def catalog_backend(catalog_url: str) -> str:
    """``sqlite`` or ``postgresql``: the backend of this run of the test."""
    return "sqlite" if catalog_url.startswith("sqlite") else "postgresql"


@pytest.fixture()
def make_hub(
    catalog_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """``make_hub(path=None, **kw)``: ``Hub(path, catalog=..., progress=False, **kw)`` on this
    run's backend.  One catalog per hub folder: the first folder gets ``catalog_url``,
    other folders new catalogs of the same backend.  Every hub is closed afterwards."""
    from hub import Hub

    catalogs: dict[Path, str] = {}
    made: list[Any] = []

    def make(path: str | os.PathLike[str] | None = None, **kw: Any) -> Any:
        home = Path(path or tmp_path / "hub").absolute()
        if home not in catalogs:
            if not catalogs:
                catalogs[home] = catalog_url
            elif catalog_url.startswith("sqlite"):
                catalogs[home] = f"sqlite:///{home / 'catalog.sqlite'}"
            else:
                server: PostgresServer = request.getfixturevalue("postgres_server")
                template: str = request.getfixturevalue("postgres_template")
                name = server.create_database(template=template)
                request.addfinalizer(lambda: server.drop_database(name))
                catalogs[home] = server.url(name)
        kw.setdefault("progress", False)
        hub = Hub(home, catalog=catalogs[home], **kw)
        made.append(hub)
        return hub

    yield make
    for hub in reversed(made):
        hub.close()


@pytest.fixture(scope="session", autouse=True)
def _catalog_backend_from_environment(request: pytest.FixtureRequest) -> Iterator[None]:
    """With MATTERHUB_TEST_CATALOG=postgresql, every new hub folder's catalog is a new
    PostgreSQL database (hub.config's default catalog URL is swapped for the session)."""
    backend = os.environ.get(ENV_TEST_CATALOG, "sqlite").strip().lower() or "sqlite"
    if backend == "sqlite":
        yield
        return
    if backend != "postgresql":
        raise pytest.UsageError(f"{ENV_TEST_CATALOG}={backend!r}: use 'sqlite' (default) or 'postgresql'")
    import hub.config

    server: PostgresServer = request.getfixturevalue("postgres_server")
    template: str = request.getfixturevalue("postgres_template")

    def postgres_catalog_url(home: Path) -> str:
        return server.url(server.create_database(template=template))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hub.config, "catalog_url", postgres_catalog_url)
        yield
