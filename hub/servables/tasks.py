"""What ``run(..., asynchronous=True)`` returns and ``task(id)`` reports."""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.exceptions import (
    HubError,
    ServableCrashedError,
    ServableMemoryError,
    ServableRunError,
    ServableTimeoutError,
)

PENDING, RUNNING, COMPLETED, FAILED = "pending", "running", "completed", "failed"
DONE = (COMPLETED, FAILED)

_ERRORS: dict[str, type[ServableRunError]] = {
    "error": ServableRunError,
    "memory": ServableMemoryError,
    "timeout": ServableTimeoutError,
    "crash": ServableCrashedError,
}


def error_from(
    error: dict[str, Any], stdout: str = "", stderr: str = "", task_id: str | None = None
) -> ServableRunError:
    """The exception a failed run's error record stands for."""
    cls = _ERRORS.get(error.get("kind", "error"), ServableRunError)
    return cls(
        error.get("message", "the servable failed"),
        kind=error.get("kind", "error"),
        exc_type=error.get("exc_type"),
        traceback=error.get("traceback"),
        stdout=stdout,
        stderr=stderr,
        task_id=task_id,
    )


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
    status: str
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

    @property
    def done(self) -> bool:
        return self.status in DONE

    def refresh(self) -> Task:
        """This task as the catalog has it now."""
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
        if self.status == FAILED:
            raise error_from(self.error or {}, self.stdout, self.stderr, self.id)
        return self.result

    def to_dict(self) -> dict[str, Any]:
        from hub.servables.codec import to_json

        return {
            "id": self.id,
            "servable": self.servable,
            "version": self.version,
            "status": self.status,
            "result": to_json(self.result, arrays="lists"),
            "error": self.error,
            "timings": self.timings,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "batch": self.batch,
            "cached": self.cached,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }

    def __repr__(self) -> str:
        extra = f", error={self.error.get('message')!r}" if self.error else ""
        return f"<Task {self.id} {self.servable}@{self.version}: {self.status}{extra}>"
