"""How environments lie on disk, and waiting for one to be ready (what the worker pool needs).

Under the environments folder (``<hub>/environments`` by default)::

    <key>/                 a built environment (renamed into place once complete)
    <key>/environment.json its record: what it adds, the Python, the hub folders it extends, size
    <key>.lock             held (``flock``) by the process building it
    <key>.failed           why its build failed (runs of its versions fail with it)
    <key>.used             touched when a worker starts in it (its time is the last use)
    .build-<key>-<random>/ a build under way (or left unfinished by a killed builder)

This module imports only the standard library and the hub's exceptions, so the pool imports it cheaply.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.exceptions import EnvironmentBuildError
from hub.servables.containment import hub_package_root

RECORD = "environment.json"
BUILDING_PREFIX = ".build-"
#: Seconds between two looks at an environment still being built.
POLL_S = 0.05


@dataclass(frozen=True)
class BuiltEnvironment:
    """A built environment, as a worker pool starts workers in it.

    Parameters
    ----------
    key
        Its key (its folder's name).
    folder
        Its folder.
    python
        Its interpreter.
    base
        The hub's site-packages folders it extends (a contained worker must read them).
    """

    key: str
    folder: str
    python: str
    base: tuple[str, ...]


def lock_path(folder: Path) -> Path:
    """The lock file of the environment at ``folder``."""
    return folder.with_name(folder.name + ".lock")


def failure_path(folder: Path) -> Path:
    """The file saying why the environment at ``folder`` failed to build."""
    return folder.with_name(folder.name + ".failed")


def used_path(folder: Path) -> Path:
    """The file whose time is the last use of the environment at ``folder``."""
    return folder.with_name(folder.name + ".used")


def read_record(folder: Path) -> dict[str, Any] | None:
    """The record of the built environment at ``folder``, or None when it is not built."""
    try:
        record: dict[str, Any] = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return record


def read_failure(folder: Path) -> str | None:
    """Why the environment at ``folder`` failed to build, or None."""
    try:
        return str(json.loads(failure_path(folder).read_text())["error"])
    except (OSError, ValueError, KeyError):
        return None


@contextlib.contextmanager
def locked(folder: Path, *, wait: bool) -> Iterator[bool]:
    """Hold the build lock of the environment at ``folder``; yields whether it was taken.

    ``wait``: block until the holder lets go (else yield False at once when held).
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(folder), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_building(folder: Path) -> bool:
    """Whether some process holds the build lock of the environment at ``folder`` now."""
    if not lock_path(folder).exists():
        return False
    with locked(folder, wait=False) as taken:
        return not taken


def built(folder: Path) -> BuiltEnvironment | None:
    """The environment at ``folder`` if it is built."""
    record = read_record(folder)
    if record is None:
        return None
    return BuiltEnvironment(
        key=folder.name, folder=str(folder), python=str(folder / "bin" / "python"), base=tuple(record["base"])
    )


def mark_used(environment: BuiltEnvironment) -> None:
    """Note that a worker starts in ``environment`` now (what ``matterhub env list`` shows as its last use)."""
    with contextlib.suppress(OSError):
        used_path(Path(environment.folder)).touch()


def wait_ready(folder: str | os.PathLike[str], timeout: float) -> BuiltEnvironment:
    """The environment at ``folder`` once built, waiting at most ``timeout`` seconds for its build.

    Raises
    ------
    EnvironmentBuildError
        When its build failed (with why), or it is neither built nor being built.
    TimeoutError
        When it is still being built after ``timeout`` seconds.
    """
    path = Path(folder)
    deadline = time.monotonic() + timeout
    while True:
        ready = built(path)
        if ready is not None:
            return ready
        failure = read_failure(path)
        if failure is not None:
            raise EnvironmentBuildError(f"the servable's environment {path.name} failed to build: {failure}")
        if not is_building(path) and built(path) is None:
            raise EnvironmentBuildError(
                f"the servable's environment {path.name} is not built and no build of it is running "
                "(it is built when its version is published or first resolved)"
            )
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"the servable's environment {path.name} was still being built after {timeout:g} s"
            )
        time.sleep(POLL_S)


def python_path(base: tuple[str, ...], current: str | None = None) -> str:
    """``PYTHONPATH`` for a worker in an environment extending ``base``: the hub's package, then ``current``.

    ``current`` defaults to this process's ``PYTHONPATH``.  The hub's site-packages
    folders are left out: on ``PYTHONPATH`` they would come before the environment's own.
    """
    root = hub_package_root()
    given = os.environ.get("PYTHONPATH", "") if current is None else current
    entries = [root, *(p for p in given.split(os.pathsep) if p)]
    shadows = {os.path.realpath(b) for b in base}
    return os.pathsep.join(dict.fromkeys(p for p in entries if os.path.realpath(p) not in shadows))


def folder_size(folder: Path) -> int:
    """Bytes of the files below ``folder`` (links not followed)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total
