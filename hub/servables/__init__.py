"""Servables: DLHub's part of the hub.

Describe models and functions, publish them as versioned artifacts, discover them,
and run them in worker processes.

- :func:`describe` / :class:`ServableDescription`: metadata and schemas of a
  scikit-learn estimator, a Keras model, a Python callable, a model file or a
  DLHub document;
- :class:`ArgSpec`: the typed argument schema (JSON Schema export, validation);
- :class:`ServableParts`: a hub's registry (publish, search, deprecate,
  delete), runs (resolve, check, memoize, dispatch) and tasks (persist, resume);
- :class:`Executor`: where runs execute (``submit(RunRequest) -> Future[RunResult]``);
- servable types are plugins (:mod:`hub.servables.base`, entry point group
  ``matterhub.servables``).

Names load lazily, so a worker process that imports :mod:`hub.servables.worker`
does not pay for pydantic, SQLAlchemy, scikit-learn or Keras until it needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "ArgSpec": "hub.servables.schema",
    "Runner": "hub.servables.base",
    "ServableType": "hub.servables.base",
    "TypeDescription": "hub.servables.base",
    "ServableDescription": "hub.servables.description",
    "describe": "hub.servables.description",
    "ServableMetadata": "hub.servables.metadata",
    "ServableParts": "hub.servables.parts",
    "Executor": "hub.servables.executors",
    "RunRequest": "hub.servables.request",
    "RunResult": "hub.servables.request",
    "RunStatus": "hub.servables.request",
    "Task": "hub.servables.tasks",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'hub.servables' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
