"""Fixtures of the catalog tests: a private cache, no network, a byte-counting filesystem,
a loopback HTTP server, and generated array files."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from catalog_testdata import CHUNKS, synthetic_dataset
from fsspec.implementations.local import LocalFileOpener, LocalFileSystem


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


class _CountingFile(LocalFileOpener):
    def read(self, length: int = -1) -> bytes:
        data = super().read(length)
        CountingFileSystem.bytes_read += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        if self.f is None:
            self._open()
        n = self.f.readinto(buffer)
        CountingFileSystem.bytes_read += n or 0
        return n


class CountingFileSystem(LocalFileSystem):
    """The local filesystem under the protocol ``counting://``, counting every byte read."""

    protocol = ("counting",)
    bytes_read = 0

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, **kwargs: Any) -> Any:
        path = self._strip_protocol(path)
        if "r" in mode:
            return _CountingFile(path, mode, fs=self, **kwargs)
        return super()._open(path, mode, block_size, **kwargs)

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        data = super().cat_file(path, start, end, **kwargs)
        CountingFileSystem.bytes_read += len(data)
        return data


@pytest.fixture()
def counting() -> Iterator[type[CountingFileSystem]]:
    fsspec.register_implementation("counting", CountingFileSystem, clobber=True)
    CountingFileSystem.bytes_read = 0
    yield CountingFileSystem


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
