"""``matterhub db``: the catalog's schema migrations from a shell.

``db current | upgrade | downgrade | history | check | revision``, each on the
catalog of the hub (``--hub``), or on any catalog URL (``--url``, e.g. the
PostgreSQL catalog of a shared deployment).  Opening a hub upgrades its catalog
by itself; these commands are for operators who want to look first (``db
current``, ``db upgrade --sql``), and for developers writing a new revision.

Register them on the main group::

    from hub.db.cli import COMMANDS
    for command in COMMANDS:
        main.add_command(command)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from alembic import command
from sqlalchemy import Engine, make_url

from hub.db import migrate


def _url(ctx: click.Context) -> str:
    opts = ctx.obj if isinstance(ctx.obj, dict) else {}
    if opts.get("db_url"):
        return str(opts["db_url"])
    from hub.config import HubConfig

    return HubConfig.load(opts.get("location")).catalog


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _engine(ctx: click.Context) -> Engine:
    from hub.db.engine import make_engine

    return make_engine(_url(ctx), pool_size=1, max_overflow=0)


@click.group("db")
@click.option("--url", "db_url", default=None, help="A catalog URL (default: the catalog of --hub).")
@click.pass_context
def db(ctx: click.Context, db_url: str | None) -> None:
    """The catalog's schema: revision, upgrades, checks (Alembic, no alembic.ini needed)."""
    ctx.ensure_object(dict)
    if db_url:
        ctx.obj["db_url"] = db_url


@db.command("current")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def current_command(ctx: click.Context, as_json: bool) -> None:
    """The catalog's revision and the newest this MatterHub knows."""
    engine = _engine(ctx)
    try:
        rev = migrate.current(engine)
    finally:
        engine.dispose()
    head = migrate.head()
    data = {"catalog": _shown(_url(ctx)), "revision": rev, "head": head, "up_to_date": rev == head}
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    state = "up to date" if rev == head else f"behind: `matterhub db upgrade` brings it to {head}"
    click.echo(f"{data['catalog']}: revision {rev or '(none)'}, {state}")


@db.command("upgrade")
@click.argument("revision", default="head")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (for a DBA to review).")
@click.pass_context
def upgrade_command(ctx: click.Context, revision: str, sql: bool) -> None:
    """Bring the catalog to REVISION (default: the newest)."""
    url = _url(ctx)
    if sql:
        command.upgrade(migrate.config(url), revision, sql=True)
        return
    engine = _engine(ctx)
    try:
        before = migrate.current(engine)
        after = migrate.upgrade(engine, revision)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"{_shown(url)}: already at {after}")
    else:
        click.echo(f"{_shown(url)}: {before or '(new)'} -> {after}")


@db.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
@click.pass_context
def downgrade_command(ctx: click.Context, revision: str, yes: bool, sql: bool) -> None:
    """Undo migrations down to REVISION (``base`` drops every table: all data is lost)."""
    url = _url(ctx)
    if sql:
        engine = _engine(ctx)
        try:
            start = migrate.current(engine) or "base"
        finally:
            engine.dispose()
        command.downgrade(migrate.config(url), f"{start}:{revision}", sql=True)
        return
    if not yes:
        click.confirm(f"downgrade {_shown(url)} to {revision}? columns and tables may be dropped", abort=True)
    engine = _engine(ctx)
    try:
        after = migrate.downgrade(engine, revision)
    finally:
        engine.dispose()
    click.echo(f"{_shown(url)}: now at {after or 'base (empty)'}")


@db.command("history")
@click.option("--json", "as_json", is_flag=True)
def history_command(as_json: bool) -> None:
    """The revisions this MatterHub ships, oldest first."""
    revs = list(reversed(list(migrate.script_directory().walk_revisions())))
    data = [
        {"revision": r.revision, "down_revision": r.down_revision, "message": _first_line(str(r.doc or ""))}
        for r in revs
    ]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for r in data:
        click.echo(f"{r['revision']}  {r['message']}")


@db.command("check")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def check_command(ctx: click.Context, as_json: bool) -> None:
    """Compare the catalog's schema with the models; exit 1 when they differ."""
    engine = _engine(ctx)
    try:
        diffs = migrate.differences(engine)
        rev = migrate.current(engine)
    finally:
        engine.dispose()
    lines = [_describe(d) for d in diffs]
    if as_json:
        click.echo(json.dumps({"revision": rev, "differences": lines}, indent=2))
    elif lines:
        click.echo(f"{_shown(_url(ctx))} differs from the models:")
        for line in lines:
            click.echo(f"  {line}")
    else:
        click.echo(f"{_shown(_url(ctx))}: the schema matches the models (revision {rev})")
    if lines:
        sys.exit(1)


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the revision does, e.g. 'add tasks.inputs_sha'.")
@click.option("--empty", is_flag=True, help="An empty script instead of one autogenerated from the models.")
@click.option(
    "--against",
    default=None,
    help="Autogenerate against this catalog URL (default: a scratch SQLite database at the head revision).",
)
def revision_command(message: str, empty: bool, against: str | None) -> None:
    """Write a new migration script into hub/db/migrations/versions (developers).

    Autogenerated scripts are a draft: read them, keep PostgreSQL and SQLite in
    mind (SQLite alters tables in batch mode), and test them with ``pytest tests/db``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        url = against or f"sqlite:///{Path(tmp) / 'scratch.sqlite'}"
        if against is None:
            from hub.db.engine import make_engine

            engine = make_engine(url)
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
        paths = migrate.revision(url, message, autogenerate=not empty)
    for path in paths:
        click.echo(path)


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def _describe(diff: Any) -> str:
    """One line for an Alembic ``compare_metadata`` difference."""
    if isinstance(diff, list):  # column modifications come as a list of tuples
        return "; ".join(_describe(d) for d in diff)
    kind, *rest = diff
    parts = []
    for item in rest:
        name = getattr(item, "name", None)
        table = getattr(getattr(item, "table", None), "name", None)
        if name is not None:
            parts.append(f"{table}.{name}" if table and table != name else str(name))
        elif item is not None and not isinstance(item, dict):
            parts.append(str(item))
    return f"{kind} {' '.join(parts)}".strip()


COMMANDS = (db,)
