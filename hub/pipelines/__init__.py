"""Pipelines: published servables, Python adapters and data sources chained into one servable.

``hub.pipeline(steps, name=...)`` describes one (:func:`describe_pipeline`), a servable of
type ``pipeline`` that ``hub.publish_servable`` publishes like any other (versioned,
searchable as ``servable.type:pipeline``, access-controlled, DataCite).  At publish time
every step is resolved as the publisher and its exact version recorded, and each step's
output must fit the next step's input (:func:`fits`).  ``hub.run(pipeline, x)`` runs the
steps hub-side, each in a worker as any servable runs (:mod:`hub.pipelines.run`);
``trace=True`` returns a :class:`RunTrace`.

- :class:`Search`, :class:`DatasetFile`: data sources, as a first step;
- :func:`fits`, :class:`Misfit`: whether an output schema fits an input schema;
- :class:`RunTrace`, :class:`StepTrace`: a traced run's provenance;
- :class:`PipelineBlock`: the ``pipeline`` block of a pipeline's document (its steps).

Names load lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "Search": "hub.pipelines.steps",
    "DatasetFile": "hub.pipelines.steps",
    "PipelineBlock": "hub.pipelines.steps",
    "describe_pipeline": "hub.pipelines.describe",
    "fits": "hub.pipelines.fit",
    "Misfit": "hub.pipelines.fit",
    "RunTrace": "hub.pipelines.trace",
    "StepTrace": "hub.pipelines.trace",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'hub.pipelines' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
