"""Build the JupyterLab panel: ``widgets/labextension`` (TypeScript) -> a prebuilt extension.

``python -m hub.widgets.jupyterlab.build [--force] [--develop]`` in a source checkout, and ``setup.py``
on every build of the Python package (so a wheel ships the panel prebuilt) run::

    npm ci                       # when node_modules is missing or older than the lock file
    npm run build:lib            # tsc: src/*.ts -> lib/*.js
    jupyter-builder build .      # JupyterLab's extension builder (the jupyter-builder package,
                                 # which ``jupyter labextension build`` also runs)

into ``widgets/jupyterlab/labextensions/matterhub-lab/``, a folder laid out like
``share/jupyter/labextensions`` (JupyterLab loads it with
``--LabApp.extra_labextensions_path``; the wheel installs it under
``share/jupyter/labextensions/matterhub-lab``).  Nothing is rebuilt when the output is newer
than every source.  Without npm, a prebuilt copy is used with a warning; without either,
the build fails and says what to install.

This module uses the standard library only: ``setup.py`` loads it by path, before MatterHub
or its dependencies are installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

NAME = "matterhub-lab"
WIDGETS = Path(__file__).resolve().parents[1]
#: The TypeScript sources (package.json, tsconfig.json, src/, style/).
SOURCE = WIDGETS / "labextension"
#: The built extension (``outputDir`` of package.json).
OUTPUT = WIDGETS / "jupyterlab" / "labextensions" / NAME
#: The config file that enables the server extension (installed to etc/jupyter/jupyter_server_config.d).
SERVER_CONFIG = WIDGETS.parent / "jupyter-config" / "jupyter_server_config.d" / "matterhub.json"
#: Set to 1 to build the Python package without (re)building the panel.
ENV_SKIP = "MATTERHUB_SKIP_LABEXTENSION"
#: Files of SOURCE whose change calls for a new build.
_INPUTS = ("package.json", "package-lock.json", "tsconfig.json", "install.json")
_INPUT_DIRS = ("src", "style")

Log = Callable[[str], None]


class LabextensionBuildError(RuntimeError):
    """The panel cannot be built here (and no prebuilt copy exists)."""


def source_files(source: Path = SOURCE) -> Iterator[Path]:
    for name in _INPUTS:
        if (source / name).is_file():
            yield source / name
    for folder in _INPUT_DIRS:
        if (source / folder).is_dir():
            yield from (p for p in sorted((source / folder).rglob("*")) if p.is_file())


def is_built(output: Path = OUTPUT) -> bool:
    """Whether ``output`` holds a built extension (its package.json names its entry point)."""
    try:
        meta = json.loads((output / "package.json").read_text())
    except (OSError, ValueError):
        return False
    load = meta.get("jupyterlab", {}).get("_build", {}).get("load")
    return bool(load) and (output / load).is_file()


def is_stale(source: Path = SOURCE, output: Path = OUTPUT) -> bool:
    """Whether the build is missing or older than one of its sources."""
    if not is_built(output):
        return True
    built = (output / "package.json").stat().st_mtime
    return any(p.stat().st_mtime > built for p in source_files(source))


def _run(cmd: list[str], cwd: Path, log: Log) -> None:
    log("$ " + " ".join(cmd))
    try:
        subprocess.run(cmd, cwd=cwd, check=True)
    except subprocess.CalledProcessError as exc:
        raise LabextensionBuildError(
            f"building the JupyterLab panel failed: `{' '.join(cmd)}` exited with {exc.returncode} in {cwd}"
        ) from exc


def builder_command(source: Path) -> list[str]:
    """JupyterLab's extension builder, from this Python (jupyter-builder, else jupyterlab)."""
    if importlib.util.find_spec("jupyter_builder") is not None:
        return [sys.executable, "-m", "jupyter_builder.main", "build", str(source)]
    if importlib.util.find_spec("jupyterlab") is not None:
        return [sys.executable, "-m", "jupyterlab.labextensions", "build", str(source)]
    raise LabextensionBuildError(
        "JupyterLab's extension builder is not installed in this Python: pip install 'jupyter-builder>=1.2' "
        "(or jupyterlab>=4.6); a wheel build gets it from pyproject.toml's build requirements"
    )


def _needs_install(source: Path) -> bool:
    marker = source / "node_modules" / ".package-lock.json"
    if not marker.is_file():
        return True
    stamp = marker.stat().st_mtime
    return any(
        (source / f).is_file() and (source / f).stat().st_mtime > stamp
        for f in ("package.json", "package-lock.json")
    )


def build(
    source: Path = SOURCE, output: Path = OUTPUT, *, force: bool = False, log: Log | None = None
) -> Path:
    """Build the panel into ``output`` when it is missing or stale (or ``force``); returns ``output``."""
    say: Log = log or (lambda text: print(text, file=sys.stderr))
    if not force and not is_stale(source, output):
        say(f"JupyterLab panel is up to date: {output}")
        return output
    npm = shutil.which("npm")
    if npm is None or not (source / "package.json").is_file():
        why = "npm was not found" if npm is None else f"the TypeScript sources are not in {source}"
        if is_built(output):
            warnings.warn(
                f"{why}: packaging the prebuilt JupyterLab panel in {output} without rebuilding it",
                stacklevel=2,
            )
            return output
        raise LabextensionBuildError(
            f"{why}, and no prebuilt JupyterLab panel exists in {output}. Install Node.js (>= 20.19) "
            f"and npm to build it, or set {ENV_SKIP}=1 to build MatterHub without its JupyterLab panel"
        )
    if _needs_install(source):
        lock = (source / "package-lock.json").is_file()
        _run([npm, "ci" if lock else "install", "--no-audit", "--no-fund"], source, say)
    _run([npm, "run", "build:lib"], source, say)
    _run(builder_command(source), source, say)
    if not is_built(output):
        raise LabextensionBuildError(f"the JupyterLab builder ran but {output} holds no built extension")
    os.utime(output / "package.json")  # newer than every source: the next build is a no-op
    say(f"JupyterLab panel built: {output}")
    return output


def develop(prefix: Path | None = None, output: Path = OUTPUT, *, log: Log | None = None) -> list[Path]:
    """What a wheel installs, for an editable install (setuptools installs no data files there):
    link ``<prefix>/share/jupyter/labextensions/matterhub-lab`` to the checkout's build and
    enable the server extension in ``<prefix>/etc/jupyter/jupyter_server_config.d``.

    ``prefix`` defaults to this Python's environment (``sys.prefix``).  Returns the two paths.
    """
    say: Log = log or (lambda text: print(text, file=sys.stderr))
    root = Path(prefix or sys.prefix)
    link = root / "share" / "jupyter" / "labextensions" / NAME
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.symlink_to(output.resolve(), target_is_directory=True)
    config = root / "etc" / "jupyter" / "jupyter_server_config.d" / SERVER_CONFIG.name
    config.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SERVER_CONFIG, config)
    say(f"linked {link} -> {output.resolve()}; enabled the server extension in {config}")
    return [link, config]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument(
        "--develop",
        action="store_true",
        help="then link the build into this environment and enable the server extension "
        "(for editable installs, which get no data files)",
    )
    args = parser.parse_args(argv)
    try:
        output = build(force=args.force)
    except LabextensionBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.develop:
        develop(output=output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
