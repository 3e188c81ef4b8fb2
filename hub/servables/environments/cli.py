"""``matterhub env list | gc``: the environments of a hub folder's servables.

``env list`` shows each environment (built, being built, failed or left unfinished),
its size, what it adds to the hub's environment and when a worker last started in it;
``env gc`` removes those no published version needs any more (every version counts,
deprecated ones too) and builds a killed process left unfinished.  Both act on the
folder of the hub ``--hub`` names (an operator's commands, like ``matterhub db``).

Register them on the main group::

    from hub.servables.environments.cli import COMMANDS
    for command in COMMANDS:
        main.add_command(command)
"""

from __future__ import annotations

import click

from hub.cli.context import emit
from hub.servables.environments.store import EnvironmentInfo, Environments, EnvironmentSettings, needed_keys


def _home(ctx: click.Context) -> str:
    root = ctx.find_root()
    opts = root.obj if isinstance(root.obj, dict) else {}
    location = opts.get("location")
    if location and "://" in str(location) and not str(location).startswith("file://"):
        raise click.UsageError(f"matterhub env acts on a hub folder on this machine, not {location}")
    from hub.config import HubConfig

    return str(HubConfig.load(str(location).removeprefix("file://") if location else None).home)


def _needed(home: str) -> set[str]:
    from hub.config import HubConfig
    from hub.db.database import Database
    from hub.servables.database import ServableDatabase

    catalog = Database(HubConfig.load(home).catalog)
    try:
        db = ServableDatabase(catalog)
        return needed_keys(row.document for sid in db.ids() for row in db.versions(sid))
    finally:
        catalog.close()


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _table(infos: list[EnvironmentInfo], none: str) -> str:
    if not infos:
        return none
    lines = [f"{'key':<24}  {'state':<10}  {'size':>9}  {'last used':<25}  adds"]
    for i in infos:
        adds = ", ".join(i.install) or (i.error or "")
        lines.append(f"{i.key:<24}  {i.state:<10}  {_size(i.size):>9}  {i.last_used or '-':<25}  {adds}")
    total = sum(i.size for i in infos)
    lines.append(f"{len(infos)} environment(s), {_size(total)}")
    return "\n".join(lines)


@click.group("env")
def env() -> None:
    """Servables' own environments: list them, collect those no version needs."""


@env.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def env_list(ctx: click.Context, as_json: bool) -> None:
    """Every environment of the hub's servables, with its size and what it adds."""
    home = _home(ctx)
    infos = Environments(EnvironmentSettings.for_hub(home)).listing()
    emit(
        [i.to_dict() for i in infos],
        as_json,
        _table(infos, "no environment: every servable runs in the hub's"),
    )


@env.command("gc")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def env_gc(ctx: click.Context, as_json: bool) -> None:
    """Remove environments no published version needs any more, and unfinished builds."""
    home = _home(ctx)
    removed = Environments(EnvironmentSettings.for_hub(home)).collect(_needed(home))
    emit([i.to_dict() for i in removed], as_json, _table(removed, "nothing to remove"))


COMMANDS = [env]
