"""The ``matterhub`` command: the Python API from a shell.

:mod:`hub.cli.commands` holds the command group and the data commands; each area adds its own
commands (``hub.servables.cli``, ``hub.notebooks.cli``, ``hub.service.cli``,
``hub.db.cli``), and all of them reach the hub through :func:`hub.cli.context.open_hub`,
a :class:`~hub.api.HubAPI`, so every command works on a hub folder and on a hub service.
"""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def __getattr__(name: str) -> Any:  # lazy: area modules import hub.cli.context without the group
    if name == "main":
        from hub.cli.commands import main

        return main
    raise AttributeError(f"module 'hub.cli' has no attribute {name!r}")
