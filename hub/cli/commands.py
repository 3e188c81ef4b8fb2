"""The ``matterhub`` group and its data commands (Connect, Publish, Discover).

Every listing or showing command takes ``--json`` for scripts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hub.cli.context import emit, open_hub, warn
from hub.cli.errors import USAGE, exit_status, fail, file_error_line, read_text, usage_line
from hub.exceptions import HubError, NotFoundError

if TYPE_CHECKING:
    from hub.api import HubAPI


class _Group(click.Group):
    """Turns the errors a user makes into one line on stderr, never a traceback.

    A user's mistake exits with status 2 (:data:`~hub.cli.errors.USAGE`): a bad argument or
    option (the line ends with the command's usage), a :class:`~hub.exceptions.HubError`
    about what was asked (bad input, unknown id, bad query), a file that cannot be read or
    written.  A refusal (not signed in, not allowed) and a failure of the hub exit with 1.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            fail(usage_line(exc), USAGE)
        except HubError as exc:
            fail(exc.message, exit_status(exc))
        except OSError as exc:
            if exc.filename is None:
                raise
            fail(file_error_line(exc), USAGE)
        except ModuleNotFoundError as exc:  # a command of an extra that is not installed
            from hub.plugins import missing_dependency

            missing = missing_dependency(exc, f"matterhub {ctx.invoked_subcommand or ''}".rstrip())
            if missing is None:
                raise
            fail(missing.message, 1)


@click.group(cls=_Group)
@click.option(
    "--hub",
    "location",
    envvar="MATTERHUB_HOME",
    default=None,
    help="Hub folder (default $MATTERHUB_HOME or ~/.matterhub).",
)
@click.option("--user", default=None, help="Act as this user (default: the hub's local owner).")
@click.option("--group", "groups", multiple=True, help="A group of the user (repeatable).")
@click.option(
    "--token",
    envvar="MATTERHUB_TOKEN",
    default=None,
    help="Bearer token: act as its user (for --hub http://..., the remote service).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.version_option(package_name="matterhub")
@click.pass_context
def main(
    ctx: click.Context,
    location: str | None,
    user: str | None,
    groups: tuple[str, ...],
    token: str | None,
    quiet: bool,
) -> None:
    """MatterHub: a data and model hub for materials science.

    ``--hub`` is a folder (the embedded hub) or the URL of a hub service.
    """
    ctx.ensure_object(dict)
    ctx.obj.update(location=location, user=user, groups=groups, token=token, quiet=quiet)


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the hub folder (catalog, blob store) if it does not exist."""
    from hub.hubs.embedded import EmbeddedHub

    hub = open_hub(ctx)
    if isinstance(hub, EmbeddedHub):
        click.echo(f"hub ready at {hub.home} (catalog {hub.config.catalog}, store {hub.config.store})")
    else:
        click.echo(f"hub service at {hub.home} ({hub.info()['datasets']} datasets you may see)")


def _load_mapping(value: str | None) -> dict[str, str] | None:
    if not value:
        return None
    path = Path(value)
    text = read_text(value, "--mapping") if path.exists() else value
    expected = (
        """give a JSON/YAML object such as '{"material.composition": "formula"}' or a file holding one"""
    )
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError:
        import yaml

        try:
            mapping = yaml.safe_load(text)
        except yaml.YAMLError:
            raise click.BadParameter(
                f"{value!r} is neither JSON nor YAML; {expected}", param_hint="--mapping"
            ) from None
    if not isinstance(mapping, dict):
        raise click.BadParameter(expected, param_hint="--mapping")
    return {str(k): str(v) for k, v in mapping.items()}


@main.command()
@click.argument("source", required=False)
@click.option("--title", help="Dataset title (required unless --retry).")
@click.option("--author", "authors", multiple=True, help='An author, "Family, Given" (repeatable).')
@click.option("--affiliation", "affiliations", multiple=True, help="Affiliation of the authors (repeatable).")
@click.option("--source-name", default=None, help="Short name (default: a slug of the title).")
@click.option("--group", default=None, help="A group of yours a new source name is claimed for.")
@click.option(
    "--filter", "filter_", default=None, help="For an optimade+ source: the OPTIMADE filter to harvest."
)
@click.option(
    "--copy/--no-copy",
    "copy",
    default=True,
    help="--no-copy: publish by reference (the files stay at SOURCE; the hub keeps sha256, size, URL).",
)
@click.option("--description", default=None)
@click.option("--license", "license_", default=None)
@click.option("--doi", "related_dois", multiple=True, help="A related DOI (repeatable).")
@click.option("--tag", "tags", multiple=True)
@click.option("--mapping", default=None, help="JSON/YAML mapping or a file holding one.")
@click.option(
    "--partial",
    is_flag=True,
    help="Publish the records the mapping fits even when it names a column some file lacks.",
)
@click.option(
    "--visible-to", "visible_to", multiple=True, help="public, user:NAME or group:NAME (repeatable)."
)
@click.option("--curate", is_flag=True, help="Wait for a curator before publishing.")
@click.option("--retry", "retry_id", default=None, help="Retry a failed or interrupted submission by id.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def submit(
    ctx: click.Context,
    source: str | None,
    title: str | None,
    authors: tuple[str, ...],
    affiliations: tuple[str, ...],
    source_name: str | None,
    group: str | None,
    filter_: str | None,
    copy: bool,
    description: str | None,
    license_: str | None,
    related_dois: tuple[str, ...],
    tags: tuple[str, ...],
    mapping: str | None,
    partial: bool,
    visible_to: tuple[str, ...],
    curate: bool,
    retry_id: str | None,
    as_json: bool,
) -> None:
    """Submit SOURCE (a file, folder, archive or URL) as a dataset; optimade+https://PROVIDER/ harvests one."""
    hub = open_hub(ctx)
    if retry_id:
        sub = hub.retry(retry_id)
    else:
        if not source or not title or not authors:
            raise click.UsageError("submit needs SOURCE, --title and at least one --author (or --retry ID)")
        sub = hub.submit(
            source,
            title=title,
            authors=list(authors),
            affiliations=list(affiliations),
            source_name=source_name,
            group=group,
            filter=filter_,
            copy=copy,
            description=description,
            license=license_,
            related_dois=list(related_dois),
            tags=list(tags),
            mapping=_load_mapping(mapping),
            partial=partial,
            visible_to=list(visible_to) or None,
            curate=curate,
        )
    emit(sub.to_dict(), as_json, sub.report())
    if not sub.ok:
        sys.exit(1)


@main.command()
@click.argument("submission_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status(ctx: click.Context, submission_id: str | None, as_json: bool) -> None:
    """Show a submission (or list yours)."""
    hub = open_hub(ctx)
    if submission_id:
        sub = hub.submission(submission_id)
        emit(sub.to_dict(), as_json, sub.report())
        return
    subs = hub.submissions()
    emit(
        [s.to_dict() for s in subs],
        as_json,
        "\n".join(
            f"{s.id}  {s.status:<16} {s.source_id or s.source_name}  errors={len(s.errors)}" for s in subs
        )
        or "no submissions",
    )


@main.command()
@click.option("--all-versions", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def datasets(ctx: click.Context, all_versions: bool, as_json: bool) -> None:
    """List the datasets you may see."""
    rows = [d.to_dict() for d in open_hub(ctx).datasets(all_versions=all_versions)]
    lines = [
        f"{r['source_id']:<40} {r['files']:>6} files {r['records']:>8} records  {r['status']:<16} {r['title']}"
        for r in rows
    ]
    emit(rows, as_json, "\n".join(lines) or "no datasets")


@main.command()
@click.argument("ident")
@click.option("--records", "show_records", is_flag=True, help="Include the records.")
@click.option("--datacite", is_flag=True, help="Print the DataCite JSON of the version.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, ident: str, show_records: bool, datacite: bool, as_json: bool) -> None:
    """Show a dataset (source_id or source_name), a record (record_id) or a servable (owner/NAME)."""
    hub = open_hub(ctx)
    try:
        ds = hub.dataset(ident)
    except NotFoundError:
        _show_record_or_servable(hub, ident, as_json)
        return
    if datacite:
        emit(ds.datacite(), True, "")
        return
    data: dict[str, Any] = {**ds.to_dict(), "metadata": ds.metadata, "files": ds.files()}
    if show_records:
        data["records"] = ds.records()
    text = [
        f"{ds.source_id}: {ds.title}",
        f"  status {ds.status}, owner {ds.owner}, root hash {ds.root_hash}",
        f"  {ds.n_files} files, {ds.n_records} records, {ds.total_size:,} bytes",
    ]
    text += [f"  {f['path']}  {f['length']:,} B  {f['mime_type']}" for f in data["files"][:50]]
    if len(data["files"]) > 50:
        text.append(f"  ... {len(data['files']) - 50} more files")
    emit(data, as_json, "\n".join(text))


def _show_record_or_servable(hub: HubAPI, ident: str, as_json: bool) -> None:
    """``matterhub show`` of an id that is no dataset: the record, else the servable, else why not."""
    from hub.servables.cli import servable_text

    try:
        emit(hub.record(ident), True, "")
        return
    except NotFoundError:
        pass
    try:
        info = hub.servable(ident)
    except NotFoundError:
        raise NotFoundError(
            f"no dataset, record or servable {ident!r} that you may see; `matterhub datasets`, "
            "`matterhub search QUERY` and `matterhub servables` list them"
        ) from None
    emit(info.to_dict(), as_json, servable_text(info))


@main.command()
@click.argument("ident")
@click.argument("dest", type=click.Path())
@click.option("--path", "paths", multiple=True, help="Only this file (repeatable).")
@click.pass_context
def download(ctx: click.Context, ident: str, dest: str, paths: tuple[str, ...]) -> None:
    """Download a dataset's files into DEST, verifying every sha256."""
    out = open_hub(ctx).download(ident, dest, paths=list(paths) or None)
    click.echo(f"{len(out)} files written under {dest}, every sha256 verified")


@main.command()
@click.argument("ident")
@click.option("--title", default=None)
@click.option("--description", default=None)
@click.option("--visible-to", "visible_to", multiple=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def update(
    ctx: click.Context,
    ident: str,
    title: str | None,
    description: str | None,
    visible_to: tuple[str, ...],
    as_json: bool,
) -> None:
    """Make a new version with changed metadata (no file is copied)."""
    changes: dict[str, Any] = {k: v for k, v in {"title": title, "description": description}.items() if v}
    if visible_to:
        changes["visible_to"] = list(visible_to)
    ds = open_hub(ctx).update_metadata(ident, **changes)
    emit(ds.to_dict(), as_json, f"new version {ds.source_id}")


@main.command()
@click.argument("action", type=click.Choice(["list", "accept", "reject"]))
@click.argument("submission_id", required=False)
@click.option("--reason", default="", help="Why (shown to the submitter).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def curate(ctx: click.Context, action: str, submission_id: str | None, reason: str, as_json: bool) -> None:
    """List, accept or reject submissions waiting for curation."""
    hub = open_hub(ctx)
    if action == "list":
        subs = hub.pending_curation()
        emit(
            [s.to_dict() for s in subs],
            as_json,
            "\n".join(f"{s.id}  {s.source_id}  by {s.owner}" for s in subs) or "nothing waiting",
        )
        return
    if not submission_id:
        raise click.UsageError(f"curate {action} needs a SUBMISSION_ID")
    sub = hub.curate(submission_id, accept=action == "accept", reason=reason)
    emit(sub.to_dict(), as_json, sub.report())


@main.command()
@click.argument("query", default="*")
@click.option("--facet", "facets", multiple=True, help="A field to count values of (repeatable).")
@click.option("--filter", "filters", multiple=True, help="Drill down: FIELD=VALUE (repeatable).")
@click.option("--limit", default=10, show_default=True)
@click.option("--offset", default=0, show_default=True)
@click.option("--sort", default=None, help="A field path; -path for descending.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(["record", "dataset"]))
@click.option("--all", "scroll_all", is_flag=True, help="Every hit (no limit), as JSON lines.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    facets: tuple[str, ...],
    filters: tuple[str, ...],
    limit: int,
    offset: int,
    sort: str | None,
    kinds: tuple[str, ...],
    scroll_all: bool,
    as_json: bool,
) -> None:
    """Search records and datasets with a Lucene-style QUERY."""
    hub = open_hub(ctx)
    drill: dict[str, list[str]] = {}
    for f in filters:
        if "=" not in f:
            raise click.BadParameter(f"--filter takes FIELD=VALUE, got {f!r}")
        key, value = f.split("=", 1)
        drill.setdefault(key, []).append(value)
    if scroll_all:
        for hit in hub.scroll(query, filters=drill or None, kinds=list(kinds) or None):
            click.echo(json.dumps({"id": hit.id, "document": hit.document}, default=str))
        return
    res = hub.search(
        query,
        facets=list(facets),
        filters=drill or None,
        limit=limit,
        offset=offset,
        sort=sort,
        kinds=list(kinds) or None,
    )
    lines = [f"{res.total} results for {query!r} (showing {offset + 1}-{offset + len(res.hits)})"]
    for h in res.hits:
        doc = h.document
        title = (doc.get("dc") or {}).get("titles", [{}])[0].get("title") or ", ".join(
            f["path"] for f in doc.get("files", [])[:2]
        )
        composition = (doc.get("material") or {}).get("composition", "")
        lines.append(f"  {h.id:<42} {composition:<14} {title}")
    for name, facet in res.facets.items():
        lines.append(f"facet {name}:")
        lines += [f"  {b['value']!s:<24} {b['count']}" for b in facet["buckets"]]
        if facet.get("other"):
            lines.append(f"  (other values)            {facet['other']}")
    emit(res.to_dict(), as_json, "\n".join(lines))
    warn(res.warnings)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def fields(ctx: click.Context, as_json: bool) -> None:
    """The searchable fields of what you may see, with their types and counts."""
    data = open_hub(ctx).fields()
    emit(
        data,
        as_json,
        "\n".join(
            f"{path:<50} " + ", ".join(f"{t} {n}" for t, n in types.items()) for path, types in data.items()
        ),
    )


@main.group()
def index() -> None:
    """The search index (derived from the catalog)."""


@index.command("rebuild")
@click.pass_context
def index_rebuild(ctx: click.Context) -> None:
    """Rebuild the search index from the catalog."""
    n = open_hub(ctx).rebuild_index()
    click.echo(f"index rebuilt: {n} documents")


@main.command()
@click.argument("ident")
@click.pass_context
def verify(ctx: click.Context, ident: str) -> None:
    """Check every blob of a dataset version against its sha256."""
    bad = open_hub(ctx).verify(ident)
    if bad:
        click.echo("corrupt or missing: " + ", ".join(bad), err=True)
        sys.exit(1)
    click.echo("every file verifies")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def extractors(ctx: click.Context, as_json: bool) -> None:
    """List the installed extractors and what they read."""
    rows = open_hub(ctx).extractors()
    emit(
        rows,
        as_json,
        "\n".join(
            f"{r['name']:<14} {'ok ' if r['available'] else 'n/a'} {', '.join(r['patterns'])[:50]:<50} {r['description']}"
            for r in rows
        ),
    )


@main.command()
@click.option(
    "--data",
    "data_dir",
    default=None,
    type=click.Path(),
    help="Real data mirror to ingest too (default: $MATTERHUB_MIRROR or ../shared/data when present).",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def demo(ctx: click.Context, data_dir: str | None, as_json: bool) -> None:
    """Build a demo hub from data this machine has, and show what it holds."""
    from hub.cli.demo import build_demo

    report = build_demo(
        open_hub(ctx), data_dir=Path(data_dir) if data_dir else None, echo=None if as_json else click.echo
    )
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))


@main.command()
@click.option("--port", default=8866, show_default=True, help="Loopback port of the Voila server.")
@click.option("--open", "open_browser", is_flag=True, help="Open the search dashboard in a browser.")
@click.pass_context
def dashboards(ctx: click.Context, port: int, open_browser: bool) -> None:
    """Serve the Voila dashboards (search, publish, servables) over this hub until Ctrl-C."""
    from hub.plugins import require_imports

    require_imports(["voila", "ipywidgets"], "widgets", "matterhub dashboards")
    from hub.config import default_home
    from hub.widgets.serve import serve_dashboards

    o = ctx.obj
    sys.exit(
        serve_dashboards(
            o["location"] or str(default_home()),
            port,
            open_browser,
            token=o["token"],
            user=o["user"],
            groups=list(o["groups"]),
        )
    )


from hub.connect.cli import COMMANDS as _CONNECT_COMMANDS  # noqa: E402
from hub.db.cli import COMMANDS as _DB_COMMANDS  # noqa: E402
from hub.notebooks.cli import COMMANDS as _NOTEBOOK_COMMANDS  # noqa: E402
from hub.servables.cli import COMMANDS as _SERVABLE_COMMANDS  # noqa: E402
from hub.servables.environments.cli import COMMANDS as _ENV_COMMANDS  # noqa: E402
from hub.service.cli import COMMANDS as _SERVICE_COMMANDS  # noqa: E402

for _command in [
    *_CONNECT_COMMANDS,
    *_SERVABLE_COMMANDS,
    *_ENV_COMMANDS,
    *_NOTEBOOK_COMMANDS,
    *_SERVICE_COMMANDS,
    *_DB_COMMANDS,
]:
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
