"""What ``run(..., asynchronous=True)`` returns and ``task(id)`` reports."""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hub.exceptions import HubError
from hub.servables.codec import from_json, to_json
from hub.servables.request import error_from


class TaskStatus(StrEnum):
    """Where a task is: waiting, running, or done (completed or failed)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def done(self) -> bool:
        """Completed or failed."""
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED)


@dataclass
class Task:
    """An asynchronous run: ``status`` is pending, running, completed or failed.

    ``result`` holds the outputs once completed; ``error`` (``kind``: error,
    memory, timeout or crash; ``exc_type``, ``message``, ``traceback``) once
    failed; ``timings`` the queue, load and run times in ms; ``stdout`` and
    ``stderr`` what the servable printed.
    """

    id: str
    servable: str
    version: int
    status: TaskStatus
    result: Any = None
    error: dict[str, Any] | None = None
    timings: dict[str, Any] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    batch: bool = False
    cached: bool = False
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None
    _refresh: Callable[[str], Task] | None = field(default=None, repr=False, compare=False)
    _wait: Callable[[str, float | None], None] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.status = TaskStatus(self.status)

    @property
    def done(self) -> bool:
        """Completed or failed."""
        return self.status.done

    def refresh(self) -> Task:
        """The task updated in place to what the catalog has now; returns it."""
        if self._refresh is None:
            return self
        fresh = self._refresh(self.id)
        self.__dict__.update({k: v for k, v in fresh.__dict__.items() if not k.startswith("_")})
        return self

    def wait(self, timeout: float | None = None, poll: float = 0.05) -> Task:
        """Block until the task is done (or ``timeout`` seconds pass); returns it refreshed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._wait is not None:
            self._wait(self.id, timeout)
        while not self.refresh().done:
            if deadline is not None and time.monotonic() > deadline:
                raise HubError(f"task {self.id} is still {self.status} after {timeout} s")
            time.sleep(poll)
        return self

    def outputs(self, timeout: float | None = None) -> Any:
        """Wait, then return the result or raise the servable's error."""
        self.wait(timeout)
        if self.status is TaskStatus.FAILED:
            raise error_from(self.error or {}, self.stdout, self.stderr, self.id)
        return self.result

    def to_json(self, arrays: str = "base64") -> dict[str, Any]:
        """As JSON: result arrays exact as base64 (what ``GET /tasks/{id}`` sends) or ``"lists"``."""
        return {
            "id": self.id,
            "servable": self.servable,
            "version": self.version,
            "status": self.status.value,
            "result": to_json(self.result, arrays=arrays),
            "error": self.error,
            "timings": self.timings,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "batch": self.batch,
            "cached": self.cached,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }

    def to_dict(self) -> dict[str, Any]:
        """As JSON with result arrays as nested lists (``--json`` output)."""
        return self.to_json(arrays="lists")

    @classmethod
    def from_json(cls, body: Mapping[str, Any], refresh: Callable[[str], Task] | None = None) -> Task:
        """A task from its JSON (:meth:`to_json`); ``refresh`` reads it again by id."""
        return cls(
            id=body["id"],
            servable=body["servable"],
            version=body["version"],
            status=TaskStatus(body["status"]),
            result=from_json(body["result"]) if body.get("result") is not None else None,
            error=body.get("error"),
            timings=dict(body.get("timings") or {}),
            stdout=body.get("stdout") or "",
            stderr=body.get("stderr") or "",
            batch=body.get("batch", False),
            cached=body.get("cached", False),
            created_at=_time(body.get("created_at")),
            updated_at=_time(body.get("updated_at")),
            _refresh=refresh,
        )

    def __repr__(self) -> str:
        extra = f", error={self.error.get('message')!r}" if self.error else ""
        return f"<Task {self.id} {self.servable}@{self.version}: {self.status.value}{extra}>"


def _time(value: Any) -> _dt.datetime | None:
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, _dt.datetime) else None
