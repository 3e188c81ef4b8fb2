"""Which hub a dashboard opens, and the parameters its URL carries.

A dashboard opens ``$MATTERHUB_URL`` (a remote hub, with ``$MATTERHUB_TOKEN``) when it is
set, else the embedded hub in ``$MATTERHUB_HOME`` (``Hub()``'s default);
``$MATTERHUB_USER`` and ``$MATTERHUB_GROUPS`` (comma-separated) make an embedded hub act as
that principal.  Voila passes a page's query string to its kernel as ``$QUERY_STRING``, so
``search.ipynb?q=material.elements:Co`` opens the search dashboard on that query.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from hub.api import HubAPI


def open_hub(environ: Mapping[str, str] | None = None) -> HubAPI:
    """The hub a dashboard works on, chosen by environment variables (see the module docstring)."""
    from hub import Hub

    env = os.environ if environ is None else environ
    url = env.get("MATTERHUB_URL")
    if url:
        return Hub(url, token=env.get("MATTERHUB_TOKEN") or None, progress=False)
    user = env.get("MATTERHUB_USER") or None
    groups = [g.strip() for g in env.get("MATTERHUB_GROUPS", "").split(",") if g.strip()]
    return Hub(env.get("MATTERHUB_HOME") or None, user=user, groups=groups or None, progress=False)


def page_parameters(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The page's URL parameters (``?q=...&source_id=...``): the last value of each name."""
    env = os.environ if environ is None else environ
    parsed = parse_qs(env.get("QUERY_STRING", ""), keep_blank_values=False)
    return {k: v[-1] for k, v in parsed.items() if v}
