"""MatterHub in JupyterLab: a side panel beside the user's notebooks.

Two halves, installed together by ``pip install matterhub``:

* a prebuilt JupyterLab 4 extension (``matterhub-lab``, TypeScript sources in
  ``widgets/labextension/``), shipped in the wheel under ``share/jupyter/labextensions/``:
  the "MatterHub" tab of the left sidebar, with a search box, facets with counts, results,
  a record's or dataset's details, servables, and "Insert code" buttons that add to the
  active notebook a cell loading the selection through its Intake catalog (or calling a
  servable);
* this Jupyter server extension (:class:`~hub.widgets.jupyterlab.app.MatterHubLab`,
  enabled by ``etc/jupyter/jupyter_server_config.d/matterhub.json``), whose authenticated
  handlers under ``{base_url}matterhub/`` serve the panel from the hub configured for the
  server (:mod:`hub.widgets.jupyterlab.settings`).

``python -m hub.widgets.jupyterlab.demo --hub DIR`` starts JupyterLab on a demo hub.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The npm name of the panel (its folder under ``share/jupyter/labextensions``).
LABEXTENSION_NAME = "matterhub-lab"
#: Where a source checkout builds the panel: a folder laid out like
#: ``share/jupyter/labextensions`` (``--LabApp.extra_labextensions_path`` accepts it).
LABEXTENSIONS_DIR = Path(__file__).resolve().parent / "labextensions"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from hub.widgets.jupyterlab.app import MatterHubLab

    return [{"module": "hub.widgets.jupyterlab", "app": MatterHubLab}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """For ``jupyter labextension develop``: link the checkout's build into the environment."""
    return [{"src": f"labextensions/{LABEXTENSION_NAME}", "dest": LABEXTENSION_NAME}]


def installed_labextension() -> Path | None:
    """The panel's folder that JupyterLab will load, if one is installed (or built here)."""
    from jupyter_core.paths import jupyter_path

    for root in jupyter_path("labextensions"):
        candidate = Path(root) / LABEXTENSION_NAME
        if (candidate / "package.json").is_file():
            return candidate
    built = LABEXTENSIONS_DIR / LABEXTENSION_NAME
    return built if (built / "package.json").is_file() else None
