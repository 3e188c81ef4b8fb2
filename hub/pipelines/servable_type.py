"""The ``pipeline`` servable type: its description and its artifact (the adapters' code).

A pipeline's steps run hub-side (:mod:`hub.pipelines.run`): the type is never loaded
in a worker.  Its artifact holds each adapter packaged by the ``python`` type under
``model/step<i>/``; a worker loads one adapter as a python servable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.pipelines.steps import PIPELINE, PipelineBlock
from hub.servables.base import ServableType, TypeDescription
from hub.servables.python import PythonServable


@dataclass
class PipelineObject:
    """What :func:`~hub.servables.description.describe` is given for a pipeline.

    Parameters
    ----------
    block
        The steps as the document keeps them.
    adapters
        The adapters' callables by step index (from 1).
    requirements
        The distributions the adapters need.
    """

    block: PipelineBlock
    adapters: dict[int, Callable[..., Any]] = field(default_factory=dict)
    requirements: list[str] = field(default_factory=list)


class PipelineServable(ServableType):
    """The ``pipeline`` servable type: published servables, adapters and data sources, in order."""

    name = PIPELINE
    description = "A pipeline of servables, Python adapters and data sources, run hub-side"
    priority = 200

    def can_describe(self, obj: Any) -> bool:
        """Whether ``obj`` is a :class:`PipelineObject`."""
        return isinstance(obj, PipelineObject)

    def describe(self, obj: Any, source: Path | None, options: dict[str, Any]) -> TypeDescription:
        """The pipeline's input (its first step's) and output (its last step's).

        ``source`` and ``options`` are not used.
        """
        steps = obj.block.steps
        chain = " -> ".join(s.label for s in steps)
        return TypeDescription(
            model_type=f"pipeline of {len(steps)} steps",
            model_summary=chain,
            input=steps[0].input,
            output=steps[-1].output,
            requirements=list(obj.requirements),
            summary=f"A pipeline: {chain}",
            resource_type="Workflow",
        )

    def package(self, obj: Any, source: Path | None, dest: Path) -> dict[str, Any]:
        """Write each adapter with the ``python`` type under ``step<i>/``.

        Returns ``{"step<i>.<key>": "step<i>/<file>"}`` for every file an adapter wrote.
        """
        files: dict[str, Any] = {}
        python = PythonServable()
        for index, fn in sorted(obj.adapters.items()):
            folder = dest / f"step{index}"
            folder.mkdir(parents=True)
            for key, name in python.package(fn, None, folder).items():
                files[f"step{index}.{key}"] = f"step{index}/{name}"
        return files
