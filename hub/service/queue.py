"""The submission queue: requests only queue submissions; its threads run them.

Submissions run one at a time per thread, as their owner, in the service
process (Connect runs only the hub's own extractors; published code never runs
here).  On start the queue picks up every submission left ``queued`` or
``interrupted`` (the service stopped or was killed while it ran), so a restart
resumes unfinished work.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
from pathlib import Path
from typing import Protocol

from hub.connect.urlguard import ADDRESS_GUARD
from hub.hubs.embedded import EmbeddedHub
from hub.service.settings import ServiceSettings

log = logging.getLogger("matterhub.service.queue")


class SubmissionSink(Protocol):
    """Where the routes hand queued submissions.

    This process's :class:`SubmissionQueue`, or the writer process's
    (:class:`hub.service.workers.SubmissionHandoff`).
    """

    @property
    def uploads(self) -> Path:
        """The folder of uploaded submission sources."""

    def put(self, sub_id: str) -> None:
        """Run queued submission ``sub_id``."""


class SubmissionQueue:
    """Threads that run queued submissions of ``hub``, each as its owner.

    ``threads`` submissions run at once; URL sources are checked against ``settings``
    (private addresses refused) as they are downloaded.  An upload's folder under
    :attr:`uploads` is removed once its submission succeeds.
    """

    def __init__(self, hub: EmbeddedHub, threads: int = 1, settings: ServiceSettings | None = None) -> None:
        self.hub = hub
        #: URL sources are checked again as they are downloaded (private addresses refused)
        self.settings = settings or ServiceSettings()
        self.threads = max(1, threads)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._workers: list[threading.Thread] = []
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0

    @property
    def uploads(self) -> Path:
        """The folder of uploaded submission sources, under the hub's home."""
        return self.hub.config.uploads

    def start(self) -> None:
        """Queue every submission left ``interrupted`` or ``queued``, and start the threads."""
        for status in ("interrupted", "queued"):
            for sub in self.hub.submissions(status=status):
                self.put(sub.id)
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"matterhub-submissions-{i}", daemon=True)
            t.start()
            self._workers.append(t)

    def put(self, sub_id: str) -> None:
        """Queue submission ``sub_id`` to run (once: one already queued or running is not added)."""
        with self._lock:
            if sub_id in self._queued:
                return
            self._queued.add(sub_id)
        self._queue.put(sub_id)

    def stop(self, timeout: float | None = None) -> None:
        """Stop taking work; a submission being processed finishes first."""
        for _ in self._workers:
            self._queue.put(None)
        for t in self._workers:
            t.join(timeout)
        self._workers.clear()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running (tests and shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._queued and not self._busy, timeout)

    def _loop(self) -> None:
        while True:
            sub_id = self._queue.get()
            if sub_id is None:
                return
            with self._lock:
                self._busy += 1
            try:
                self._process(sub_id)
            except Exception:  # one bad submission must not stop the queue
                log.exception("submission %s failed in the queue", sub_id)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._queued.discard(sub_id)
                    self._idle.notify_all()

    def _process(self, sub_id: str) -> None:
        row = self.hub.submission(sub_id)
        if row.status not in ("queued", "interrupted"):
            return
        guard = ADDRESS_GUARD.set(self.settings.check_address)
        try:
            sub = self.hub.process(sub_id, progress=False)  # as its owner
        finally:
            ADDRESS_GUARD.reset(guard)
        upload = Path(row.source)  # the hub's own view: its path, whatever the owner is shown
        if sub.ok and upload.is_relative_to(self.uploads):
            shutil.rmtree(upload.parent, ignore_errors=True)
