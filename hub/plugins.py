"""What every kind of plugin shares (extractors, servable types): loading an
entry point group, where a plugin that fails to load becomes a warning naming
it, not a crash (xarray's backend pattern); and declared imports, whose absence
is an error naming the pip extra to install (papermill's ``iorw`` pattern)."""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import TypeVar

from hub.exceptions import MissingDependencyError

P = TypeVar("P", bound=type)


def load_group(group: str, base: P, what: str) -> dict[str, P]:
    """The classes registered in entry point ``group`` that subclass ``base``, by name."""
    found: dict[str, P] = {}
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin must not break the hub
            warnings.warn(
                f"{what} plugin {ep.name!r} ({ep.value}) failed to load and is skipped: {exc!r}",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        if not (isinstance(cls, type) and issubclass(cls, base)):
            warnings.warn(
                f"{what} plugin {ep.name!r} ({ep.value}) is not a {base.__name__} subclass; skipped.",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        found[ep.name] = cls  # type: ignore[assignment]
    return found


def missing_imports(imports: Sequence[str]) -> list[str]:
    """The modules of ``imports`` that cannot be imported here."""
    return [m for m in imports if importlib.util.find_spec(m.split(".")[0]) is None]


def require_imports(imports: Sequence[str], extra: str | None, who: str) -> None:
    """Raise :class:`MissingDependencyError` naming the extra when a module is missing."""
    missing = missing_imports(imports)
    if missing:
        hint = f"pip install 'matterhub[{extra}]'" if extra else f"pip install {' '.join(missing)}"
        raise MissingDependencyError(
            f"{who} needs {', '.join(missing)}, which is not installed. Please run {hint} to install it."
        )
