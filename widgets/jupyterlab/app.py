"""The Jupyter server extension: the hub's handlers in every Jupyter server it is enabled in.

Installing MatterHub enables it (``etc/jupyter/jupyter_server_config.d/matterhub.json``).
Configure it with environment variables (see :mod:`hub.widgets.jupyterlab.settings`) or in
``jupyter_server_config.py``::

    c.MatterHubLab.url = "http://hub.example.org:8750"   # a remote hub, else the embedded one
    c.MatterHubLab.home = "/data/hub"                     # the embedded hub's folder
    c.MatterHubLab.user = "bob"                           # act as bob (embedded hub)
    c.MatterHubLab.groups = ["lab"]
"""

from __future__ import annotations

import os
from typing import Any

from hub.widgets.jupyterlab.backend import HubBackend
from hub.widgets.jupyterlab.handlers import BACKEND_KEY, handlers
from hub.widgets.jupyterlab.settings import (
    ENV_GROUPS,
    ENV_HOME,
    ENV_TOKEN,
    ENV_URL,
    ENV_USER,
    HubSettings,
    split_groups,
)
from jupyter_server.extension.application import ExtensionApp
from traitlets import Integer, List, Unicode, default


class MatterHubLab(ExtensionApp):
    """MatterHub's handlers for the JupyterLab panel (configured as ``c.MatterHubLab``)."""

    name = "matterhub"
    description = "MatterHub: the hub's search, records, datasets and servables for the JupyterLab panel"
    load_other_extensions = True

    url = Unicode(help=f"A remote hub service (http://host:port); default ${ENV_URL}.").tag(config=True)
    token = Unicode(help=f"The bearer token for the remote hub; default ${ENV_TOKEN}.").tag(config=True)
    home = Unicode(
        help=f"The embedded hub's folder; default ${ENV_HOME}, else ~/.matterhub (ignored with url)."
    ).tag(config=True)
    user = Unicode(
        help=f"Act as this hub user (embedded hub); default ${ENV_USER}, else the folder's owner (admin)."
    ).tag(config=True)
    groups = List(Unicode(), help=f"The user's groups (embedded hub); default ${ENV_GROUPS}.").tag(
        config=True
    )
    max_workers = Integer(4, help="Threads that run the panel's (blocking) hub calls.").tag(config=True)

    @default("url")
    def _default_url(self) -> str:
        return os.environ.get(ENV_URL, "")

    @default("token")
    def _default_token(self) -> str:
        return os.environ.get(ENV_TOKEN, "")

    @default("home")
    def _default_home(self) -> str:
        return os.environ.get(ENV_HOME, "")

    @default("user")
    def _default_user(self) -> str:
        return os.environ.get(ENV_USER, "")

    @default("groups")
    def _default_groups(self) -> list[str]:
        return list(split_groups(os.environ.get(ENV_GROUPS)))

    def hub_settings(self) -> HubSettings:
        return HubSettings(
            url=self.url or None,
            token=self.token or None,
            home=None if self.url else (self.home or None),
            user=None if self.url else (self.user or None),
            groups=() if self.url else tuple(self.groups),
        )

    def initialize_settings(self) -> None:
        settings = self.hub_settings()
        if settings.remote and settings.token and not os.environ.get(ENV_TOKEN):
            # kernels inherit the server's environment: notebook code opens the hub with the
            # same token without the token ever being written into a notebook
            os.environ[ENV_TOKEN] = settings.token
        self.settings[BACKEND_KEY] = HubBackend(settings, max_workers=self.max_workers)
        where = settings.describe()
        who = "the token's user" if settings.remote else (settings.user or "the local owner")
        self.log.info("MatterHub panel: %s hub %s, acting as %s", where["mode"], where["location"], who)

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())

    async def stop_extension(self) -> None:
        backend: Any = self.settings.get(BACKEND_KEY)
        if backend is not None:
            backend.close()
