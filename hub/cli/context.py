"""What every ``matterhub`` command shares: the hub its global options name, and output."""

from __future__ import annotations

import json
from typing import Any

import click

from hub.api import HubAPI


def open_hub(ctx: click.Context) -> HubAPI:
    """The hub that ``matterhub``'s global options name, opened once per command.

    The options are ``--hub``, ``--user``, ``--group``, ``--token`` and ``-q``; a command
    run without the group (not under ``main``) gets the default hub (``Hub()``).
    """
    from hub.api import Hub

    root = ctx.find_root()
    opts = root.obj if isinstance(root.obj, dict) else None
    if opts is None or "location" not in opts:
        return Hub()
    if "hub" not in opts:
        kw: dict[str, Any] = {"progress": not opts["quiet"]}
        if opts.get("token"):
            kw["token"] = opts["token"]
        if opts["user"] or opts["groups"]:
            kw.update(user=opts["user"], groups=list(opts["groups"]) or None)
        opts["hub"] = Hub(opts["location"], **kw)
    hub: HubAPI = opts["hub"]
    return hub


def emit(data: Any, as_json: bool, text: str) -> None:
    """Print ``data`` as indented JSON with ``--json``, else ``text``."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        click.echo(text)


def warn(warnings: list[dict[str, Any]]) -> None:
    """Print each warning's ``message`` on stderr as ``warning: ...`` (a search's unknown fields)."""
    for w in warnings:
        click.echo(f"warning: {w['message']}", err=True)


__all__ = ["emit", "open_hub", "warn"]
