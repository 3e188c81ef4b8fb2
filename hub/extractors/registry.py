"""Finding extractors: every extractor, built-in or third-party, is an entry
point in the group ``matterhub.extractors`` (xarray's backend plugin pattern).
A plugin that fails to load becomes a warning naming it, not a crash."""

from __future__ import annotations

import warnings
from functools import lru_cache
from importlib.metadata import entry_points

from hub.exceptions import NotFoundError
from hub.extractors.base import Extractor

GROUP = "matterhub.extractors"


@lru_cache(maxsize=1)
def extractor_classes() -> dict[str, type[Extractor]]:
    """Every registered extractor class by name (cached)."""
    found: dict[str, type[Extractor]] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin must not break the hub
            warnings.warn(
                f"Extractor plugin {ep.name!r} ({ep.value}) failed to load and is skipped: {exc!r}",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        if not (isinstance(cls, type) and issubclass(cls, Extractor)):
            warnings.warn(
                f"Extractor plugin {ep.name!r} ({ep.value}) is not an Extractor subclass; skipped.",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        found[ep.name] = cls
    return found


def get_extractor(name: str) -> Extractor:
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
