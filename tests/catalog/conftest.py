"""Fixtures of the catalog tests: a private cache, no network, a byte-counting filesystem,
a loopback HTTP server, and generated array files."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from catalog_testdata import CHUNKS, synthetic_dataset

from hub.catalog.counting import CountingFileSystem, register


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own download cache, no mirror and no network (unless it asks)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("MATTERHUB_CACHE", str(cache))
    monkeypatch.setenv("MATTERHUB_OFFLINE", "1")
    monkeypatch.delenv("MATTERHUB_MIRROR", raising=False)
    return cache


@pytest.fixture()
def mirror(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$MATTERHUB_MIRROR`` pointing at ../shared/data (skips when it is absent)."""
    monkeypatch.setenv("MATTERHUB_MIRROR", str(shared_data))
    return shared_data


# -- counting bytes through fsspec -------------------------------------------------------


@pytest.fixture()
def counting() -> Iterator[type[CountingFileSystem]]:
    yield register()


@pytest.fixture(scope="session")
def big_netcdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("arrays") / "field.nc"
    enc = {v: {"chunksizes": CHUNKS} for v in ("temperature", "density")}
    synthetic_dataset().to_netcdf(path, engine="h5netcdf", encoding=enc)
    return path


@pytest.fixture(scope="session")
def big_zarr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("arrays") / "field.zarr"
    enc = {v: {"chunks": CHUNKS, "compressors": None} for v in ("temperature", "density")}
    synthetic_dataset().to_zarr(path, zarr_format=2, consolidated=True, encoding=enc)
    return path


# -- a loopback HTTP server ---------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        _Handler.hits.append(self.path)
        super().do_GET()


@pytest.fixture()
def http_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path, list[str]]]:
    """A folder served on 127.0.0.1 (the only network these tests use): (base URL, folder, request log)."""
    root = tmp_path / "www"
    root.mkdir()
    _Handler.hits = []
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.delenv("MATTERHUB_OFFLINE", raising=False)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root, _Handler.hits
    finally:
        server.shutdown()
        server.server_close()
