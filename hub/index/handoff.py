"""Index changes handed to the hub's one index writer, in another process.

Under ``matterhub serve --workers N`` the API processes open the search index read-only
(:class:`~hub.index.engine.SearchIndex` with a ``handoff``): one process writes it.  An
API process that changed the catalog (a metadata update, a curation, a servable
published) asks that writer to bring the index in step: :meth:`IndexHandoff.request`
announces ``kind:key:ticket`` on :data:`~hub.db.notify.INDEX_SYNC_CHANNEL` and waits
until the writer announces the same payload on :data:`~hub.db.notify.INDEX_CHANNEL`,
after its commit, so the caller reads its own write as in one process.

The writer's :class:`IndexApplier` applies the requests it hears in one thread, in
order.  What an API process asks and the writer never hears (it was restarting) is
not lost: the request's journal note stays until the writer's next periodic recovery,
and a request unanswered within :data:`WAIT_S` marks the index stale (the next open
rebuilds it), as a failed index update does in one process.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable

from hub.db.database import Database
from hub.db.notify import INDEX_CHANNEL, INDEX_SYNC_CHANNEL, notify

log = logging.getLogger("matterhub.index.handoff")

#: Seconds an API process waits for the writer to apply its change.
WAIT_S = 120.0

#: What the writer applies: a dataset name, a servable id, every servable, or a rebuild.
KINDS = ("dataset", "servable", "servables", "rebuild")


class IndexHandoff:
    """An API process's way to the index writer (see the module's docstring).

    Parameters
    ----------
    catalog
        The shared catalog (PostgreSQL), whose notifications carry the requests.
    wait_s
        How long :meth:`request` waits for the writer.
    """

    def __init__(self, catalog: Database, wait_s: float = WAIT_S) -> None:
        self.catalog = catalog
        self.wait_s = wait_s
        self._waiting: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._committed: list[Callable[[str | None], None]] = []

    def on_commit(self, callback: Callable[[str | None], None]) -> None:
        """Call ``callback(payload)`` on each commit the writer announces, and periodically with None.

        The read-only index reloads its searcher so (:meth:`~hub.index.engine.SearchIndex.refresh`).
        """
        self._committed.append(callback)

    def heard(self, payload: str | None) -> None:
        """A commit the writer announced, or None every few seconds: reload, wake its waiter.

        The listener's callback on :data:`~hub.db.notify.INDEX_CHANNEL`.
        """
        for callback in self._committed:
            callback(payload)
        if not payload:
            return
        with self._lock:
            done = self._waiting.get(payload)
        if done is not None:
            done.set()

    def request(self, kind: str, key: str = "") -> bool:
        """Ask the writer to apply ``kind`` for ``key``; whether it did within :attr:`wait_s`."""
        if kind not in KINDS:
            raise ValueError(f"an index change is one of {KINDS}, not {kind!r}")
        payload = f"{kind}:{key}:{uuid.uuid4().hex}"
        done = threading.Event()
        with self._lock:
            self._waiting[payload] = done
        try:
            with self.catalog.transaction() as s:
                notify(s, INDEX_SYNC_CHANNEL, payload)
            return done.wait(self.wait_s)
        finally:
            with self._lock:
                self._waiting.pop(payload, None)


class IndexApplier:
    """The writer's side: applies what the API processes ask, in one thread, and announces each.

    Parameters
    ----------
    catalog
        The shared catalog (its notifications).
    apply
        ``apply(kind, key)``: bring the index in step (the writer hub's
        :meth:`~hub.hubs.embedded.EmbeddedHub.apply_index_change`).
    recover
        Sync what the journal's orphaned notes name (the writer hub's
        :meth:`~hub.hubs.embedded.EmbeddedHub.recover_index`).
    """

    def __init__(
        self, catalog: Database, apply: Callable[[str, str], None], recover: Callable[[], object]
    ) -> None:
        self.catalog = catalog
        self.apply = apply
        self.recover = recover
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def heard(self, payload: str | None) -> None:
        """A request (the listener's callback on :data:`~hub.db.notify.INDEX_SYNC_CHANNEL`).

        None, every few seconds, runs ``recover()`` in turn (changes of API processes killed
        before the writer heard them: their journal notes).
        """
        self._queue.put(payload or "")

    def start(self) -> IndexApplier:
        """Apply requests in a daemon thread."""
        self._thread = threading.Thread(target=self._loop, name="matterhub-index-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop after the requests already heard."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while (payload := self._queue.get()) is not None:
            if not payload:
                try:
                    self.recover()
                except Exception:
                    log.exception("recovering the index's journal failed")
                continue
            head = payload.rsplit(":", 1)[0]
            kind, _, key = head.partition(":")
            try:
                self.apply(kind, key)
            except Exception:  # answered all the same: the caller must not wait for nothing
                log.exception("applying the index change %s failed", payload)
            try:
                with self.catalog.transaction() as s:
                    notify(s, INDEX_CHANNEL, payload)
            except Exception:
                log.exception("announcing the index change %s failed", payload)
