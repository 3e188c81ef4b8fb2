"""Lanes: searches run in their own small thread lane.

A burst of searches then cannot fill the server's thread pool and hold up servable
runs, file reads or submissions queued behind them.  Searches are CPU-bound: more of
them at once than there are cores adds latency, not throughput.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")

_search_limiter: anyio.CapacityLimiter | None = None


def search_lane_size() -> int:
    """How many searches run at once: ``MATTERHUB_SERVICE_SEARCH_THREADS``, else the cores (at least 2)."""
    value = os.environ.get("MATTERHUB_SERVICE_SEARCH_THREADS")
    return int(value) if value else max(2, os.cpu_count() or 2)


def _limiter() -> anyio.CapacityLimiter:
    global _search_limiter
    if _search_limiter is None:  # made in the event loop that first needs it
        _search_limiter = anyio.CapacityLimiter(search_lane_size())
    return _search_limiter


async def in_search_lane(fn: Callable[..., T], *args: Any) -> T:
    """The result of ``fn(*args)``, run in a worker thread of the search lane.

    Waits for a free place in the lane (:func:`search_lane_size` at once); what ``fn``
    raises is raised here.
    """
    return await anyio.to_thread.run_sync(fn, *args, limiter=_limiter())
