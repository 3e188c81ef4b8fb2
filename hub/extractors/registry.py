"""Finding extractors.

Every extractor, built-in or third-party, is an entry point in the group
``matterhub.extractors`` (xarray's backend plugin pattern).  A plugin that fails to
load becomes a warning naming it, not a crash.
"""

from __future__ import annotations

from functools import lru_cache

from hub.exceptions import NotFoundError
from hub.extractors.base import Extractor
from hub.plugins import load_group

GROUP = "matterhub.extractors"


@lru_cache(maxsize=1)
def extractor_classes() -> dict[str, type[Extractor]]:
    """Every registered extractor class by name (cached)."""
    return load_group(GROUP, Extractor, "Extractor")


def get_extractor(name: str) -> Extractor:
    """A new instance of the extractor registered as ``name``.

    Raises
    ------
    NotFoundError
        When no extractor has that name; the message lists the installed ones.
    """
    classes = extractor_classes()
    if name not in classes:
        raise NotFoundError(
            f"No extractor named {name!r}. Installed extractors: {', '.join(sorted(classes)) or 'none'}."
        )
    return classes[name]()


def available_extractors(names: list[str] | None = None) -> list[Extractor]:
    """Instances of the extractors that can run here (their imports are installed)."""
    classes = extractor_classes()
    chosen = names if names is not None else sorted(classes)
    return [classes[n]() for n in chosen if n in classes and classes[n].available()]
