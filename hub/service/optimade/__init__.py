"""OPTIMADE: the hub's structures through the materials community's standard API.

:mod:`hub.service.optimade.router` (its ``router``, mounted by
:func:`hub.service.create_app` at ``/optimade``) serves ``/optimade/versions`` and
``/optimade/v1/{info,links,structures}``; :func:`search_structures` is what
``Hub.optimade_search`` calls.  Filters are parsed with the ``optimade`` package's
grammar and translated into the hub's own queries (:mod:`.translate`), so the hub's
access rules apply; the index carries the OPTIMADE properties of every structure
(:mod:`hub.optimade_fields`).

Names are imported on first use: searching from Python does not build the web routes,
and :class:`StructureResults` (what the remote client returns) needs no ``optimade``.
(The router is not re-exported here: importing the submodule ``router`` makes the
package attribute of that name the submodule.)
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "search_structures": "hub.service.optimade.search",
    "get_structure": "hub.service.optimade.search",
    "translate": "hub.service.optimade.translate",
    "StructureResults": "hub.service.optimade.results",
}
__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
