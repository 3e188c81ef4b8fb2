"""A byte-counting local filesystem (``counting://``), for measuring laziness.

The tests and ``benchmarks/bench_catalog.py`` open files through it and read
:attr:`CountingFileSystem.bytes_read` to see how many bytes a reader pulled.
"""

from __future__ import annotations

from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileOpener, LocalFileSystem


class _CountingFile(LocalFileOpener):  # type: ignore[misc]
    def read(self, length: int = -1) -> bytes:
        data: bytes = super().read(length)
        CountingFileSystem.bytes_read += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        n = self.f.readinto(buffer)
        CountingFileSystem.bytes_read += n or 0
        return int(n or 0)


class CountingFileSystem(LocalFileSystem):  # type: ignore[misc]
    """The local filesystem under the protocol ``counting://``, counting every byte read."""

    protocol = ("counting",)
    bytes_read = 0

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, **kwargs: Any) -> Any:
        path = self._strip_protocol(path)
        if "r" in mode:
            return _CountingFile(path, mode, fs=self, **kwargs)
        return super()._open(path, mode, block_size, **kwargs)

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        """The bytes of ``path`` from ``start`` to ``end``, added to :attr:`bytes_read`."""
        data: bytes = super().cat_file(path, start, end, **kwargs)
        CountingFileSystem.bytes_read += len(data)
        return data


def register() -> type[CountingFileSystem]:
    """Register ``counting://`` with fsspec and reset the count."""
    fsspec.register_implementation("counting", CountingFileSystem, clobber=True)
    CountingFileSystem.bytes_read = 0
    return CountingFileSystem
