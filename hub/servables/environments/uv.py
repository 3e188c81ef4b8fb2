"""The uv commands that resolve requirements and build environments, and where packages come from.

Every command runs the ``uv`` of the hub's own environment (beside its Python, or the
``uv`` package's binary), never downloads a Python (``UV_PYTHON_DOWNLOADS=never``), and
reads packages from one :class:`PackageSource`: a wheelhouse folder (offline: no index
is asked) or a package index (the configured one, else uv's default).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hub.exceptions import ConfigurationError

#: Seconds a resolution may take (a slow index); a build's install may take ten times as long.
RESOLVE_TIMEOUT_S = 300.0


def uv_binary() -> str:
    """The ``uv`` program: beside this Python, else the ``uv`` package's, else on ``PATH``.

    Raises
    ------
    ConfigurationError
        When there is none (install the ``uv`` package into the hub's environment).
    """
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file():
        return str(beside)
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found:
        return found
    raise ConfigurationError(
        "servables whose requirements differ from the hub's environment need uv to build theirs; "
        "install it into the hub's environment (pip install uv)"
    )


@dataclass(frozen=True)
class PackageSource:
    """Where environments' packages come from.

    Parameters
    ----------
    wheelhouse
        A folder of wheels: uv installs from it alone, offline (``--offline --no-index
        --find-links``).
    index
        A package index URL (``--index-url``) when there is no wheelhouse; None: uv's own
        default (PyPI, or ``$UV_INDEX_URL``).
    """

    wheelhouse: str | None = None
    index: str | None = None

    def args(self) -> list[str]:
        """The options that tell uv to use this source."""
        if self.wheelhouse:
            return ["--offline", "--no-index", "--find-links", self.wheelhouse]
        if self.index:
            return ["--index-url", self.index]
        return []

    def describe(self) -> str:
        """The source in words, for messages (``the wheelhouse /srv/wheels (offline)``)."""
        if self.wheelhouse:
            return f"the wheelhouse {self.wheelhouse} (offline)"
        if self.index:
            return f"the package index {self.index}"
        return "uv's default package index ($UV_INDEX_URL, else PyPI)"


class UvFailed(RuntimeError):
    """A uv command failed; the message is the end of what it printed."""


def _run(args: Sequence[str], *, timeout: float, stdin: str | None = None) -> str:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    try:
        done = subprocess.run(
            [uv_binary(), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UvFailed(
            f"uv {args[0]} {args[1] if len(args) > 1 else ''} took longer than {timeout:g} s"
        ) from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise UvFailed("\n".join(lines[-20:]) or f"uv exited with code {done.returncode}")
    return done.stdout


def resolve(requirements: Sequence[str], constraints: Sequence[str], source: PackageSource) -> list[str]:
    """The exact pins (``name==version``) that install ``requirements`` with their dependencies.

    ``constraints`` (``name==version`` lines) hold the dependencies where they apply.
    Resolved for this Python; nothing is installed (``uv pip compile``).

    Raises
    ------
    UvFailed
        When uv finds no solution (its words name the requirement) or cannot reach the source.
    """
    with tempfile.TemporaryDirectory(prefix="matterhub-resolve-") as tmp:
        args = ["pip", "compile", "-", "--python", sys.executable, "--no-header", "--no-annotate", "--quiet"]
        if constraints:
            path = Path(tmp) / "constraints.txt"
            path.write_text("\n".join(constraints) + "\n")
            args += ["--constraint", str(path)]
        out = _run([*args, *source.args()], timeout=RESOLVE_TIMEOUT_S, stdin="\n".join(requirements) + "\n")
    return [line.strip() for line in out.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def create_venv(folder: Path) -> Path:
    """A new relocatable virtual environment of this Python at ``folder``; its interpreter.

    Relocatable, so an environment built in a temporary folder works once renamed.
    """
    _run(
        ["venv", "--quiet", "--relocatable", "--python", sys.executable, str(folder)],
        timeout=RESOLVE_TIMEOUT_S,
    )
    return folder / "bin" / "python"


def install(python: Path, pins: Sequence[str], source: PackageSource) -> None:
    """Install exactly ``pins`` (no dependency of theirs: they are resolved) into ``python``'s environment.

    Files are copied (not linked to uv's cache) and compiled to bytecode, so the
    environment stands alone and read-only workers do not compile it again.
    """
    _run(
        [
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--link-mode",
            "copy",
            "--compile-bytecode",
            "--python",
            str(python),
            *source.args(),
            *pins,
        ],
        timeout=RESOLVE_TIMEOUT_S * 10,
    )
