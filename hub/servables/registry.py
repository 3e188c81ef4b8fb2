"""Finding servable types.

Every type, built-in or third-party, is an entry point in the group
``matterhub.servables`` (the pattern of xarray's backends).  A plugin that fails to
load becomes a warning naming it, not a crash.
"""

from __future__ import annotations

from functools import lru_cache

from hub.exceptions import NotFoundError
from hub.plugins import load_group
from hub.servables.base import ServableType

GROUP = "matterhub.servables"


@lru_cache(maxsize=1)
def servable_types() -> dict[str, type[ServableType]]:
    """Every registered servable type class by name, in describe order (cached)."""
    found = load_group(GROUP, ServableType, "Servable type")
    return dict(sorted(found.items(), key=lambda kv: (kv[1].priority, kv[0])))


def get_type(name: str) -> ServableType:
    """An instance of the servable type ``name``; the error lists the installed ones."""
    classes = servable_types()
    if name not in classes:
        raise NotFoundError(
            f"No servable type named {name!r}. Installed types: {', '.join(classes) or 'none'} "
            f"(types register in the entry point group {GROUP!r})."
        )
    return classes[name]()


def type_for_shim(shim: str) -> str | None:
    """The type whose DLHub shim is ``shim`` (``sklearn.ScikitLearnServable``), if any."""
    for name, cls in servable_types().items():
        if cls.shim and cls.shim.lower() == shim.lower():
            return name
    return None
