"""Write-ahead notes that keep the search index in step with the catalog across crashes.

A change to a dataset reaches the catalog first (one transaction, the truth) and the
index right after.  A process killed between the two would leave the index without
the change, and nothing would tell the next one.  So before the catalog transaction the
hub writes a note naming the dataset (``index/pending/*.json``, with the writer's host,
pid and start time), and removes it once the index holds the change.  Opening the hub
syncs the datasets named by notes whose writer is gone, then removes those notes.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

PENDING = "pending"


def _start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks after boot, Linux), None when unknown or gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return int(data[data.rfind(b")") + 2 :].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int, started: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return started is None or _start_time(pid) in (None, started)


class IndexJournal:
    """The notes of one index folder (see the module's docstring)."""

    def __init__(self, index_path: str | os.PathLike[str]) -> None:
        self.folder = Path(index_path) / PENDING
        self._local = threading.local()
        self._counter = itertools.count()
        self._me = {"host": socket.gethostname(), "pid": os.getpid(), "start": _start_time(os.getpid())}

    def _mine(self) -> dict[str, list[Path]]:
        notes: dict[str, list[Path]] | None = getattr(self._local, "notes", None)
        if notes is None:
            notes = self._local.notes = {}
        return notes

    def begin(self, name: str) -> None:
        """Note that ``name`` is about to change in the catalog (call before the transaction)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{os.getpid()}-{next(self._counter)}-{uuid.uuid4().hex[:8]}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"name": name, **self._me}))
        os.replace(tmp, path)
        self._mine().setdefault(name, []).append(path)

    def end(self, name: str) -> None:
        """The index holds ``name``'s changes made by this thread: forget their notes."""
        for path in self._mine().pop(name, []):
            path.unlink(missing_ok=True)

    def orphaned(self) -> list[tuple[Path, str]]:
        """Notes left by processes of this host that are gone: ``(note, dataset name)``."""
        out: list[tuple[Path, str]] = []
        try:
            paths = sorted(self.folder.glob("*.json"))
        except OSError:
            return out
        for path in paths:
            try:
                note: dict[str, Any] = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if note.get("host") != self._me["host"]:
                continue  # another machine's process: only it knows whether it still runs
            if _alive(int(note.get("pid", 0)), note.get("start")):
                continue
            out.append((path, str(note.get("name", ""))))
        return out

    def recover(self, sync: Callable[[str], Any]) -> list[str]:
        """``sync(name)`` each dataset named by an orphaned note, then drop the note; the names."""
        done: list[str] = []
        for path, name in self.orphaned():
            if name and name not in done:
                sync(name)
                done.append(name)
            path.unlink(missing_ok=True)
        return done
