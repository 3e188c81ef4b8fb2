"""Change notification between the processes of one hub: PostgreSQL's ``LISTEN/NOTIFY``.

Several processes serve one PostgreSQL catalog (``matterhub serve --workers N``).  What
one of them changes that the others keep in memory (the search index's searcher, the
remembered tokens) or must act on (a queued submission, an index change to apply) is
announced on a channel; a :class:`ChangeListener` in each process calls back.

A notification is sent when the transaction that sends it commits (PostgreSQL's own
rule), so a listener never hears of a change it cannot yet read.  Notifications are not
stored: a listener that was not connected when one was sent misses it.  So every
listener also calls each callback every ``fallback_s`` seconds with no payload (the
periodic fallback), and reconnects after a lost connection.

SQLite catalogs serve one process: :func:`notify` does nothing there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger("matterhub.db.notify")

#: The writer committed the search index (payload: what it applied, ``kind:key:ticket``).
INDEX_CHANNEL = "matterhub_index"
#: An API process asks the writer to bring the index in step (payload ``kind:key:ticket``).
INDEX_SYNC_CHANNEL = "matterhub_index_sync"
#: Remembered tokens must be forgotten (a revocation, a deleted user, changed groups).
AUTH_CHANNEL = "matterhub_auth"
#: A submission was queued (payload: its id) for the writer's submission queue.
SUBMISSION_CHANNEL = "matterhub_submissions"

#: Seconds between two calls of every callback without a notification.
FALLBACK_S = 2.0

#: A callback: the channel's payload, or None for the periodic fallback.
Callback = Callable[[str | None], None]


def is_postgresql(url: str) -> bool:
    """Whether the catalog URL ``url`` names a PostgreSQL database."""
    return url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def notify(session: Session, channel: str, payload: str = "") -> None:
    """Announce ``payload`` on ``channel`` when ``session``'s transaction commits (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )


def _psycopg_url(url: str) -> str:
    """A libpq connection string from a SQLAlchemy URL (``postgresql+psycopg://`` -> ``postgresql://``)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if "+" in scheme else url


class ChangeListener:
    """One connection that listens to channels and calls back, in a daemon thread.

    Parameters
    ----------
    url
        The catalog's URL (PostgreSQL).
    fallback_s
        Seconds between two calls of every callback with ``None`` (also after a
        reconnection), whatever was heard.
    """

    def __init__(self, url: str, fallback_s: float = FALLBACK_S) -> None:
        self.url = url
        self.fallback_s = fallback_s
        self._callbacks: dict[str, list[Callback]] = {}
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def on(self, channel: str, callback: Callback) -> None:
        """Call ``callback(payload)`` on each notification of ``channel`` (before :meth:`start`)."""
        if self._thread is not None:
            raise RuntimeError("add callbacks before the listener starts")
        self._callbacks.setdefault(channel, []).append(callback)

    def start(self, timeout: float = 30.0) -> ChangeListener:
        """Connect and listen; returns once listening (or after ``timeout`` s, still trying)."""
        self._thread = threading.Thread(target=self._run, name="matterhub-listener", daemon=True)
        self._thread.start()
        self._ready.wait(timeout)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening (the thread ends within ``fallback_s`` seconds at most)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(_psycopg_url(self.url), autocommit=True) as conn:
                    for channel in self._callbacks:
                        conn.execute(f'LISTEN "{channel}"')
                    self._ready.set()
                    self._fallback()  # whatever was sent while not listening
                    self._listen(conn)
            except Exception:
                if self._stop.is_set():
                    return
                log.warning("listening to the catalog failed; connecting again", exc_info=True)
                self._stop.wait(min(self.fallback_s, 1.0))

    def _listen(self, conn: Any) -> None:
        due = time.monotonic() + self.fallback_s
        while not self._stop.is_set():
            for note in conn.notifies(timeout=max(0.0, due - time.monotonic()), stop_after=1):
                self._call(self._callbacks.get(note.channel, ()), note.payload)
            if time.monotonic() >= due:
                self._fallback()
                due = time.monotonic() + self.fallback_s

    def _fallback(self) -> None:
        for callbacks in self._callbacks.values():
            self._call(callbacks, None)

    @staticmethod
    def _call(callbacks: Iterable[Callback], payload: str | None) -> None:
        for callback in callbacks:
            try:
                callback(payload)
            except Exception:  # one failing callback must not stop the listener
                log.exception("a change callback failed")
