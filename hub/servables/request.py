"""A servable run's request and its result: what the runs give an executor and get back.

:class:`RunRequest` is everything an executor needs (the load spec, the checked
inputs and parameters, the batch flag and the limits); :class:`RunResult` is
what every executor returns, whatever went wrong: its :class:`RunStatus` says
whether the servable answered (``ok``), raised (``error``), ran out of memory
(``memory``), ran past its timeout (``timeout``) or took its worker down
(``crash``).  A failed result becomes the error a task keeps
(:meth:`RunResult.error_record`) and the exception a caller gets
(:func:`error_from`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hub.exceptions import (
    ServableCrashedError,
    ServableMemoryError,
    ServableRefusedError,
    ServableRunError,
    ServableTimeoutError,
)
from hub.plugins import extra_providing
from hub.servables import codec

if TYPE_CHECKING:
    from hub.servables.worker import LoadSpec


class RunStatus(StrEnum):
    """How a run ended."""

    OK = "ok"
    ERROR = "error"
    MEMORY = "memory"
    TIMEOUT = "timeout"
    CRASH = "crash"
    #: The hub would not run it (it cannot contain servable code here).
    REFUSED = "refused"


_ERRORS: dict[str, type[ServableRunError]] = {
    RunStatus.ERROR: ServableRunError,
    RunStatus.MEMORY: ServableMemoryError,
    RunStatus.TIMEOUT: ServableTimeoutError,
    RunStatus.CRASH: ServableCrashedError,
    RunStatus.REFUSED: ServableRefusedError,
}


@dataclass(frozen=True)
class RunRequest:
    """One run of one servable version, ready for an executor.

    Parameters
    ----------
    spec
        What the worker loads (the version's artifact, type and options).
    inputs
        The checked input, or the list of inputs of a batch.
    params
        The checked keyword parameters.
    batch
        ``inputs`` is a list of inputs, one output each.
    timeout, memory_mb
        This run's limits (None: the executor's defaults).
    """

    spec: LoadSpec
    inputs: Any
    params: dict[str, Any] = field(default_factory=dict)
    batch: bool = False
    timeout: float | None = None
    memory_mb: int | None = None


@dataclass(frozen=True)
class RunResult:
    """What an executor returns for a :class:`RunRequest`.

    Parameters
    ----------
    status
        How the run ended.
    value
        The outputs (``ok`` only).
    message, exc_type, traceback
        What went wrong (every other status).
    stdout, stderr
        What the servable printed.
    load_ms, run_ms, pid
        Time to load the servable and to run it; the process it ran in.
    cached
        The outputs were memoized by an earlier run (nothing ran).
    """

    status: RunStatus
    value: Any = None
    message: str = ""
    exc_type: str | None = None
    traceback: str | None = None
    stdout: str = ""
    stderr: str = ""
    load_ms: float | None = None
    run_ms: float | None = None
    pid: int | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        """The servable answered."""
        return self.status is RunStatus.OK

    @classmethod
    def from_reply(cls, reply: Mapping[str, Any]) -> RunResult:
        """The result a worker process sent, as plain data (:func:`hub.servables.worker.execute`)."""
        return cls(
            status=RunStatus(reply.get("status", RunStatus.CRASH)),
            value=reply.get("value"),
            message=str(reply.get("message") or ""),
            exc_type=reply.get("exc_type"),
            traceback=reply.get("traceback"),
            stdout=reply.get("stdout") or "",
            stderr=reply.get("stderr") or "",
            load_ms=reply.get("load_ms"),
            run_ms=reply.get("run_ms"),
            pid=reply.get("pid"),
        )

    def to_json(self, arrays: str = "base64") -> dict[str, Any]:
        """The result as a JSON-ready dict.

        ``output`` holds the value (arrays exact as base64, or as lists with ``"lists"``).
        """
        return {
            "status": self.status.value,
            "output": codec.to_json(self.value, arrays=arrays),
            "message": self.message,
            "exc_type": self.exc_type,
            "traceback": self.traceback,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "load_ms": self.load_ms,
            "run_ms": self.run_ms,
            "pid": self.pid,
            "cached": self.cached,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> RunResult:
        """A result from :meth:`to_json`, or from the REST reply of a synchronous run.

        That reply is ``{"output": ...}``: a run that answered, every other field left out.
        """
        output = body.get("output")
        return cls(
            status=RunStatus(body.get("status", RunStatus.OK)),
            value=codec.from_json(output) if output is not None else None,
            message=body.get("message") or "",
            exc_type=body.get("exc_type"),
            traceback=body.get("traceback"),
            stdout=body.get("stdout") or "",
            stderr=body.get("stderr") or "",
            load_ms=body.get("load_ms"),
            run_ms=body.get("run_ms"),
            pid=body.get("pid"),
            cached=bool(body.get("cached", False)),
        )

    def error_record(self, what: str) -> dict[str, Any]:
        """What a failed run of ``what`` (``owner/name@version``) keeps.

        ``kind`` (the status), ``exc_type``, ``message`` (a sentence naming the version,
        with a hint of what to install when a module was missing) and ``traceback``.
        """
        if self.status is RunStatus.ERROR:
            text = f"{what} raised {self.exc_type or 'an error'}: {self.message}{self._install_hint()}"
        elif self.status is RunStatus.MEMORY:
            text = f"{what} ran out of memory: {self.message}"
        elif self.status is RunStatus.TIMEOUT:
            text = f"{what} timed out: {self.message}"
        else:
            text = f"{what} crashed: {self.message}"
        return {
            "kind": self.status.value,
            "exc_type": self.exc_type,
            "message": text,
            "traceback": self.traceback,
        }

    def outputs(self, what: str) -> Any:
        """The value, or the run's error raised (``what`` names the version in its message)."""
        if self.ok:
            return self.value
        raise error_from(self.error_record(what), self.stdout, self.stderr)

    def _install_hint(self) -> str:
        """For a servable that needs a package its worker's environment lacks: which to install."""
        missing = re.search(r"No module named '([^']+)'", self.message)
        if self.exc_type != "ModuleNotFoundError" or missing is None:
            return ""
        extra = extra_providing(missing[1])
        what = f"'matterhub[{extra}]'" if extra else missing[1].split(".")[0]
        return f" (the servable needs it: pip install {what} where the hub runs its servables)"


def error_from(
    error: Mapping[str, Any], stdout: str = "", stderr: str = "", task_id: str | None = None
) -> ServableRunError:
    """The exception a failed run's error record (:meth:`RunResult.error_record`) stands for."""
    kind = str(error.get("kind", RunStatus.ERROR))
    return _ERRORS.get(kind, ServableRunError)(
        error.get("message", "the servable failed"),
        kind=kind,
        exc_type=error.get("exc_type"),
        traceback=error.get("traceback"),
        stdout=stdout,
        stderr=stderr,
        task_id=task_id,
    )
