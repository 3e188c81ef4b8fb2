"""Which installed distributions a model needs, pinned to their exact versions.

Modules map to distributions through ``importlib.metadata`` (``sklearn`` ->
``scikit-learn``); the standard library and the hub itself are left out.  A
module that is neither installed nor in the standard library is the user's own
code: it is pickled by value into the artifact (see :func:`by_value_modules`).
"""

from __future__ import annotations

import importlib.metadata as md
import sys
import types
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

#: Distributions never pinned (the hub itself is in every worker).
_SKIP = {"matterhub"}


@lru_cache(maxsize=1)
def _module_dists() -> dict[str, list[str]]:
    return {k: list(v) for k, v in md.packages_distributions().items()}


def top_module(name: str) -> str:
    """The top-level package of a dotted module name (``sklearn.linear_model`` -> ``sklearn``)."""
    return name.split(".", 1)[0]


def is_stdlib(module: str) -> bool:
    """Whether ``module``'s top-level package is in the standard library (``builtins`` included)."""
    top = top_module(module)
    return top in sys.stdlib_module_names or top == "builtins"


def is_installed(module: str) -> bool:
    """Whether ``module`` comes from the standard library or an installed distribution."""
    top = top_module(module)
    return is_stdlib(top) or top in _module_dists() or top == "hub"


def distributions_of(modules: Iterable[str]) -> list[str]:
    """The distributions providing ``modules`` (standard library and the hub excluded)."""
    out: set[str] = set()
    table = _module_dists()
    for m in modules:
        top = top_module(m)
        if is_stdlib(top) or top == "hub":
            continue
        out.update(d for d in table.get(top, []) if d.lower() not in _SKIP)
    return sorted(out, key=str.lower)


def pin(distributions: Iterable[str]) -> dict[str, str]:
    """``{distribution: installed version}``; distributions that are not installed are left out."""
    out: dict[str, str] = {}
    for d in distributions:
        try:
            out[md.metadata(d)["Name"] or d] = md.version(d)
        except md.PackageNotFoundError:
            continue
    return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))


def requirement_lines(pins: dict[str, str]) -> list[str]:
    """``requirements.txt`` lines (``name==version``) for the pins of :func:`pin`, in order."""
    return [f"{d}=={v}" for d, v in pins.items()]


def mismatches(requirements: Iterable[str]) -> list[str]:
    """Pinned requirements this environment does not meet, as sentences (for a worker's stderr)."""
    out = []
    for line in requirements:
        name, _, want = line.partition("==")
        try:
            have = md.version(name)
        except md.PackageNotFoundError:
            out.append(f"{name}=={want} is pinned but not installed in this worker")
            continue
        if want and have != want:
            out.append(f"{name}=={want} is pinned; this worker has {have}")
    return out


def by_value_modules(modules: Iterable[str]) -> list[str]:
    """Of ``modules``, those that are the user's own code (not installed): pickled by value."""
    return sorted({m for m in modules if m and not is_installed(m)})


def referenced_modules(fn: Callable[..., Any]) -> set[str]:
    """Modules a function uses: its own, and those of the globals its code names.

    Nested functions and lambdas are followed.  A callable object gives its class's
    module and what its ``__call__`` uses; a bound method, its function's.
    """
    fn = getattr(fn, "__func__", fn)
    if not isinstance(fn, types.FunctionType):
        call = type(fn).__dict__.get("__call__")
        mods = {type(fn).__module__}
        if isinstance(call, types.FunctionType):
            mods |= referenced_modules(call)
        return mods
    found = {fn.__module__} if fn.__module__ else set()
    g = fn.__globals__
    codes = [fn.__code__]
    seen: set[int] = set()
    while codes:
        code = codes.pop()
        if id(code) in seen:
            continue
        seen.add(id(code))
        for name in code.co_names:
            value = g.get(name)
            if isinstance(value, types.ModuleType):
                found.add(value.__name__)
            elif value is not None and hasattr(value, "__module__") and isinstance(value.__module__, str):
                found.add(value.__module__)
        codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return found
