"""A run's trace: per step, the exact version, the time, and the hashes of what went in and out.

``hub.run(name, x, trace=True)`` returns a :class:`RunTrace` instead of the output: the
output, one :class:`StepTrace` per step (one for a plain servable) and the whole run's
time.  The hashes are :func:`hub.servables.codec.input_hash` of the checked value a step
received and of the value it gave, so anyone holding the values can check them; they are
computed only when a trace is asked for.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from hub.servables import codec
from hub.servables.request import RunResult


@dataclass(frozen=True)
class StepTrace:
    """One step of a traced run.

    Parameters
    ----------
    index
        The step's place, from 1.
    name
        ``owner/name@version`` for a servable, ``adapter:<function>``, ``source:search`` or
        ``source:file``.
    type
        The servable type (``keras``, ``python``, ...), or ``search`` / ``file`` for a source.
    wall_ms
        The step's time seen from the hub (planning, the worker's load and run, the reply).
    input_sha256, output_sha256
        :func:`~hub.servables.codec.input_hash` of the step's (checked) input and of its
        output (None when it failed).
    cached
        The output was memoized by an earlier run (nothing ran).
    run_ms
        The servable's own run time, as its worker measured it (None for sources and memoized steps).
    """

    index: int
    name: str
    type: str
    wall_ms: float
    input_sha256: str
    output_sha256: str | None
    cached: bool = False
    run_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> StepTrace:
        """A step trace from :meth:`to_dict`."""
        return cls(
            index=int(body["index"]),
            name=str(body["name"]),
            type=str(body["type"]),
            wall_ms=float(body["wall_ms"]),
            input_sha256=str(body["input_sha256"]),
            output_sha256=body.get("output_sha256"),
            cached=bool(body.get("cached", False)),
            run_ms=body.get("run_ms"),
        )


@dataclass
class RunTrace:
    """A run's output with its provenance: the steps (exact versions, times, hashes) and the total time.

    Parameters
    ----------
    output
        What the run returned (the last step's output).
    steps
        One entry per step, in order.
    total_ms
        The whole run's time in the hub (planning included).
    """

    output: Any
    steps: list[StepTrace] = field(default_factory=list)
    total_ms: float = 0.0

    def to_dict(self, arrays: str = "base64") -> dict[str, Any]:
        """As JSON: ``output`` (arrays exact as base64, or ``"lists"``), ``steps`` and ``total_ms``."""
        return {
            "output": codec.to_json(self.output, arrays=arrays),
            "steps": [s.to_dict() for s in self.steps],
            "total_ms": self.total_ms,
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> RunTrace:
        """A trace from :meth:`to_dict` (or the REST reply of a traced run)."""
        output = body.get("output")
        return cls(
            output=codec.from_json(output) if output is not None else None,
            steps=[StepTrace.from_dict(s) for s in body.get("steps") or []],
            total_ms=float(body.get("total_ms") or 0.0),
        )

    def __repr__(self) -> str:
        steps = " -> ".join(f"{s.name}{' (cached)' if s.cached else ''}" for s in self.steps)
        return f"<RunTrace {steps}; {self.total_ms:.1f} ms>"


def step_trace(index: int, name: str, type: str, inputs: Any, result: RunResult, started: float) -> StepTrace:
    """The trace of one step that started at ``started`` (``time.perf_counter()``) and gave ``result``."""
    wall = (time.perf_counter() - started) * 1000
    return StepTrace(
        index=index,
        name=name,
        type=type,
        wall_ms=wall,
        input_sha256=codec.input_hash(inputs),
        output_sha256=codec.input_hash(result.value) if result.ok else None,
        cached=result.cached,
        run_ms=result.run_ms,
    )
