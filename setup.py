"""Package discovery and the JupyterLab panel's build (everything else is in pyproject.toml).

The core is ``hub/``, and the Jupyter front ends in ``widgets/`` install as ``hub.widgets`` so
the core never imports them.

Every build of the package (wheel, sdist's wheel, editable install) first builds the
JupyterLab panel from ``widgets/labextension`` when its output is missing or older than its
sources (``widgets/jupyterlab/build.py``: npm + JupyterLab's extension builder), and ships it
as data files, so ``pip install matterhub`` needs no separate step:

* ``share/jupyter/labextensions/matterhub-lab/``: the prebuilt extension (JupyterLab loads it);
* ``etc/jupyter/jupyter_server_config.d/matterhub.json``: enables the server extension.

``MATTERHUB_SKIP_LABEXTENSION=1`` builds the package without (re)building the panel.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

from setuptools import Command, find_packages, setup
from setuptools.command.build import build
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
LABEXTENSION_NAME = "matterhub-lab"
LABEXTENSION_BUILD = Path("widgets", "jupyterlab", "labextensions", LABEXTENSION_NAME)
LABEXTENSION_INSTALL_JSON = Path("widgets", "labextension", "install.json")
SERVER_CONFIG = Path("jupyter-config", "jupyter_server_config.d", "matterhub.json")
DASHBOARDS = HERE / "notebooks" / "dashboards"
DASHBOARDS_INSTALL = "share/matterhub/dashboards"


def _lab_build_module() -> ModuleType:
    """widgets/jupyterlab/build.py, loaded by path (nothing of MatterHub is installed yet)."""
    spec = importlib.util.spec_from_file_location(
        "_matterhub_lab_build", HERE / "widgets/jupyterlab/build.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data_files() -> list[tuple[str, list[str]]]:
    """The server extension's config, and the built panel when it exists (relative paths)."""
    out: list[tuple[str, list[str]]] = [("etc/jupyter/jupyter_server_config.d", [SERVER_CONFIG.as_posix()])]
    # the Voila dashboards, for `matterhub dashboards` outside a checkout (hub.widgets.serve finds them)
    out.append((DASHBOARDS_INSTALL, sorted(p.relative_to(HERE).as_posix() for p in DASHBOARDS.glob("*.ipynb"))))
    root = HERE / LABEXTENSION_BUILD
    if (root / "package.json").is_file():
        dest = f"share/jupyter/labextensions/{LABEXTENSION_NAME}"
        folders: dict[str, list[str]] = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root).parent.as_posix()
            target = dest if rel == "." else f"{dest}/{rel}"
            folders.setdefault(target, []).append(path.relative_to(HERE).as_posix())
        if (HERE / LABEXTENSION_INSTALL_JSON).is_file():
            folders.setdefault(dest, []).append(LABEXTENSION_INSTALL_JSON.as_posix())
        out += sorted(folders.items())
    return out


class BuildLabextension(Command):
    """Build the JupyterLab panel when missing or stale, then list it as data files."""

    description = "build the MatterHub JupyterLab panel (npm + JupyterLab's extension builder)"
    user_options = [("force", "f", "rebuild even when the built panel is up to date")]
    boolean_options = ["force"]

    def initialize_options(self) -> None:
        self.force = False

    def finalize_options(self) -> None:
        pass

    def run(self) -> None:
        lab = _lab_build_module()
        if os.environ.get(lab.ENV_SKIP, "") not in ("", "0"):
            self.announce(f"{lab.ENV_SKIP} is set: the JupyterLab panel is not (re)built", level=3)
        else:
            lab.build(force=bool(self.force), log=lambda text: self.announce(text, level=3))
        self.distribution.data_files = data_files()


class BuildWithLabextension(build):
    """``build`` that builds the JupyterLab panel first (editable installs run it too)."""

    sub_commands = [("build_labextension", None), *build.sub_commands]


class SdistWithLabextension(sdist):
    """``sdist`` that builds the panel first, so a wheel built from the sdist needs no Node.js."""

    def run(self) -> None:
        self.run_command("build_labextension")
        super().run()


def python_packages(folder: str) -> list[str]:
    """Every folder under ``folder`` holding Python modules, with or without ``__init__.py``
    (``find_packages`` alone misses implicit namespace packages such as ``hub/connect``)."""
    found = set(find_packages(".", include=[folder, f"{folder}.*"]))
    for dirpath, dirnames, filenames in os.walk(HERE / folder):
        dirnames[:] = [d for d in dirnames if d.isidentifier() and d not in ("__pycache__", "node_modules")]
        rel = Path(dirpath).relative_to(HERE)
        if any(f.endswith(".py") for f in filenames):
            found.add(".".join(rel.parts))
    return sorted(found)


front = ["hub." + name for name in python_packages("widgets")]
setup(
    packages=python_packages("hub") + front,
    package_dir={"hub.widgets": "widgets"},
    data_files=data_files(),
    # package data is what pyproject.toml lists; the built panel ships once, as data files
    # (not also as package data of hub.widgets.jupyterlab, which it would be by default)
    include_package_data=False,
    cmdclass={
        "build": BuildWithLabextension,
        "build_labextension": BuildLabextension,
        "sdist": SdistWithLabextension,
    },
)
