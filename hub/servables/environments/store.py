"""A hub's environments: planned at publish, built once in the background, listed and collected.

An environment is a virtual environment of the hub's Python whose own site-packages
holds only what the version adds (:func:`~hub.servables.environments.plan.plan`), first
on ``sys.path``; a ``.pth`` file then adds the hub environment's site-packages (and runs
their ``.pth`` files), so a worker started with its Python still imports ``hub`` and its
libraries.  The build is checked by the environment's own Python
(:mod:`hub.servables.environments.check`) before it is renamed into place, and it is
never built again: runs reuse it, whichever process or worker asks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from hub.config import saved_settings
from hub.exceptions import EnvironmentBuildError
from hub.servables.environments import layout
from hub.servables.environments.plan import base_site_dirs, plan
from hub.servables.environments.uv import PackageSource, UvFailed, create_venv, install
from hub.servables.metadata import EnvironmentBlock, ServableMetadata

ENV_FOLDER = "MATTERHUB_ENVIRONMENTS"
ENV_WHEELHOUSE = "MATTERHUB_WHEELHOUSE"
ENV_INDEX = "MATTERHUB_PACKAGE_INDEX"
#: The ``.pth`` file that lets an environment's Python import the hub's libraries after its own.
BASE_PTH = "_matterhub_base.pth"
CHECK_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class EnvironmentSettings:
    """Where a hub keeps its environments and where their packages come from.

    Each is ``$MATTERHUB_ENVIRONMENTS``, ``$MATTERHUB_WHEELHOUSE`` and
    ``$MATTERHUB_PACKAGE_INDEX`` when set, else the hub's ``config.json`` keys
    ``environments``, ``wheelhouse`` and ``package_index``, else ``<hub>/environments``,
    no wheelhouse and uv's default index.
    """

    folder: Path
    source: PackageSource = field(default_factory=PackageSource)

    @classmethod
    def for_hub(cls, home: str | os.PathLike[str]) -> EnvironmentSettings:
        """The settings of the hub at ``home``."""
        saved = saved_settings(home)

        def setting(var: str, key: str) -> str | None:
            value = os.environ.get(var) or saved.get(key)
            return str(value) if value else None

        folder = setting(ENV_FOLDER, "environments")
        wheelhouse = setting(ENV_WHEELHOUSE, "wheelhouse")
        return cls(
            folder=Path(folder).expanduser().absolute() if folder else Path(home).absolute() / "environments",
            source=PackageSource(
                wheelhouse=str(Path(wheelhouse).expanduser().absolute()) if wheelhouse else None,
                index=setting(ENV_INDEX, "package_index"),
            ),
        )


@dataclass(frozen=True)
class EnvironmentInfo:
    """One environment as ``matterhub env list`` shows it.

    ``state`` is ``built``, ``building``, ``failed`` or ``unfinished`` (a build a killed
    process left); ``size`` is in bytes; ``last_used`` is when a worker last started in it.
    """

    key: str
    state: str
    folder: str
    size: int = 0
    install: list[str] = field(default_factory=list)
    created: str | None = None
    last_used: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "key": self.key,
            "state": self.state,
            "folder": self.folder,
            "size": self.size,
            "install": self.install,
            "created": self.created,
            "last_used": self.last_used,
            "error": self.error,
        }


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


class Environments:
    """The environments of one hub (see the module's text).

    Parameters
    ----------
    settings
        Their folder and package source.
    """

    def __init__(self, settings: EnvironmentSettings) -> None:
        self.settings = settings
        self.folder = settings.folder
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        #: Environments this object built (tests count them: a key is built once).
        self.builds = 0

    def path(self, key: str) -> Path:
        """The folder of the environment ``key``."""
        return self.folder / key

    # -- publish ------------------------------------------------------------------------

    def prepare(self, requirements: list[str]) -> EnvironmentBlock | None:
        """The environment a version with ``requirements`` needs (None: the hub's), its build started.

        Resolving is done here, so a requirement that cannot be installed is refused now
        (:class:`~hub.exceptions.RequirementsError`); the build runs in a thread of its
        own.  A failed build of the same key is tried again.
        """
        block = plan(requirements, self.settings.source)
        if block is None:
            return None
        failed = layout.failure_path(self.path(block.key))
        failed.unlink(missing_ok=True)
        self.start(block)
        return block

    def for_version(self, metadata: ServableMetadata) -> EnvironmentBlock | None:
        """:meth:`prepare` for a version being published (None for one with nothing to run)."""
        if not metadata.servable.runnable:
            return None
        return self.prepare(metadata.dlhub.requirements)

    # -- runs -------------------------------------------------------------------------

    def ensure(self, block: EnvironmentBlock) -> str:
        """The folder of ``block``'s environment, its build started if it is neither built nor failed.

        The build lock is taken before this returns, so a run that waits on the folder
        (:func:`~hub.servables.environments.layout.wait_ready`) sees it being built.
        """
        folder = self.path(block.key)
        if layout.built(folder) is None and layout.read_failure(folder) is None:
            self.start(block)
        return str(folder)

    def start(self, block: EnvironmentBlock) -> None:
        """Build ``block``'s environment in a background thread, unless it is built or being built."""
        folder = self.path(block.key)
        if layout.built(folder) is not None:
            return
        with self._lock:
            running = self._threads.get(block.key)
            if running is not None and running.is_alive():
                return
            taken = threading.Event()
            thread = threading.Thread(
                target=self._build_locked,
                args=(block, taken),
                name=f"matterhub-env-{block.key[:8]}",
                daemon=True,
            )
            self._threads[block.key] = thread
            thread.start()
        taken.wait()

    def _build_locked(self, block: EnvironmentBlock, taken: threading.Event) -> None:
        folder = self.path(block.key)
        try:
            with layout.locked(folder, wait=False) as mine:
                taken.set()
                if mine:
                    self._build(block)
        except Exception as exc:  # recorded for the runs that wait on it
            self._fail(folder, str(exc))
        finally:
            taken.set()

    def build(self, block: EnvironmentBlock) -> layout.BuiltEnvironment:
        """Build ``block``'s environment now unless it is built; waits while another process builds it.

        Raises
        ------
        EnvironmentBuildError
            When the build fails (the failure is recorded for the runs that wait on it).
        """
        folder = self.path(block.key)
        with layout.locked(folder, wait=True):
            try:
                return self._build(block)
            except Exception as exc:
                self._fail(folder, str(exc))
                raise EnvironmentBuildError(f"the environment {block.key} failed to build: {exc}") from exc

    def _build(self, block: EnvironmentBlock) -> layout.BuiltEnvironment:
        """Build under the lock the caller holds (nothing to do when it is built)."""
        folder = self.path(block.key)
        done = layout.built(folder)
        if done is not None:
            return done
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o755)
        tmp = Path(tempfile.mkdtemp(prefix=f"{layout.BUILDING_PREFIX}{block.key}-", dir=self.folder))
        try:
            target = tmp / "env"
            python = create_venv(target)
            base = base_site_dirs()
            site_dir = _site_packages(target)
            (site_dir / BASE_PTH).write_text(
                "import site; " + "; ".join(f"site.addsitedir({d!r})" for d in base) + "\n"
            )
            install(python, block.install, self.settings.source)
            _check(python, block.install, base)
            record = {
                "key": block.key,
                "install": list(block.install),
                "base": list(base),
                "source": self.settings.source.describe(),
                "created": _stamp(time.time()),
                "size": layout.folder_size(target),
            }
            (target / layout.RECORD).write_text(json.dumps(record, indent=2) + "\n")
            _readable(target)
            os.rename(target, folder)
        except UvFailed as exc:
            raise RuntimeError(f"uv could not install {', '.join(block.install)}: {exc}") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        layout.failure_path(folder).unlink(missing_ok=True)
        with self._lock:
            self.builds += 1
        built = layout.built(folder)
        assert built is not None
        return built

    @staticmethod
    def _fail(folder: Path, error: str) -> None:
        path = layout.failure_path(folder)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"error": error, "at": _stamp(time.time())}) + "\n")

    # -- list and collect -------------------------------------------------------------------

    def listing(self) -> list[EnvironmentInfo]:
        """Every environment in the folder: built, being built, failed, or left unfinished by a build."""
        if not self.folder.is_dir():
            return []
        out: list[EnvironmentInfo] = []
        for entry in sorted(self.folder.iterdir()):
            name = entry.name
            if name.startswith(layout.BUILDING_PREFIX) and entry.is_dir():
                key = name.removeprefix(layout.BUILDING_PREFIX).rsplit("-", 1)[0]
                state = "building" if layout.is_building(self.path(key)) else "unfinished"
                out.append(EnvironmentInfo(key, state, str(entry), layout.folder_size(entry)))
            elif entry.is_dir():
                record = layout.read_record(entry)
                if record is None:
                    out.append(EnvironmentInfo(name, "unfinished", str(entry), layout.folder_size(entry)))
                    continue
                used = layout.used_path(entry)
                out.append(
                    EnvironmentInfo(
                        name,
                        "built",
                        str(entry),
                        int(record.get("size", 0)),
                        list(record.get("install", [])),
                        record.get("created"),
                        _stamp(used.stat().st_mtime) if used.exists() else None,
                    )
                )
            elif name.endswith(".failed"):
                key = name.removesuffix(".failed")
                if not self.path(key).is_dir():
                    error = layout.read_failure(self.path(key))
                    out.append(EnvironmentInfo(key, "failed", str(self.path(key)), error=error))
        return out

    def collect(self, needed: Iterable[str]) -> list[EnvironmentInfo]:
        """Remove the environments no key of ``needed`` names, and unfinished builds; what was removed.

        An environment being built is kept, and so is a failed build of a needed key (its
        runs report why).
        """
        keep = set(needed)
        removed = []
        for info in self.listing():
            if info.state == "building" or (info.state in ("built", "failed") and info.key in keep):
                continue
            home = self.path(info.key)
            with layout.locked(home, wait=False) as mine:
                if not mine:
                    continue
                shutil.rmtree(info.folder, ignore_errors=True)
                if info.state != "unfinished":
                    layout.failure_path(home).unlink(missing_ok=True)
                    layout.used_path(home).unlink(missing_ok=True)
            removed.append(info)
        return removed


def needed_keys(documents: Iterable[dict[str, Any]]) -> set[str]:
    """The environment keys that servable documents name (what ``env gc`` keeps)."""
    keys = set()
    for doc in documents:
        env = (doc.get("dlhub") or {}).get("environment")
        if isinstance(env, dict) and env.get("key"):
            keys.add(str(env["key"]))
    return keys


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages"))
    if not found:
        raise RuntimeError(f"the new environment {venv} has no site-packages folder")
    return found[0]


def _check(python: Path, pins: list[str], base: tuple[str, ...]) -> None:
    """Run :mod:`hub.servables.environments.check` with the environment's Python; raise on a problem."""
    wanted = {}
    for line in pins:
        req = Requirement(line)
        wanted[req.name] = next(iter(req.specifier)).version
    env = {**os.environ, "PYTHONPATH": layout.python_path(base)}
    done = subprocess.run(
        [str(python), "-m", "hub.servables.environments.check", json.dumps(wanted)],
        capture_output=True,
        text=True,
        timeout=CHECK_TIMEOUT_S,
        env=env,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        found = json.loads(lines[-1])["problems"] if lines else [done.stderr.strip()[-2000:]]
        raise RuntimeError("the environment does not work: " + "; ".join(found))


def _readable(folder: Path) -> None:
    """Let every user read ``folder`` (workers may run as another user), and only its owner write it."""
    for root, _, files in os.walk(folder):
        os.chmod(root, 0o755)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                mode = os.lstat(path).st_mode
                os.chmod(path, 0o755 if mode & 0o111 else 0o644)
