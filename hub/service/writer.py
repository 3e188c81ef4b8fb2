"""The writer of ``matterhub serve --workers N``: the one process that writes.

It opens the hub as ``matterhub serve`` always did (the index writable, the contained
worker pool), then runs beside uvicorn's N API processes (:mod:`hub.service.workers`):

- the submission queue (:class:`~hub.service.queue.SubmissionQueue`), fed by the API
  processes' announcements on :data:`~hub.db.notify.SUBMISSION_CHANNEL` and, every
  :data:`~hub.db.notify.FALLBACK_S` seconds, by every submission still ``queued``;
- the index's changes the API processes ask for (:class:`~hub.index.handoff.IndexApplier`),
  and each commit announced on :data:`~hub.db.notify.INDEX_CHANNEL`;
- the servable worker pool, served on a unix socket (:class:`~hub.servables.forward.RunServer`)
  unless the runs go to a Dask cluster;
- scheduled harvests, and the servable tasks a previous process left.

The API processes' searchers therefore see a commit when they hear its announcement
(milliseconds), and at the latest :data:`~hub.db.notify.FALLBACK_S` seconds after it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hub.db.database import Database
from hub.db.notify import INDEX_CHANNEL, INDEX_SYNC_CHANNEL, SUBMISSION_CHANNEL, ChangeListener, notify
from hub.hubs.embedded import EmbeddedHub
from hub.index.handoff import IndexApplier
from hub.servables.executors import Executor
from hub.servables.forward import RunServer
from hub.service.harvests import HarvestScheduler, ScheduledHarvest
from hub.service.queue import SubmissionQueue
from hub.service.settings import ServiceSettings
from hub.service.workers import ENV_CONFIG, ApiConfig


class Writer:
    """The writer's services around ``hub`` (see the module's docstring).

    Parameters
    ----------
    hub
        The hub, opened by this process as its admin (the index writable).
    executor
        The servable runtime: served to the API processes unless ``forward_runs`` is False.
    settings
        The service's settings (submission threads, the URL guard).
    harvests
        Scheduled harvests.
    forward_runs
        Serve ``executor`` on a unix socket (False: the API processes run on a Dask cluster).
    """

    def __init__(
        self,
        hub: EmbeddedHub,
        executor: Executor,
        settings: ServiceSettings,
        harvests: Sequence[ScheduledHarvest] = (),
        *,
        forward_runs: bool = True,
    ) -> None:
        self.hub = hub
        self.notes = Database(hub.config.catalog)
        self.queue = SubmissionQueue(hub, settings.submission_threads, settings)
        self.scheduler = HarvestScheduler(hub, self.queue, harvests)
        self.applier = IndexApplier(self.notes, hub.apply_index_change, hub.recover_index)
        self.listener = ChangeListener(hub.config.catalog)
        self.listener.on(SUBMISSION_CHANNEL, self._queued)
        self.listener.on(INDEX_SYNC_CHANNEL, self.applier.heard)
        hub.after_index_commit(self._announce)
        self._folder = Path(tempfile.mkdtemp(prefix="matterhub-serve-"))
        self.runs = RunServer(executor, self._folder / "runs.sock") if forward_runs else None

    @property
    def runs_socket(self) -> str:
        """The socket the API processes forward runs to ("" when they run on Dask)."""
        return str(self.runs.path) if self.runs is not None else ""

    def _queued(self, sub_id: str | None) -> None:
        if sub_id:
            self.queue.put(sub_id)
            return
        for sub in self.hub.submissions(status="queued"):  # the periodic fallback
            self.queue.put(sub.id)

    def _announce(self) -> None:
        with self.notes.transaction() as s:
            notify(s, INDEX_CHANNEL, "")

    def start(self) -> Writer:
        """Start every service (before the API processes)."""
        if self.runs is not None:
            self.runs.start()
        self.applier.start()
        self.queue.start()
        self.listener.start()
        self.hub.resume_tasks()
        self.scheduler.start()
        return self

    def stop(self) -> None:
        """Stop every service; a submission being processed finishes first."""
        self.scheduler.stop(timeout=10)
        self.listener.stop()
        self.queue.stop(timeout=60)
        self.applier.stop()
        if self.runs is not None:
            self.runs.close()
        self.notes.close()
        shutil.rmtree(self._folder, ignore_errors=True)


def serve_workers(
    writer: Writer,
    config: ApiConfig,
    *,
    workers: int,
    host: str,
    port: int,
    log_level: str,
) -> None:
    """Run ``workers`` API processes (uvicorn's supervisor, in this thread) beside ``writer``'s services."""
    import uvicorn

    os.environ[ENV_CONFIG] = config.to_env()  # read by each API process (spawned: a fresh interpreter)
    writer.start()
    try:
        uvicorn.run(
            "hub.service.workers:api_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level=log_level,
            timeout_graceful_shutdown=30,
        )
    finally:
        writer.stop()
