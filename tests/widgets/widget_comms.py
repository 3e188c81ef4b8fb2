"""A stand-in for the kernel's comms that keeps every message widgets send (what a browser
would receive), so tests can count them (see conftest.py's ``comm_log``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any


class RecordingComm:
    """Stands in for a kernel comm: keeps every message a widget sends."""

    def __init__(self, log: list[tuple[str, dict[str, Any]]], **kwargs: Any) -> None:
        self.comm_id = kwargs.get("comm_id") or uuid.uuid4().hex
        self.kernel = "recording"  # widgets send only through a comm that has a kernel
        self.log = log
        self.log.append((self.comm_id, {"method": "open", **(kwargs.get("data") or {})}))

    def open(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        self.log.append((self.comm_id, data or {}))

    def on_msg(self, callback: Callable[..., Any]) -> None:
        pass

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass


class CommLog(list[tuple[str, dict[str, Any]]]):
    def updates(self, since: int = 0) -> list[tuple[str, dict[str, Any]]]:
        """The state updates sent after message number ``since``."""
        return [(cid, m) for cid, m in self[since:] if m.get("method") == "update"]

    def opened(self, since: int = 0) -> int:
        return sum(1 for _, m in self[since:] if m.get("method") == "open")
