"""Which hub the JupyterLab panel shows, and as whom.

The panel acts as the one hub principal configured for its Jupyter server:

* ``MATTERHUB_URL`` (with ``MATTERHUB_TOKEN``): the remote hub service, as the token's user
  (anonymous, public things only, without a token);
* else the embedded hub in ``MATTERHUB_HOME`` (default ``~/.matterhub``), as the local owner
  of the folder, or as ``MATTERHUB_USER`` in the comma-separated ``MATTERHUB_GROUPS``.

The same settings are traits of the server extension (``c.MatterHubLab.url``, ``.token``,
``.home``, ``.user``, ``.groups`` in ``jupyter_server_config.py``), whose defaults are these
environment variables.  :meth:`HubSettings.hub_expression` writes the ``Hub(...)`` call a
notebook of this server makes to open the same hub as the same principal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_URL = "MATTERHUB_URL"
ENV_TOKEN = "MATTERHUB_TOKEN"
ENV_HOME = "MATTERHUB_HOME"
ENV_USER = "MATTERHUB_USER"
ENV_GROUPS = "MATTERHUB_GROUPS"


def split_groups(value: str | None) -> tuple[str, ...]:
    """``"lab, admin"`` -> ``("lab", "admin")`` (blank entries dropped)."""
    return tuple(g.strip() for g in (value or "").split(",") if g.strip())


@dataclass(frozen=True)
class HubSettings:
    """Where the hub is (``url`` for a remote hub, else ``home``) and who the panel acts as."""

    url: str | None = None
    token: str | None = field(default=None, repr=False)
    home: str | None = None
    user: str | None = None
    groups: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HubSettings:
        env = os.environ if environ is None else environ
        return cls(
            url=env.get(ENV_URL) or None,
            token=env.get(ENV_TOKEN) or None,
            home=env.get(ENV_HOME) or None,
            user=env.get(ENV_USER) or None,
            groups=split_groups(env.get(ENV_GROUPS)),
        )

    @property
    def remote(self) -> bool:
        return bool(self.url)

    def __post_init__(self) -> None:
        if self.remote and (self.user or self.groups):
            raise ValueError(
                f"user={self.user!r}, groups={list(self.groups)!r}: a remote hub ({self.url}) acts as the "
                f"user of its token; set {ENV_TOKEN} (or c.MatterHubLab.token) instead"
            )
        if self.groups and not self.user:
            raise ValueError(
                f"groups={list(self.groups)!r} without a user: set {ENV_USER} (or c.MatterHubLab.user) too"
            )

    def open(self) -> Any:
        """Open the hub (blocking: an embedded hub opens its catalog, a remote one asks who it is)."""
        from hub import Hub

        if self.remote:
            return Hub(self.url, token=self.token, progress=False)
        return Hub(self.home, user=self.user, groups=list(self.groups) or None, progress=False)

    def describe(self) -> dict[str, Any]:
        """What the panel shows about its hub (never the token)."""
        if self.remote:
            return {"mode": "remote", "location": self.url, "token": bool(self.token)}
        from hub.config import default_home

        home = Path(self.home).expanduser() if self.home else default_home()
        return {"mode": "embedded", "location": str(home.absolute())}

    def hub_expression(self, environ: Mapping[str, str] | None = None) -> str:
        """The ``Hub(...)`` call that opens this hub as this principal in a kernel of this server.

        Kernels inherit the server's environment, so an embedded hub in ``$MATTERHUB_HOME``
        is plain ``Hub()`` and a remote hub takes its token from ``$MATTERHUB_TOKEN``
        (a token is never written into a notebook).
        """
        env = os.environ if environ is None else environ
        if self.remote:
            return f"Hub({py_str(self.url or '')})"
        args: list[str] = []
        if self.home and Path(self.home).expanduser().absolute() != _env_home(env):
            args.append(py_str(str(Path(self.home).expanduser().absolute())))
        if self.user:
            args.append(f"user={py_str(self.user)}")
        if self.groups:
            args.append("groups=[" + ", ".join(py_str(g) for g in self.groups) + "]")
        return f"Hub({', '.join(args)})"


def py_str(text: str) -> str:
    """A double-quoted Python string literal (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def _env_home(env: Mapping[str, str]) -> Path:
    value = env.get(ENV_HOME)
    return (Path(value).expanduser() if value else Path.home() / ".matterhub").absolute()
