"""Pickling models and functions into an artifact with cloudpickle.

Objects from installed libraries are pickled by reference (the worker imports
the same library); the user's own modules (a notebook's ``__main__``, a script
next to the model) are pickled by value, so the artifact runs without them.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hub.exceptions import MissingDependencyError


def _cloudpickle() -> Any:
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - cloudpickle comes with the models extra
        raise MissingDependencyError(
            "The cloudpickle optional dependency is missing. "
            "Please run pip install 'matterhub[models]' to install it."
        ) from None
    return cloudpickle


def dump(obj: Any, path: Path, by_value: Iterable[str] = ()) -> None:
    """Write ``obj`` to ``path``, the modules ``by_value`` (and ``__main__``) pickled by value."""
    cp = _cloudpickle()
    registered = []
    try:
        for name in by_value:
            module = sys.modules.get(name)
            if module is not None and name != "__main__":
                try:
                    cp.register_pickle_by_value(module)
                    registered.append(module)
                except ValueError:
                    pass  # already registered
        with open(path, "wb") as f:
            cp.dump(obj, f, protocol=5)
    finally:
        for module in registered:
            try:
                cp.unregister_pickle_by_value(module)
            except ValueError:
                pass


def load(path: Path) -> Any:
    """The object pickled in ``path`` (by :func:`dump`).

    Unpickling runs whatever code the pickle names, so load only artifacts you trust;
    the libraries it was pickled with by reference must be importable.
    """
    with open(path, "rb") as f:
        return pickle.load(f)
