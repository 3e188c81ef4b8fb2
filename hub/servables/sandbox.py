"""Containing servable runs in the local pool's worker processes (Linux, no privileges needed).

What a worker process does (:func:`hub.servables.worker.worker_main`):

- **a working folder per run**: each request runs with its current directory and
  ``TMPDIR`` in a fresh folder under the worker's own work root, removed afterwards
  (:func:`run_folder`);
- **its processes stay its own**: the worker is a *child subreaper*
  (``PR_SET_CHILD_SUBREAPER``), so whatever a run starts stays a descendant of the
  worker, even after a double fork or ``setsid``; the processes a run leaves running
  are killed when it returns (:func:`kill_tree`), except for types that keep helper
  processes by design (notebook kernels), which go when their worker goes;
- **writes** (opt-in, ``MATTERHUB_SANDBOX=1`` or ``WorkerPool(sandbox=True)``): Landlock
  (Linux 5.13+, unprivileged) lets the worker and everything it starts write only in
  its work root, ``/dev/shm`` (shared memory for large arrays) and ``/dev/null``, plus
  ``MATTERHUB_SANDBOX_WRITABLE`` (paths separated by ``:``); reads stay allowed.  A
  servable that writes elsewhere gets ``PermissionError``.  The restriction cannot be
  lifted by the process (or its children) once applied.

What the pool does (:class:`Watchdog`, from the hub's side, so a servable cannot
switch it off): while a run lasts longer than a moment, it checks the worker's process
tree a few times a second; more than ``max_procs`` processes, or a resident size
above the run's memory limit (children included, which a per-process ``RLIMIT_AS``
does not see), stops the tree and fails the run.  Killing a worker freezes
(``SIGSTOP``) and kills its whole tree first, so nothing it started outlives it.

The workers of ``matterhub serve`` are also *contained* (reads, network, privileges,
environment, CPU): :mod:`hub.servables.containment`.  Without that, not contained here:
network access, CPU use by a run within its timeout, reads of files the hub's user may
read, and writes when the sandbox is off.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from hub.servables import landlock

ENV_SANDBOX = "MATTERHUB_SANDBOX"
ENV_WRITABLE = "MATTERHUB_SANDBOX_WRITABLE"
ENV_MAX_PROCS = "MATTERHUB_RUN_MAX_PROCS"
#: Processes a run may have alive at once besides the worker itself.
DEFAULT_MAX_PROCS = int(os.environ.get(ENV_MAX_PROCS, "64"))
#: Servable types whose runs keep helper processes on purpose (kernels), killed with their worker.
KEEPS_PROCESSES = frozenset({"notebook"})
#: Extra resident memory a run's processes may hold over its limit before the watchdog acts
#: (the interpreter's own growth; a run past its limit normally gets a MemoryError first).
RSS_SLACK = 128 * 1024 * 1024

_PR_SET_CHILD_SUBREAPER = 36
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def sandbox_default() -> bool:
    """``MATTERHUB_SANDBOX`` as a boolean (off when unset)."""
    return os.environ.get(ENV_SANDBOX, "").strip().lower() in ("1", "true", "yes", "on")


def extra_writable() -> list[str]:
    """The extra paths sandboxed workers may write: ``$MATTERHUB_SANDBOX_WRITABLE``, split on ``os.pathsep``.

    Blank entries are dropped; unset gives an empty list.
    """
    return [p for p in os.environ.get(ENV_WRITABLE, "").split(os.pathsep) if p.strip()]


# -- the process tree ---------------------------------------------------------------------


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def become_subreaper() -> bool:
    """Make this process adopt its orphaned descendants (Linux 3.4+); False elsewhere."""
    try:
        return bool(_libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _parents() -> dict[int, int]:
    """``{pid: ppid}`` of every process (one pass over /proc)."""
    out: dict[int, int] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: split after the last ')'
        fields = data[data.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            out[int(name)] = int(fields[1])
    return out


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, grandchildren, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    out: list[int] = []
    todo = list(children.get(pid, ()))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def rss_bytes(pids: Iterable[int]) -> int:
    """Resident memory of ``pids`` (bytes; processes gone meanwhile count 0)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def _signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def kill_tree(
    root: int, *, include_root: bool = True, keep: Iterable[int] = (), rounds: int = 20
) -> list[int]:
    """Freeze and kill every descendant of ``root`` but ``keep`` (and ``root`` when asked).

    Freezing first (``SIGSTOP``) stops a fork bomb from outrunning the kill; the tree is
    walked again until no new process appears.  Returns the descendants signalled.
    """
    kept = set(keep)
    seen: set[int] = set()
    if include_root:
        _signal_all([root], signal.SIGSTOP)  # first: a running root would fork behind the walk
    for _ in range(rounds):
        tree = [p for p in descendants(root) if p not in seen and p not in kept]
        if not tree:
            break
        _signal_all(tree, signal.SIGSTOP)
        seen.update(tree)
    if include_root:
        _signal_all([root], signal.SIGKILL)
        _signal_all([root], signal.SIGCONT)
    _signal_all(seen, signal.SIGKILL)
    _signal_all(seen, signal.SIGCONT)  # a stopped process dies of SIGKILL anyway; harmless
    return sorted(seen)


def reap(pids: Iterable[int], timeout: float = 5.0) -> None:
    """Collect the exit status of ``pids`` once they are our children (no zombies left behind)."""
    left = set(pids)
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        for pid in list(left):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not (yet) ours: gone when /proc says so
                done = pid if not os.path.exists(f"/proc/{pid}") else 0
            if done:
                left.discard(pid)
        if left:
            time.sleep(0.01)


def stop_leftovers(before: Iterable[int]) -> int:
    """Kill the processes this process started since ``before`` was taken; how many."""
    killed = kill_tree(os.getpid(), include_root=False, keep=before)
    reap(killed)
    return len(killed)


# -- the working folder of a run ----------------------------------------------------------


class RunFolders:
    """The working folders of runs under ``root``: each run gets an empty folder of its own.

    The run's current directory, ``TMPDIR`` (and ``TEMP``, ``TMP``) and
    :data:`tempfile.tempdir` point into it while it lasts.  A folder the run left as
    it got it (empty, still a private folder of this user) is the next run's; any other
    is removed when the run returns.  Making and removing a folder costs more than most
    small models' runs (a quarter of a millisecond), and an empty private folder is as
    fresh as a new one.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._spare: Path | None = None

    @contextlib.contextmanager
    def use(self) -> Iterator[Path]:
        """Run the block in an empty folder under :attr:`root`; it is removed afterwards unless left empty."""
        folder, self._spare = self._spare, None
        if folder is None:
            self.root.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix="run-", dir=self.root))
        saved_cwd = os.getcwd()
        saved_env = {k: os.environ.get(k) for k in ("TMPDIR", "TEMP", "TMP")}
        saved_tempdir = tempfile.tempdir
        os.chdir(folder)
        for k in saved_env:
            os.environ[k] = str(folder)
        tempfile.tempdir = str(folder)
        try:
            yield folder
        finally:
            os.chdir(self.root if self.root.is_dir() else saved_cwd)
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            tempfile.tempdir = saved_tempdir
            if _untouched(folder):
                self._spare = folder
            else:
                shutil.rmtree(folder, ignore_errors=True)


def _untouched(folder: Path) -> bool:
    """Whether ``folder`` is still an empty folder only this user may enter (as ``mkdtemp`` made it)."""
    try:
        st = os.lstat(folder)
        if not stat.S_ISDIR(st.st_mode) or stat.S_IMODE(st.st_mode) != 0o700 or st.st_uid != os.getuid():
            return False
        with os.scandir(folder) as entries:
            return next(entries, None) is None
    except OSError:
        return False


# -- Landlock: writes only where allowed ---------------------------------------------------


def restrict_writes(writable: Iterable[str | os.PathLike[str]]) -> bool:
    """Allow this process (and every process it starts) to write only below ``writable``.

    Reading and executing stay allowed.  Irreversible.  Returns False (nothing done)
    when the kernel has no Landlock.

    Raises
    ------
    OSError
        When Landlock refuses the rules.
    """
    return landlock.restrict(landlock.writes_only_below(writable)).files


def default_writable(work_root: str | os.PathLike[str]) -> list[str]:
    """The paths a sandboxed worker may write.

    Its work root, ``/dev/shm``, ``/dev/null`` and the paths of :func:`extra_writable`.
    """
    return [os.fspath(work_root), "/dev/shm", "/dev/null", *extra_writable()]


# -- the pool's watchdog ---------------------------------------------------------------------


class Watchdog:
    """Waits for a worker's reply like ``conn.poll(timeout)``, checking its process tree meanwhile.

    :meth:`wait` returns None when the reply is there, ``"timeout"``, ``"procs"`` (more
    than ``max_procs`` processes below the worker) or ``"memory"`` (resident memory of the
    worker and its descendants above its size at the start plus ``memory_mb``).
    """

    #: Seconds between checks; a run shorter than this is never checked.
    interval = 0.25

    def __init__(
        self, pid: int | None, memory_mb: int | None, max_procs: int | None = None, also: Iterable[int] = ()
    ) -> None:
        self.pid = pid
        self.max_procs = DEFAULT_MAX_PROCS if max_procs is None else max_procs
        self.also = frozenset(also)
        self.rss_limit: int | None = None
        if pid is not None and memory_mb is not None:
            # ``also``: processes below ``pid`` that are the worker itself, not the run's (a
            # contained worker's supervisor is ``pid``, the worker proper its child)
            self.rss_limit = rss_bytes([pid, *also]) + memory_mb * 1024 * 1024 + RSS_SLACK
        self.detail = ""

    def check(self) -> str | None:
        """Check the worker's process tree once: ``"procs"``, ``"memory"`` or None when within limits.

        When a limit is exceeded, :attr:`detail` says by how much (for the run's message).
        """
        if self.pid is None:
            return None
        tree = descendants(self.pid)
        started = len(tree) - len(self.also.intersection(tree))
        if started > self.max_procs:
            self.detail = f"it started {started} processes; at most {self.max_procs} may run at once"
            return "procs"
        if self.rss_limit is not None:
            used = rss_bytes([self.pid, *tree])
            if used > self.rss_limit:
                self.detail = (
                    f"its processes held {used / 2**20:,.0f} MB of memory, above the limit of "
                    f"{self.rss_limit / 2**20:,.0f} MB (children included)"
                )
                return "memory"
        return None

    def wait(self, conn: Any, timeout: float) -> str | None:
        """Wait up to ``timeout`` seconds for a reply on ``conn``, checking every :attr:`interval`.

        Returns None when the reply is there, else ``"timeout"``, ``"procs"`` or
        ``"memory"`` (see :meth:`check`); the reply itself is not read.
        """
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if conn.poll(max(0.0, min(self.interval, left))):
                return None
            if time.monotonic() >= deadline:
                return "timeout"
            verdict = self.check()
            if verdict is not None:
                return verdict
