"""The API processes of ``matterhub serve --workers N``.

N uvicorn worker processes serve the REST API over one PostgreSQL catalog; one process,
the writer (``matterhub serve`` itself, :mod:`hub.service.writer`), runs the submission
queue, writes the search index and owns the servable worker pool.  Each API process:

- opens the search index read-only and hands its changes to the writer
  (:mod:`hub.index.handoff`); it reloads its searcher when the writer announces a commit
  on :data:`~hub.db.notify.INDEX_CHANNEL`, and every :data:`~hub.db.notify.FALLBACK_S`
  seconds whatever it heard (besides, every search checks the index's ``meta.json``);
- queues submissions for the writer (:class:`SubmissionHandoff`);
- runs servables on the writer's pool through its unix socket
  (:class:`~hub.servables.forward.ForwardingExecutor`), or on the Dask cluster named by
  ``--executor dask://host:port``;
- takes rate limits from buckets in the catalog (:mod:`hub.service.sharedlimits`) and
  forgets remembered tokens when another process announces a revocation
  (:data:`~hub.db.notify.AUTH_CHANNEL`).

uvicorn starts the processes (``uvicorn.run(..., workers=N, factory=True)``) and starts
again one that dies; :func:`api_app` is the factory, configured by the writer through
the environment variable :data:`ENV_CONFIG`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from hub.access.users import forget_authentications
from hub.config import HubConfig
from hub.db.database import Database
from hub.db.notify import AUTH_CHANNEL, INDEX_CHANNEL, SUBMISSION_CHANNEL, ChangeListener, notify
from hub.hubs.embedded import EmbeddedHub
from hub.index.handoff import IndexHandoff
from hub.servables.executors import Executor, executor_from
from hub.servables.forward import ForwardingExecutor
from hub.service.settings import ServiceSettings

#: The JSON of an :class:`ApiConfig`, set by the writer for the processes uvicorn starts.
ENV_CONFIG = "MATTERHUB_SERVE_API_CONFIG"


@dataclass
class ApiConfig:
    """What an API process needs to open the hub as the writer did.

    Parameters
    ----------
    location, catalog, store
        The hub folder, its catalog URL (PostgreSQL) and its blob store URL.
    runs_socket
        The writer's :class:`~hub.servables.forward.RunServer` socket ("" when ``executor``
        names a Dask cluster).
    executor
        ``""`` (forward to the writer's pool) or ``dask://host:port``.
    publishers
        Who may publish servables (None: every signed-in user).
    rate_limit
        Whether the per-caller rate limits apply.
    settings
        The :class:`~hub.service.settings.ServiceSettings` fields.
    """

    location: str
    catalog: str
    store: str
    runs_socket: str = ""
    executor: str = ""
    publishers: list[str] | None = None
    rate_limit: bool = True
    settings: dict[str, Any] = field(default_factory=dict)

    def to_env(self) -> str:
        """The configuration as the value of :data:`ENV_CONFIG`."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_env(cls) -> ApiConfig:
        """The configuration the writer set in :data:`ENV_CONFIG`.

        Raises
        ------
        RuntimeError
            When it is not set (the factory is for ``matterhub serve --workers N`` only).
        """
        value = os.environ.get(ENV_CONFIG)
        if not value:
            raise RuntimeError(
                f"${ENV_CONFIG} is not set: API processes are started by `matterhub serve --workers N`"
            )
        return cls(**json.loads(value))

    def service_settings(self) -> ServiceSettings:
        """The service's settings."""
        values = dict(self.settings)
        values["apis"] = tuple(values.get("apis", ()))
        return ServiceSettings(**values)


class SubmissionHandoff:
    """An API process's submission queue: the writer's, told through the catalog.

    :meth:`put` announces the queued submission on :data:`~hub.db.notify.SUBMISSION_CHANNEL`
    (the row says ``queued`` already); the writer also picks up every ``queued``
    submission every few seconds, so one announced while it restarted is run all the same.
    """

    def __init__(self, catalog: Database, config: HubConfig) -> None:
        self.catalog = catalog
        self.config = config

    @property
    def uploads(self) -> Path:
        """The folder of uploaded submission sources (the writer reads them there)."""
        return self.config.uploads

    def put(self, sub_id: str) -> None:
        """Tell the writer to run queued submission ``sub_id``."""
        with self.catalog.transaction() as s:
            notify(s, SUBMISSION_CHANNEL, sub_id)


def _forget(payload: str | None) -> None:
    if payload is not None:  # a notification, not the periodic call (the cache's TTL bounds that)
        forget_authentications()


def api_app() -> FastAPI:
    """The app of one API process (the factory uvicorn calls in each worker process)."""
    from hub.service.app import create_app

    config = ApiConfig.from_env()
    notes = Database(config.catalog)
    handoff = IndexHandoff(notes)
    executor: Executor = (
        executor_from(config.executor) if config.executor else ForwardingExecutor(config.runs_socket)
    )
    hub = EmbeddedHub(
        config.location,
        progress=False,
        catalog=config.catalog,
        store=config.store,
        executor=executor,
        servable_publishers=config.publishers,
        index_handoff=handoff,
    )
    listener = ChangeListener(config.catalog)
    listener.on(INDEX_CHANNEL, handoff.heard)
    listener.on(AUTH_CHANNEL, _forget)
    listener.start()

    def stop() -> None:
        listener.stop()
        hub.close()
        executor.close()
        notes.close()

    return create_app(
        hub,
        config.service_settings(),
        rate_limit=config.rate_limit,
        submissions=SubmissionHandoff(notes, hub.config),
        shared_limits=notes.engine,
        on_stop=stop,
    )
