"""Dispatch hooks: what follows a dataset's change once the catalog has committed it.

The catalog is the truth; whatever is derived from it (the search index of the
embedded hub) follows each change through a hook.  Connect calls every hook's
:meth:`~DispatchHook.prepare` before a catalog transaction that changes a dataset
name (a hook writes its write-ahead note there), :meth:`~DispatchHook.dispatch`
after the transaction committed, and :meth:`~DispatchHook.abandon` when it did not.

A hook never decides whether a change happened: a submission is reported done once
its transaction committed, and a hook that fails afterwards only leaves its derived
copy behind (a warning says so), to be rebuilt from the catalog.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol


class DispatchHook(Protocol):
    """Something derived from the catalog that follows every change of a dataset name."""

    def prepare(self, source_name: str) -> None:
        """``source_name`` is about to change in the catalog (called before the transaction).

        An exception here stops the change before anything is written.
        """

    def dispatch(self, source_name: str) -> None:
        """Bring the derived copy up to date: the change to ``source_name`` committed."""

    def abandon(self, source_name: str) -> None:
        """Forget the change announced by :meth:`prepare`: it was not committed."""


class Dispatcher:
    """Calls the registered hooks, in order, around each change of a dataset name.

    Parameters
    ----------
    hooks
        The hooks to call (the embedded hub registers its search index).
    """

    def __init__(self, hooks: Sequence[DispatchHook] = ()) -> None:
        self.hooks = tuple(hooks)

    def prepare(self, source_name: str) -> None:
        """Announce a change to every hook; if one refuses, the ones already told forget it."""
        told: list[DispatchHook] = []
        try:
            for hook in self.hooks:
                hook.prepare(source_name)
                told.append(hook)
        except BaseException:
            for hook in told:
                hook.abandon(source_name)
            raise

    def dispatch(self, source_name: str) -> None:
        """Tell every hook the change committed; a hook's failure is a warning, never an error."""
        for hook in self.hooks:
            try:
                hook.dispatch(source_name)
            except Exception as exc:  # the change is durable: a derived copy can be rebuilt
                warnings.warn(
                    f"the dispatch hook {hook!r} failed after {source_name} was committed ({exc!r}); "
                    "the catalog holds the change, rebuild what the hook keeps from it",
                    RuntimeWarning,
                    stacklevel=2,
                )

    def abandon(self, source_name: str) -> None:
        """Tell every hook the announced change was not committed."""
        for hook in self.hooks:
            hook.abandon(source_name)

    @contextmanager
    def changing(self, source_name: str) -> Iterator[None]:
        """Wrap one catalog transaction that changes ``source_name``.

        The hooks prepare before the block, dispatch when it finished (the transaction
        committed) and abandon when it raised.
        """
        self.prepare(source_name)
        try:
            yield
        except BaseException:
            self.abandon(source_name)
            raise
        self.dispatch(source_name)
