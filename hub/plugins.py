"""What every kind of plugin shares (extractors, servable types, hub implementations).

Loading an entry point group, where a plugin that fails to load becomes a warning
naming it, not a crash (xarray's backend pattern); and declared imports, whose
absence is an error naming the pip extra to install (papermill's ``iorw`` pattern).
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from collections.abc import Sequence
from importlib import metadata
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


#: Import names whose distribution on PyPI is named differently.
_DISTRIBUTION_OF_MODULE = {
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "rsciio": "rosettasciio",
    "multipart": "python-multipart",
    "mdf_forge": "mdf-forge",
    "globus_sdk": "globus-sdk",
}
#: The extra each optional part of the package needs, for a module it pulls in indirectly
#: (``tornado`` through JupyterLab's server, say); the longest matching prefix wins.
_EXTRA_OF_PART = {
    "hub.service": "service",
    "hub.widgets": "widgets",
    "hub.widgets.jupyterlab": "lab",
    "hub.notebooks": "notebooks",
    "hub.servables.keras": "models",
    "hub.servables.sklearn": "models",
    "hub.servables.executors": "dask",
    "hub.extractors.microscopy": "microscopy",
    "hub.formats.microscopy": "microscopy",
    "hub.catalog.microscopy": "microscopy",
}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def extra_providing(module: str) -> str | None:
    """The extra of ``matterhub`` whose requirements install top-level module ``module``, or None.

    Read from the installed package's own metadata; None as well when MatterHub runs
    from a source tree that is not installed.
    """
    top = module.split(".")[0]
    wanted = _canonical(_DISTRIBUTION_OF_MODULE.get(top, top))
    try:
        requires = metadata.requires("matterhub") or []
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return None
    for req in requires:
        found = re.match(r"\s*([A-Za-z0-9_.-]+).*;.*extra\s*==\s*['\"]([^'\"]+)['\"]", req)
        if found and _canonical(found[1]) == wanted and found[2] != "all":
            return found[2]
    return None


def _extra_of_caller(exc: BaseException) -> str | None:
    """The extra of the innermost MatterHub module in ``exc``'s traceback that has one."""
    extra = None
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        parts = [p for p in _EXTRA_OF_PART if module == p or module.startswith(p + ".")]
        if parts:
            extra = _EXTRA_OF_PART[max(parts, key=len)]
        tb = tb.tb_next
    return extra


def missing_dependency(exc: ModuleNotFoundError, who: str) -> MissingDependencyError | None:
    """``exc``, an optional package that is not installed, as an error naming the extra to install.

    ``who`` names what needs the package, in the message.  None when the missing module
    is MatterHub's own (a broken install, not a missing extra).
    """
    name = (exc.name or "").split(".")[0]
    if not name or name == "hub":
        return None
    extra = extra_providing(name) or _extra_of_caller(exc)
    hint = f"pip install 'matterhub[{extra}]'" if extra else f"pip install {name}"
    return MissingDependencyError(
        f"{who} needs {name}, which is not installed. Please run {hint} to install it.",
        module=name,
        extra=extra,
    )
