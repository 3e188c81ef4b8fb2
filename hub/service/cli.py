"""The service's commands: running and administering the hub service.

``matterhub serve``, ``matterhub user ...``, ``matterhub token ...`` and
``matterhub openapi``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

import click

from hub.access import Principal
from hub.api import UsersAPI
from hub.cli.context import open_hub


def _users(ctx: click.Context) -> tuple[UsersAPI, Principal]:
    """The users of the hub the global options name (a folder or a service), and who asks."""
    hub = open_hub(ctx)
    return hub.users, hub.principal


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8750, show_default=True, type=int)
@click.option("--catalog", default=None, help="Catalog URL, e.g. postgresql+psycopg://user@host/db (saved).")
@click.option(
    "--store", default=None, help="Blob store: a folder or any fsspec URL such as s3://bucket/hub (saved)."
)
@click.option("--admin", default="admin", show_default=True, help="The admin user created at first start.")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a new admin token here (mode 600) instead of printing it.",
)
@click.option(
    "--allow-private-urls", is_flag=True, help="Let URL submissions read loopback/private addresses."
)
@click.option("--max-upload-mb", type=int, default=None, help="Largest upload accepted (default 10 GiB).")
@click.option("--submission-threads", type=int, default=1, show_default=True)
@click.option(
    "--no-rate-limit",
    is_flag=True,
    help="No per-caller rate limits (default: MATTERHUB_SERVICE_RATE_LIMIT requests/s, 100).",
)
@click.option(
    "--servable-publishers",
    "publishers",
    multiple=True,
    default=("group:servable-publishers",),
    show_default=True,
    help="Who may publish servables besides admins (repeatable ACL entries; 'signed-in' for every user).",
)
@click.option(
    "--allow-uncontained-servables",
    is_flag=True,
    help="Run published code even where this machine cannot contain it (no Landlock): trust every publisher.",
)
@click.option(
    "--servable-containment/--no-servable-containment",
    default=True,
    show_default=True,
    help="Contain servable workers; --no-servable-containment runs published code with the service's "
    "own rights (the embedded hub's workers): only where every publisher is trusted.",
)
@click.option(
    "--allow-servable-network",
    is_flag=True,
    help="Give the network to servables that declare they need it (others never get it).",
)
@click.option(
    "--harvest",
    "harvest_urls",
    multiple=True,
    help="An OPTIMADE provider's base URL to harvest at start and every --every (repeatable).",
)
@click.option("--every", default="1d", show_default=True, help="How often to harvest: 30m, 6h, 1d, ...")
@click.option(
    "--harvest-config",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A YAML/JSON list of harvests: {source, every, title, authors, filter, source_name}.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="API processes. More than 1 needs a PostgreSQL catalog; this process then runs the submissions, "
    "writes the search index and owns the servable workers.",
)
@click.option(
    "--executor",
    default=None,
    help="Where servables run: the contained local pool (default) or dask://host:port (a Dask cluster).",
)
@click.option("--log-level", default="info", show_default=True)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    catalog: str | None,
    store: str | None,
    admin: str,
    token_file: str | None,
    allow_private_urls: bool,
    max_upload_mb: int | None,
    submission_threads: int,
    no_rate_limit: bool,
    publishers: tuple[str, ...],
    allow_uncontained_servables: bool,
    servable_containment: bool,
    allow_servable_network: bool,
    harvest_urls: tuple[str, ...],
    every: str,
    harvest_config: str | None,
    workers: int,
    executor: str | None,
    log_level: str,
) -> None:
    """Serve the hub over HTTP (FastAPI on uvicorn): REST API, Globus Search and OPTIMADE.

    Servables run in contained worker processes (see ``hub.servables.containment``):
    published code cannot read the hub folder, its catalog or other users' data.

    With ``--workers N`` (N > 1, a PostgreSQL catalog) N API processes serve the port and
    this process writes: see ``hub.service.writer`` and ``hub.service.workers``.
    """
    import uvicorn

    from hub.access import normalize_principal
    from hub.api import scheme_of
    from hub.db.notify import is_postgresql
    from hub.hubs.embedded import EmbeddedHub
    from hub.servables.containment import Containment, describe, probe
    from hub.servables.executors import Executor, LocalExecutor, executor_from
    from hub.service import create_app
    from hub.service.harvests import ScheduledHarvest, load_schedule, parse_every
    from hub.service.settings import ServiceSettings
    from hub.service.workers import ApiConfig
    from hub.service.writer import Writer, serve_workers

    try:
        harvests = [ScheduledHarvest.of_url(u, parse_every(every)) for u in harvest_urls]
        harvests += load_schedule(harvest_config) if harvest_config else []
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    opts = ctx.obj
    if scheme_of(opts["location"]) not in ("", "file"):
        raise click.UsageError("serve a hub folder (--hub DIR), not a hub service's URL")
    allowed = None if "signed-in" in publishers else [normalize_principal(p) for p in publishers]
    from hub.config import HubConfig

    config = HubConfig.load(opts["location"], catalog=catalog, store=store)
    if workers > 1 and not is_postgresql(config.catalog):
        raise click.UsageError(
            f"--workers {workers} needs a PostgreSQL catalog: this hub's is {config.catalog.split(':', 1)[0]}, "
            "which one process only may serve. Move the catalog to PostgreSQL "
            "(serve a new hub folder with --catalog postgresql+psycopg://user@host/db) "
            "or serve with --workers 1"
        )
    runtime: Executor
    if executor:
        runtime = executor_from(executor)
        click.echo(f"servables run on {executor} (the cluster's workers contain what they run)")
    elif servable_containment:
        containment = Containment(require=not allow_uncontained_servables, network=allow_servable_network)
        containment = containment.with_hidden(config.hidden_paths())
        report = probe(containment)
        click.echo(f"servable containment: {describe(report)}")
        for note in report.get("notes", []):
            click.echo(f"  ({note})")
        runtime = LocalExecutor(containment=containment)
    else:
        click.echo(
            "servable containment: OFF (--no-servable-containment): published code runs with this service's rights"
        )
        runtime = LocalExecutor()
    hub = EmbeddedHub(
        opts["location"],
        progress=False,
        catalog=catalog,
        store=store,
        executor=runtime,
        servable_publishers=allowed,
    )
    hub.users.ensure_user(admin, ["admin"])
    if not hub.users.tokens(hub.principal, admin) or token_file:
        token, _ = hub.users.create_token(hub.principal, admin, label="created by matterhub serve")
        if token_file:
            path = Path(token_file)
            path.write_text(token + "\n")
            os.chmod(path, 0o600)
            click.echo(f"admin token for {admin!r} written to {path}")
        else:
            click.echo(f"admin token for {admin!r} (shown once; the hub keeps only its hash):\n  {token}")
    settings = ServiceSettings(
        max_upload_bytes=(max_upload_mb or 0) * 1024 * 1024,
        allow_private_urls=allow_private_urls,
        submission_threads=submission_threads,
        admin=admin,
    )
    for h in harvests:
        click.echo(f"harvesting {h.source} every {h.every:g} s")
    click.echo(
        f"MatterHub {hub.home} serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)"
        + (f"; {workers} API processes, this one ({os.getpid()}) writes" if workers > 1 else "")
    )
    try:
        if workers > 1:
            writer = Writer(hub, runtime, settings, harvests, forward_runs=not executor)
            api = ApiConfig(
                location=str(hub.home),
                catalog=hub.config.catalog,
                store=hub.config.store,
                runs_socket=writer.runs_socket,
                executor=executor or "",
                publishers=None if allowed is None else list(allowed),
                rate_limit=not no_rate_limit,
                settings=dataclasses.asdict(settings),
            )
            serve_workers(writer, api, workers=workers, host=host, port=port, log_level=log_level)
        else:
            app = create_app(hub, settings, rate_limit=not no_rate_limit, harvests=harvests)
            uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=30)
    finally:
        hub.close()
        runtime.close()


@click.group()
def user() -> None:
    """Users and their groups of a shared hub (admins)."""


@user.command("add")
@click.argument("name")
@click.option("--group", "groups", multiple=True, help="A group (repeatable): admin, curators, any lab.")
@click.pass_context
def user_add(ctx: click.Context, name: str, groups: tuple[str, ...]) -> None:
    """Create user NAME (admins); print it as JSON."""
    users, me = _users(ctx)
    click.echo(json.dumps(users.create_user(me, name, groups).to_dict()))


@user.command("list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    """List every user and its groups, one a line (admins)."""
    users, me = _users(ctx)
    for u in users.users(me):
        click.echo(f"{u.name}\t{','.join(u.groups)}")


@user.command("groups")
@click.argument("name")
@click.argument("groups", nargs=-1)
@click.pass_context
def user_groups(ctx: click.Context, name: str, groups: tuple[str, ...]) -> None:
    """Set NAME's groups to GROUPS."""
    users, me = _users(ctx)
    click.echo(json.dumps(users.set_groups(me, name, groups).to_dict()))


@user.command("delete")
@click.argument("name")
@click.option(
    "--transfer-to",
    default=None,
    metavar="OTHER",
    help="Give NAME's datasets, servables, submissions and ACL entries to user OTHER "
    "(default: they stay with the deleted user, whom no one can become).",
)
@click.pass_context
def user_delete(ctx: click.Context, name: str, transfer_to: str | None) -> None:
    """Delete user NAME and revoke its tokens at once (admins).

    A user created later under the same name is someone new: without --transfer-to, NAME's
    things stay with the deleted user and the new one sees none of them.
    """
    users, me = _users(ctx)
    users.delete_user(me, name, transfer_to=transfer_to)
    click.echo(f"deleted {name}" + (f"; what it owned is now {transfer_to}'s" if transfer_to else ""))


@click.group()
def token() -> None:
    """Bearer tokens (stored hashed; a new token is shown once)."""


@token.command("create")
@click.argument("name")
@click.option("--label", default="")
@click.option("--days", type=float, default=None, help="Expire after this many days.")
@click.pass_context
def token_create(ctx: click.Context, name: str, label: str, days: float | None) -> None:
    """Create a token for user NAME (yourself, or anyone for admins); print it once."""
    users, me = _users(ctx)
    expires = _dt.timedelta(days=days) if days else None
    tok, info = users.create_token(me, name, label, expires)
    click.echo(tok)
    click.echo(f"(token {info.id} for {name}; shown once)", err=True)


@token.command("list")
@click.argument("name")
@click.pass_context
def token_list(ctx: click.Context, name: str) -> None:
    """List user NAME's tokens as JSON, one a line (yours, or anyone's for admins)."""
    users, me = _users(ctx)
    for t in users.tokens(me, name):
        click.echo(json.dumps(t.to_dict()))


@token.command("revoke")
@click.argument("token_id")
@click.pass_context
def token_revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke token TOKEN_ID (its user or an admin)."""
    users, me = _users(ctx)
    users.revoke_token(me, token_id)
    click.echo(f"revoked {token_id}")


def openapi_schema() -> dict[str, Any]:
    """The service's OpenAPI schema (what ``openapi.json`` at the repository root holds)."""
    import tempfile

    from hub.hubs.embedded import EmbeddedHub
    from hub.service import create_app

    with tempfile.TemporaryDirectory() as tmp:
        hub = EmbeddedHub(tmp, progress=False)
        try:
            schema: dict[str, Any] = create_app(hub, start_worker=False).openapi()
        finally:
            hub.close()
    return schema


@click.command()
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write here (default stdout)."
)
def openapi(output: str | None) -> None:
    """Print (or write) the service's OpenAPI schema."""
    text = json.dumps(openapi_schema(), indent=2, sort_keys=True) + "\n"
    if output:
        Path(output).write_text(text)
    else:
        click.echo(text, nl=False)


COMMANDS = [serve, user, token, openapi]
