"""Which environment a version needs: the hub's own, or one keyed by what it adds.

A version's pinned requirements either all hold in the hub's environment (it runs
there: no cost, no build) or some do not: then uv resolves those with their
dependencies, the hub's installed versions holding wherever they fit, and the
environment *adds* only the resolved pins the hub does not have at that version
(:func:`plan`).  The environment's key hashes what it adds, the Python (version,
implementation, platform) and the hub's site folders it extends (:func:`key_of`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import platform
import site
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from functools import lru_cache

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from hub.exceptions import RequirementsError
from hub.servables.environments.uv import PackageSource, UvFailed, resolve
from hub.servables.metadata import EnvironmentBlock

#: Bump when the way environments are laid out changes (their keys change with it).
LAYOUT = 1
#: Distributions never installed into an environment (the hub itself comes from its own).
HUB_DISTRIBUTIONS = frozenset({"matterhub"})


@lru_cache(maxsize=1)
def installed() -> dict[str, str]:
    """The hub environment's distributions, ``{canonical name: version}``."""
    out: dict[str, str] = {}
    for dist in md.distributions():
        name = dist.metadata["Name"]
        if name:
            out.setdefault(canonicalize_name(name), dist.version)
    return out


def base_site_dirs() -> tuple[str, ...]:
    """The hub environment's site-packages folders, which every environment extends."""
    return tuple(dict.fromkeys(site.getsitepackages()))


def _parse(line: str) -> Requirement:
    try:
        return Requirement(line)
    except InvalidRequirement as exc:
        raise RequirementsError(
            f"the requirement {line!r} is not a valid requirement ({exc}); write name==version",
            errors=[{"loc": ["dlhub", "requirements"], "requirement": line}],
        ) from None


def _same(have: str, want: str) -> bool:
    try:
        return Version(have) == Version(want)
    except InvalidVersion:
        return have == want


def unmet(requirements: Iterable[str]) -> list[str]:
    """The requirement lines the hub's environment does not satisfy, in order.

    A requirement whose marker does not apply here, or that names the hub itself, is met.

    Raises
    ------
    RequirementsError
        When a line is not a requirement.
    """
    have = installed()
    out: list[str] = []
    for line in requirements:
        req = _parse(line)
        name = canonicalize_name(req.name)
        if name in HUB_DISTRIBUTIONS or (req.marker is not None and not req.marker.evaluate()):
            continue
        version = have.get(name)
        if version is None or not req.specifier.contains(version, prereleases=True):
            out.append(line)
    return out


def key_of(install: Sequence[str]) -> str:
    """The key of the environment adding ``install`` to this hub's (a hash of what changes it)."""
    what = {
        "layout": LAYOUT,
        "python": [platform.python_implementation(), platform.python_version(), sys.abiflags],
        "platform": sysconfig.get_platform(),
        "base": list(base_site_dirs()),
        "install": sorted(install, key=str.lower),
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:24]


def plan(requirements: Sequence[str], source: PackageSource) -> EnvironmentBlock | None:
    """The environment ``requirements`` need, or None where the hub's own meets them all.

    The unmet requirements are resolved with their dependencies (``uv pip compile``: quick,
    nothing installed), first holding every other distribution at the hub's version, else
    freely; the environment adds the resolved pins the hub does not have.

    Raises
    ------
    RequirementsError
        When they cannot be installed from ``source``: the message names the requirements,
        the source tried, and what uv said.
    """
    wanted = unmet(requirements)
    if not wanted:
        return None
    names = {canonicalize_name(_parse(line).name) for line in wanted}
    held = [
        f"{n}=={v}" for n, v in sorted(installed().items()) if n not in names and n not in HUB_DISTRIBUTIONS
    ]
    try:
        try:
            pins = resolve(wanted, held, source)
        except UvFailed:
            pins = resolve(wanted, [], source)  # a pin that needs other versions of the hub's libraries
    except UvFailed as exc:
        raise RequirementsError(
            f"the servable's requirement{'s' if len(wanted) > 1 else ''} {', '.join(wanted)} cannot be "
            f"installed from {source.describe()}: {exc}",
            errors=[
                {"loc": ["dlhub", "requirements"], "requirement": line, "source": source.describe()}
                for line in wanted
            ],
        ) from None
    have = installed()
    install = []
    for pin in pins:
        req = _parse(pin)
        version = next(iter(req.specifier)).version if len(req.specifier) == 1 else None
        current = have.get(canonicalize_name(req.name))
        if current is None or version is None or not _same(current, version):
            install.append(pin)
    if not install:
        return None
    return EnvironmentBlock(key=key_of(install), install=install)
