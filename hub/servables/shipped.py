"""Shipped code: the source files a servable packages with it, as a package of its own in a worker.

Layout
    A shipped file keeps the packages it sits in: ``servables/bandgap/features.py``, a module
    of the package ``servables.bandgap``, is packaged as ``code/servables/bandgap/features.py``;
    a file in a plain folder sits at the top (``features.py`` -> ``code/features.py``, the
    layout of every artifact published before packages were kept, so those read the same way).
    See :func:`artifact_path`.

Import
    In a worker, each loaded servable version gets a package of its own,
    ``matterhub_servables.<namespace>`` (:func:`namespace_of`), whose ``__path__`` is its
    unpacked ``code/`` folder: the shipped modules are that package's submodules
    (``matterhub_servables.alice_bandgap_v3_1a2b3c4d5e6f.servables.bandgap.features``), so
    relative imports among them work and nothing joins ``sys.path``.  While the servable loads
    and runs (:meth:`ShippedCode.imports`), the names the publisher imported the modules by
    (``servables.bandgap.features``, ``features``) stand for that servable's copies: a pickled
    model's references to them and the shipped modules' absolute imports of each other find
    them.  Two servables that both ship a ``features.py`` thus each run their own in the same
    long-lived worker.  A shipped module never stands in for the standard library or an
    installed distribution of the same name (as when shipped code came last on ``sys.path``).

A process lends those names to one servable at a time: servables that ship code take turns in
a process that runs several at once (a Dask worker with several threads).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from types import ModuleType

from hub.servables.requirements import is_installed

#: The package every servable's own package sits in.
ROOT_PACKAGE = "matterhub_servables"

#: Held while a servable's names stand for its shipped modules (one servable at a time).
_LENDING = threading.RLock()


def artifact_path(source: Path) -> PurePosixPath:
    """Return where a shipped file goes under the artifact's ``code/`` folder.

    Parameters
    ----------
    source
        The file to ship (absolute).

    Returns
    -------
    PurePosixPath
        The file's name below the folders of the packages holding it (each folder up to the
        first without ``__init__.py``): ``servables/bandgap/features.py`` for a module of the
        package ``servables.bandgap``, ``features.py`` for a file in a plain folder.
    """
    parts = [source.name]
    folder = source.parent
    while folder != folder.parent and folder.name.isidentifier() and (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return PurePosixPath(*parts)


def module_names(code: Path) -> frozenset[str]:
    """Return the module and package names the publisher imported the files under ``code`` by.

    Parameters
    ----------
    code
        An unpacked artifact's ``code/`` folder (none when it does not exist).

    Returns
    -------
    frozenset of str
        ``{"servables", "servables.bandgap", "servables.bandgap.features"}`` for
        ``code/servables/bandgap/features.py``; ``{"features"}`` for ``code/features.py``.
    """
    names: set[str] = set()
    for path in code.rglob("*.py"):
        rel = path.relative_to(code).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        if parts and all(p.isidentifier() for p in parts):
            names.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return frozenset(names)


def namespace_of(key: str) -> str:
    """Return the name of a servable version's package under :data:`ROOT_PACKAGE`.

    Parameters
    ----------
    key
        The worker's key of the servable version (``alice/bandgap@3:1a2b3c4d5e6f``).

    Returns
    -------
    str
        An identifier made of the key: ``alice_bandgap_v3_1a2b3c4d5e6f``.
    """
    slug = re.sub(r"\W+", "_", key.replace("@", "_v")).strip("_") or "servable"
    return f"_{slug}" if slug[0].isdigit() else slug


class ShippedCode:
    """The shipped modules of one loaded servable version, as the package :attr:`package`.

    Parameters
    ----------
    code
        The unpacked artifact's ``code/`` folder (it may not exist: nothing is shipped).
    key
        The worker's key of the servable version (see :func:`namespace_of`).
    """

    def __init__(self, code: Path, key: str) -> None:
        self.folder = code
        #: The names the publisher imported the shipped modules and their packages by (those
        #: of the standard library and of installed distributions stay theirs).
        self.names = frozenset(n for n in module_names(code) if not is_installed(n))
        with _LENDING:
            #: The servable's own package, ``matterhub_servables.<namespace>``.
            self.package = _free_name(f"{ROOT_PACKAGE}.{namespace_of(key)}", [str(code)])
            if self.names:
                _new_package(self.package, [str(code)])

    @contextlib.contextmanager
    def imports(self) -> Iterator[None]:
        """Within, the publisher's names of the shipped modules import this servable's copies.

        Loading the servable (unpickling its model) and running it happen inside; the names
        are given back afterwards, so another servable may ship modules of the same names.
        """
        if not self.names:
            yield
            return
        with _LENDING:
            if _FINDER not in sys.meta_path:
                sys.meta_path.insert(0, _FINDER)
            lent = {name: sys.modules.pop(name) for name in self.names if name in sys.modules}
            previous, _FINDER.lender = _FINDER.lender, self
            try:
                yield
            finally:
                _FINDER.lender = previous
                for name in self.names:
                    sys.modules.pop(name, None)
                sys.modules.update(lent)

    def forget(self) -> None:
        """Drop the servable's package and modules from ``sys.modules`` (it is no longer loaded)."""
        prefix = self.package + "."
        with _LENDING:
            for name in [n for n in list(sys.modules) if n == self.package or n.startswith(prefix)]:
                del sys.modules[name]
            root = sys.modules.get(ROOT_PACKAGE)
            if root is not None:
                root.__dict__.pop(self.package.rpartition(".")[2], None)


class _Alias(importlib.abc.Loader):
    """Loads a publisher's name as the servable's own module (which replaces it in ``sys.modules``)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        # the import system returns what sys.modules holds under the name after this
        sys.modules[module.__name__] = importlib.import_module(self.target)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the publisher's names of the shipped modules of the servable that holds them now."""

    def __init__(self) -> None:
        self.lender: ShippedCode | None = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        shipped = self.lender
        if shipped is None or fullname not in shipped.names:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(f"{shipped.package}.{fullname}"))


#: Installed at the front of ``sys.meta_path`` on first use: shipped names win while lent.
_FINDER = _Finder()


def _new_package(name: str, path: list[str]) -> ModuleType:
    """Get or create (with its parents) the package ``name`` whose submodules are in ``path``."""
    held = sys.modules.get(name)
    if held is not None:
        return held
    parent, _, child = name.rpartition(".")
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if parent:
        setattr(_new_package(parent, []), child, module)
    return module


def _free_name(name: str, path: list[str]) -> str:
    """``name``, or ``name_2``, ``name_3``, ... when a package of another folder holds it."""
    candidate, n = name, 1
    while (held := sys.modules.get(candidate)) is not None and list(getattr(held, "__path__", [])) != path:
        n += 1
        candidate = f"{name}_{n}"
    return candidate
