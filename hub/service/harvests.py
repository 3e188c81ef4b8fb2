"""Harvests the service runs on a schedule (``matterhub serve --harvest URL --every 1d``).

Each :class:`ScheduledHarvest` is queued as a submission of the service's admin when the
service starts and again every ``every`` seconds after; the submission queue runs it like
any other (so the address guard applies: private addresses only with
``--allow-private-urls``).  A harvest still queued or running when its next turn comes is
not queued twice.  A harvest after the first takes only what changed at the provider and
makes no version when nothing did (:mod:`hub.connect.harvest`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hub.hubs.embedded import EmbeddedHub
from hub.optimade.provider import SCHEME_PREFIX, is_provider
from hub.records.names import organisation
from hub.service.queue import SubmissionQueue

log = logging.getLogger("matterhub.service.harvests")

_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """Seconds of a period such as ``30s``, ``15m``, ``6h`` or ``1d`` (a bare number: seconds).

    Raises
    ------
    ValueError
        When ``text`` is not a positive number with one of those units.
    """
    match = _EVERY.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a period; give a positive number and a unit: 30s, 15m, 6h, 1d")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class ScheduledHarvest:
    """One provider harvested on a schedule.

    Attributes
    ----------
    source
        ``optimade+https://provider/`` (a plain ``https://`` URL is prefixed).
    title, authors
        The dataset's title and creators (``"Family, Given"`` or DataCite dicts; by default
        the provider, as an organisation).
    every
        Seconds between two harvests.
    filter
        The OPTIMADE filter to take (None: everything).
    source_name
        The dataset's name (default: from the title).
    """

    source: str
    title: str
    authors: tuple[str | dict[str, str], ...]
    every: float
    filter: str | None = None
    source_name: str | None = None

    def __post_init__(self) -> None:
        if not is_provider(self.source):
            object.__setattr__(self, "source", SCHEME_PREFIX + self.source)
        if self.every <= 0:
            raise ValueError(f"a harvest's period must be positive; got {self.every}")

    @classmethod
    def of_url(cls, url: str, every: float) -> ScheduledHarvest:
        """A harvest of ``url`` titled after its host, the provider its creator (an organisation)."""
        host = urlsplit(url.removeprefix(SCHEME_PREFIX)).hostname or url
        return cls(
            source=url, title=f"OPTIMADE structures of {host}", authors=(organisation(host),), every=every
        )


def load_schedule(path: str | Path) -> list[ScheduledHarvest]:
    """The harvests a YAML or JSON file lists.

    The file holds a list of ``{source, every, title?, authors?, filter?, source_name?}``
    (``every`` as :func:`parse_every` reads it).
    """
    import yaml

    items = yaml.safe_load(Path(path).read_text())
    if not isinstance(items, list):
        raise ValueError(f"{path} must hold a list of harvests ({{source, every, title, ...}})")
    out = []
    for item in items:
        if not isinstance(item, dict) or "source" not in item:
            raise ValueError(f"{path}: each harvest needs a source; got {item!r}")
        base = ScheduledHarvest.of_url(str(item["source"]), parse_every(str(item.get("every", "1d"))))
        out.append(
            ScheduledHarvest(
                source=base.source,
                title=str(item.get("title") or base.title),
                authors=tuple(item.get("authors") or base.authors),
                every=base.every,
                filter=item.get("filter"),
                source_name=item.get("source_name"),
            )
        )
    return out


class HarvestScheduler:
    """A thread queuing each of ``harvests`` as a submission of ``hub`` at start and every period after.

    Parameters
    ----------
    hub
        The service's hub, as its admin (who owns the harvests).
    queue
        The submission queue that runs them.
    harvests
        What to harvest, and how often.
    clock
        Monotonic seconds (tests may pass their own).
    """

    def __init__(
        self,
        hub: EmbeddedHub,
        queue: SubmissionQueue,
        harvests: Sequence[ScheduledHarvest],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self.queue = queue
        self.harvests = list(harvests)
        self.clock = clock
        self._next = [0.0 for _ in self.harvests]
        self._last: list[str | None] = [None for _ in self.harvests]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[str]:
        """Queue every harvest that is due and not still running; the ids of the submissions queued."""
        now = self.clock()
        queued = []
        for i, h in enumerate(self.harvests):
            if now < self._next[i]:
                continue
            self._next[i] = now + h.every
            last = self._last[i]
            if last is not None and not self.hub.submission(last).done:
                log.info("harvest of %s still runs (%s); not queued again", h.source, last)
                continue
            try:
                sub = self.hub.enqueue(
                    h.source, h.title, list(h.authors), source_name=h.source_name, filter=h.filter
                )
            except Exception:  # one bad harvest must not stop the others
                log.exception("the harvest of %s could not be queued", h.source)
                continue
            self.queue.put(sub.id)
            self._last[i] = sub.id
            queued.append(sub.id)
        return queued

    def start(self) -> None:
        """Start the thread (nothing to do without harvests)."""
        if not self.harvests:
            return
        self._thread = threading.Thread(target=self._loop, name="matterhub-harvests", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the thread; harvests already queued are the queue's."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            wait = min(self._next) - self.clock()
            self._stop.wait(min(max(wait, 0.05), 60.0))

    def describe(self) -> list[dict[str, Any]]:
        """Each harvest, its period and its last submission (for logs and the admin)."""
        return [
            {"source": h.source, "every": h.every, "filter": h.filter, "last_submission": last}
            for h, last in zip(self.harvests, self._last)
        ]
