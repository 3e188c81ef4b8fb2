"""``matterhub harvest``: an OPTIMADE provider's structures as a dataset, from a shell.

``matterhub harvest https://provider.example/ --title "..." [--author ...] [--filter ...]``
is ``hub.submit("optimade+https://provider.example/", ...)``: the first run takes
every structure (matching the filter), each next one only what changed, and makes a
new version only when something did.  Registered on the main group with
:data:`COMMANDS`.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import click

from hub.cli.context import emit, open_hub
from hub.optimade.provider import SCHEME_PREFIX, is_provider
from hub.records.names import organisation


def provider_source(url: str) -> str:
    """``url`` as a harvest source: prefixed ``optimade+`` unless it already is.

    >>> provider_source("https://optimade.example.org/")
    'optimade+https://optimade.example.org/'
    """
    return url if is_provider(url) else SCHEME_PREFIX + url


@click.command()
@click.argument("url")
@click.option("--title", required=True, help="The dataset's title.")
@click.option(
    "--author",
    "authors",
    multiple=True,
    help='An author, "Family, Given" (repeatable; default: the provider, as an organisation).',
)
@click.option("--source-name", default=None, help="Short name (default: a slug of the title).")
@click.option("--group", default=None, help="A group of yours a new source name is claimed for.")
@click.option(
    "--filter", "filter_", default=None, help="The OPTIMADE filter to take, e.g. 'elements HAS \"Si\"'."
)
@click.option(
    "--visible-to", "visible_to", multiple=True, help="public, user:NAME or group:NAME (repeatable)."
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def harvest(
    ctx: click.Context,
    url: str,
    title: str,
    authors: tuple[str, ...],
    source_name: str | None,
    group: str | None,
    filter_: str | None,
    visible_to: tuple[str, ...],
    as_json: bool,
) -> None:
    """Harvest the structures of the OPTIMADE provider at URL (its base URL) as a dataset."""
    hub = open_hub(ctx)
    sub = hub.submit(
        provider_source(url),
        title=title,
        authors=list(authors) or [organisation(urlsplit(url.removeprefix(SCHEME_PREFIX)).hostname or url)],
        source_name=source_name,
        group=group,
        filter=filter_,
        visible_to=list(visible_to) or None,
    )
    emit(sub.to_dict(), as_json, sub.report())
    if not sub.ok:
        sys.exit(1)


#: The commands this module adds to ``matterhub``.
COMMANDS = [harvest]
