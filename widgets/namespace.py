"""Handing objects from a panel to the notebook the panel lives in."""

from __future__ import annotations

import keyword
from typing import Any


def valid_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def push(name: str, value: Any) -> bool:
    """Bind ``name`` to ``value`` in the running IPython kernel's namespace.

    Returns False (and binds nothing) outside IPython.  Raises ValueError for a name that
    is not a Python identifier.
    """
    if not valid_name(name):
        raise ValueError(f"{name!r} is not a Python variable name; use letters, digits and _")
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.push({name: value}, interactive=True)
    return True
