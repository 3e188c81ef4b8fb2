"""The local executor: a pool of worker processes that keep servables loaded.

Workers are fresh interpreters (``python -m hub.servables.worker``, a spawn),
or multiprocessing's ``spawn``/``forkserver`` processes on request; never a
fork of the hub, and nothing runs in the hub's process.  Each has a pipe to
the hub; a run sends only the load spec (a few hundred bytes), the inputs
and the parameters, never the model.  Large arrays travel through shared
memory (:mod:`hub.servables.codec`).

The calling thread waits on its worker's pipe with the run's timeout:

- the servable raises: the result carries the error; the worker goes on;
- it allocates past its memory limit: a MemoryError in the worker, which is
  then replaced (its state is not trusted any more);
- it crashes (segfault, abort, killed): the pipe closes; the exit signal is
  reported and the worker replaced;
- it hangs past the timeout: the worker is killed and replaced.

Runs go to an idle worker that already holds the servable when there is one.

With a :class:`~hub.servables.containment.Containment` (``matterhub serve``), each
worker is *contained* and bound to one servable version for its life
(:mod:`hub.servables.contained`): a run goes to an idle worker bound to its version,
else a free slot, else the least recently used idle worker is replaced by one bound to
it.  The hub unpacks the artifact into the pool's own folder (the worker never sees the
store), and nothing travels through shared-memory files.

A version that runs in an environment of its own (:mod:`hub.servables.environments`) runs
on a worker started with that environment's Python: each worker serves one environment
(the hub's, or one of those), a run waits (within its timeout) for its environment's
build, and an idle worker of another environment gives its slot up when no worker of
the run's environment is free.  Contained workers are bound to a version, and so to its
environment, and read its folders.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from hub.exceptions import EnvironmentBuildError
from hub.servables import codec, sandbox
from hub.servables.containment import (
    Binding,
    Containment,
    hub_package_root,
    launch_command,
    launch_config,
    worker_environment,
)
from hub.servables.environments.layout import BuiltEnvironment, mark_used, python_path, wait_ready
from hub.servables.request import RunRequest, RunResult, RunStatus
from hub.servables.sandbox import sandbox_default
from hub.servables.worker import LoadSpec, WorkerConfig, worker_main

DEFAULT_TIMEOUT_S = float(os.environ.get("MATTERHUB_RUN_TIMEOUT", "300"))
DEFAULT_MEMORY_MB = int(os.environ.get("MATTERHUB_RUN_MEMORY_MB", "4096"))
START_TIMEOUT_S = 120.0
#: How a run the watchdog stopped ended (too many processes: a crash, clearly told).
_VERDICTS = {"timeout": RunStatus.TIMEOUT, "memory": RunStatus.MEMORY, "procs": RunStatus.CRASH}


def default_size() -> int:
    """Worker processes a pool starts: ``$MATTERHUB_WORKERS`` (at least 1), else the CPUs, at most 4.

    Raises
    ------
    ValueError
        When ``$MATTERHUB_WORKERS`` is set but not an integer.
    """
    value = os.environ.get("MATTERHUB_WORKERS")
    if value:
        return max(1, int(value))
    return max(1, min(4, os.cpu_count() or 1))


def _context(start_method: str) -> Any:
    if start_method == "fork":
        raise ValueError(
            "servable workers are never forked from the hub: use 'subprocess', 'forkserver' or 'spawn'"
        )
    ctx = mp.get_context(start_method)
    if start_method == "forkserver":
        ctx.set_forkserver_preload(["hub.servables.worker"])
    return ctx


def signal_name(code: int | None) -> str:
    """How a worker process ended, for messages, from its exit code.

    A negative code is the signal that stopped it (``signal SIGKILL``); None is
    ``an unknown cause``; anything else is ``exit code N``.
    """
    if code is None:
        return "an unknown cause"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _worker_env(contained: bool = False, environment: BuiltEnvironment | None = None) -> dict[str, str]:
    env = worker_environment() if contained else dict(os.environ)
    if environment is None:
        root = hub_package_root()
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    else:
        env["PYTHONPATH"] = python_path(environment.base, env.get("PYTHONPATH", ""))
    env.setdefault("KERAS_BACKEND", "jax")
    return env


class ContainmentRefused(RuntimeError):
    """A contained worker refused to run servable code here (its report says why)."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__(str(report.get("refused")))
        self.report = report


class _Worker:
    """One worker process and the hub's end of its pipe.

    ``subprocess`` (the default) starts a fresh interpreter running
    ``python -m hub.servables.worker`` with a socket pair as the pipe: a spawn
    that does not re-run the caller's ``__main__`` (multiprocessing's spawn and
    forkserver import the caller's script again in every worker, which costs
    seconds when it imports heavy libraries, and runs its top-level code).
    ``spawn`` and ``forkserver`` use multiprocessing's start methods.  A worker of a
    servable's own environment is always a fresh interpreter of that environment's Python.
    """

    def __init__(
        self,
        method: str,
        ctx: Any,
        config: WorkerConfig,
        slot: int,
        binding: Binding | None = None,
        containment: Containment | None = None,
        work_root: str | None = None,
        environment: BuiltEnvironment | None = None,
    ) -> None:
        self.slot = slot
        self.binding = binding
        #: The environment this worker's Python is (None: the hub's).
        self.environment = environment
        #: What the worker's containment put in place (its greeting), for a contained worker.
        self.report: dict[str, Any] | None = None
        self._proc: Any = None
        self._sub: subprocess.Popen[bytes] | None = None
        if containment is not None:
            assert work_root is not None
            ours, theirs = socket.socketpair()
            fd = theirs.fileno()
            try:
                self._sub = subprocess.Popen(
                    launch_command(fd, environment.python if environment is not None else ""),
                    pass_fds=(fd,),
                    stdin=subprocess.DEVNULL,
                    env=_worker_env(contained=True, environment=environment),
                    cwd=work_root,
                    start_new_session=True,
                )
            finally:
                theirs.close()
            self.conn = Connection(ours.detach())
            self.conn.send_bytes(
                json.dumps(launch_config(containment, binding, work_root, asdict(config))).encode()
            )
        elif method == "subprocess" or environment is not None:
            ours, theirs = socket.socketpair()
            fd = theirs.fileno()
            python = environment.python if environment is not None else sys.executable
            try:
                self._sub = subprocess.Popen(
                    [python, "-m", "hub.servables.worker", str(fd), json.dumps(asdict(config))],
                    pass_fds=(fd,),
                    stdin=subprocess.DEVNULL,
                    env=_worker_env(environment=environment),
                    start_new_session=True,  # Ctrl-C in a terminal reaches the hub only
                )
            finally:
                theirs.close()
            self.conn = Connection(ours.detach())
        else:
            self.conn, child = ctx.Pipe(duplex=True)
            self._proc = ctx.Process(
                target=worker_main,
                args=(child, config),
                name=f"matterhub-servable-worker-{slot}",
                daemon=False,
            )
            self._proc.start()
            child.close()
        self.ready = False
        #: The servables this worker holds (key -> type), as the worker's own LRU has them.
        self.loaded: OrderedDict[str, str] = OrderedDict()
        self.last_used = 0.0
        self.runs = 0

    @property
    def pid(self) -> int | None:
        return self._sub.pid if self._sub is not None else self._proc.pid

    @property
    def exitcode(self) -> int | None:
        return self._sub.poll() if self._sub is not None else self._proc.exitcode

    def is_alive(self) -> bool:
        return self._sub.poll() is None if self._sub is not None else bool(self._proc.is_alive())

    def join(self, timeout: float) -> None:
        if self._sub is not None:
            try:
                self._sub.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        else:
            self._proc.join(timeout)

    def kill(self) -> None:
        pid = self.pid
        if pid is not None and self.is_alive():
            sandbox.kill_tree(pid)  # what the run started goes with its worker
        if self._sub is not None:
            self._sub.kill()
        else:
            self._proc.kill()

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        if not self.conn.poll(timeout):
            raise TimeoutError(f"worker {self.slot} did not start within {timeout:.0f} s")
        greeting = self.conn.recv_bytes()
        word, _, rest = greeting.partition(b" ")
        if word == b"refused":
            raise ContainmentRefused(json.loads(rest))
        if word != b"ready":
            raise RuntimeError(f"worker {self.slot} sent an unexpected greeting")
        if rest:
            self.report = json.loads(rest)
        self.ready = True

    def stop(self, graceful: bool = False) -> None:
        if graceful and self.is_alive():
            try:
                self.conn.send_bytes(codec.dumps(None))
                self.join(2)
            except (OSError, ValueError):
                pass
        if self.is_alive():
            self.kill()
        self.join(5)
        if self._sub is not None:
            # a worker that died by itself (a crash) left its children to init: those still in
            # its process group (it leads its own session) go now
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._sub.pid, signal.SIGKILL)
        self.conn.close()


def _environment_name(w: _Worker) -> str:
    return w.environment.key if w.environment is not None else ""


_POOLS: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for pool in list(_POOLS):
        pool.close()


class WorkerPool:
    """``size`` worker processes (default ``$MATTERHUB_WORKERS`` or min(4, cores)).

    Parameters
    ----------
    size
        Number of worker processes.
    max_loaded
        Servables each worker keeps loaded (least recently used dropped first).
    max_memory_mb
        A hard address-space cap for each worker process, or None.
    start_method
        ``subprocess`` (default: a fresh interpreter per worker), or
        multiprocessing's ``spawn`` or ``forkserver``; never ``fork``.
    sandbox
        Let workers write only in their run folders (Landlock); default ``$MATTERHUB_SANDBOX``.
    max_procs
        Processes a run may have alive at once (default ``$MATTERHUB_RUN_MAX_PROCS`` or 64).
    containment
        Contain every worker and bind it to one servable version (see the module's text).
    """

    def __init__(
        self,
        size: int | None = None,
        *,
        max_loaded: int = 8,
        max_memory_mb: int | None = None,
        start_method: str | None = None,
        sandbox: bool | None = None,
        max_procs: int | None = None,
        containment: Containment | None = None,
    ) -> None:
        self.size = size or default_size()
        self.work_root = tempfile.mkdtemp(prefix="matterhub-runs-")
        self.max_procs = max_procs
        self.containment = containment
        if containment is not None:
            # the workers' user may pass through (not list) the pool's folder to its own
            os.chmod(self.work_root, 0o711)
            self.artifacts = Path(self.work_root) / "artifacts"
            self.artifacts.mkdir(mode=0o711)
        self.config = WorkerConfig(
            max_loaded=1 if containment is not None else max_loaded,
            max_memory_mb=max_memory_mb,
            work_root=self.work_root,
            sandbox=(sandbox_default() if sandbox is None else sandbox) and containment is None,
            shm=containment is None,
        )
        self.start_method = start_method or "subprocess"
        self._ctx = None if self.start_method == "subprocess" else _context(self.start_method)
        self._cond = threading.Condition()
        self._workers: list[_Worker | None] = [None] * self.size
        self._busy = [False] * self.size
        #: Environments found built, by folder (a built environment never changes).
        self._built: dict[str, BuiltEnvironment] = {}
        self._closed = False
        #: Worker processes started so far (replacements included): tests count these.
        self.started = 0
        #: Workers replaced after a timeout, crash or memory error.
        self.replaced = 0
        #: Runs sent straight to a warm worker (:meth:`send_warm`): tests count these.
        self.warm = 0
        _POOLS.add(self)

    # -- workers ----------------------------------------------------------------------

    def _start(
        self, slot: int, binding: Binding | None = None, environment: BuiltEnvironment | None = None
    ) -> _Worker:
        if environment is not None:
            mark_used(environment)
        w = _Worker(
            self.start_method,
            self._ctx,
            self.config,
            slot,
            binding,
            self.containment,
            self.work_root,
            environment,
        )
        self._workers[slot] = w
        self.started += 1
        return w

    def start(self) -> None:
        """Start every worker now (otherwise the first run does; contained workers start with their first run)."""
        if self.containment is not None:
            return
        with self._cond:
            for slot, w in enumerate(self._workers):
                if w is None:
                    self._start(slot)

    def _acquire_bound(self, binding: Binding, environment: BuiltEnvironment | None) -> _Worker:
        """An idle contained worker bound to ``binding``'s version (started, or put in place of the LRU idle one).

        ``environment``: the version's own environment (None: the hub's).
        """
        old: _Worker | None = None
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the worker pool is closed")
                idle = [w for w in self._workers if w is not None and not self._busy[w.slot]]
                chosen = next((w for w in idle if w.binding == binding), None)
                if chosen is not None:
                    self._busy[chosen.slot] = True
                    return chosen
                free = next((slot for slot, w in enumerate(self._workers) if w is None), None)
                if free is not None:
                    self._busy[free] = True
                    return self._start(free, binding, environment)
                if idle:
                    old = min(idle, key=lambda w: w.last_used)
                    self._busy[old.slot] = True
                    break
                self._cond.wait()
        old.stop(graceful=True)
        with self._cond:
            return self._start(old.slot, binding, environment)

    def _acquire(self, key: str, kind: str, environment: BuiltEnvironment | None = None) -> _Worker:
        """An idle worker of ``environment`` (None: the hub's), best one holding ``key`` already.

        Empty slots start workers of the hub's environment (all at once) or one of the
        run's own; when every idle worker is of another environment, the least recently
        used of them is replaced by one of the run's.
        """
        name = environment.key if environment is not None else ""
        old: _Worker | None = None
        with self._cond:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            if environment is None and any(w is None for w in self._workers):
                for slot, w in enumerate(self._workers):
                    if w is None:
                        self._start(slot)
            while True:
                if self._closed:
                    raise RuntimeError("the worker pool is closed")
                idle = [w for w in self._workers if w is not None and not self._busy[w.slot]]
                others = [w for w in idle if _environment_name(w) != name]
                idle = [w for w in idle if _environment_name(w) == name]
                if idle:
                    # one that holds it, else one whose libraries are warm (same type), else the emptiest
                    chosen = (
                        next((w for w in idle if key in w.loaded), None)
                        or next((w for w in idle if kind in w.loaded.values()), None)
                        or min(idle, key=lambda w: (len(w.loaded), w.last_used))
                    )
                    self._busy[chosen.slot] = True
                    return chosen
                free = next((slot for slot, w in enumerate(self._workers) if w is None), None)
                if free is not None:
                    self._busy[free] = True
                    return self._start(free, environment=environment)
                if others:
                    old = min(others, key=lambda w: w.last_used)
                    self._busy[old.slot] = True
                    break
                self._cond.wait()
        old.stop(graceful=True)
        with self._cond:
            return self._start(old.slot, environment=environment)

    def _release(self, w: _Worker) -> None:
        with self._cond:
            w.last_used = time.monotonic()
            self._busy[w.slot] = False
            self._cond.notify()

    def _replace(self, w: _Worker) -> _Worker:
        w.stop()
        with self._cond:
            self.replaced += 1
            if self._closed:
                return w
            return self._start(w.slot, w.binding, w.environment)

    def reports(self) -> list[dict[str, Any]]:
        """What the containment of each running contained worker put in place (their greetings)."""
        return [w.report for w in self._workers if w is not None and w.report is not None]

    @property
    def pids(self) -> list[int]:
        """The process ids of the pool's current worker processes (slots not started yet have none)."""
        return [w.pid for w in self._workers if w is not None and w.pid is not None]

    def environments(self) -> dict[int, str]:
        """``{pid: environment key}`` of the current workers ("" for the hub's environment)."""
        return {w.pid: _environment_name(w) for w in self._workers if w is not None and w.pid is not None}

    # -- runs -------------------------------------------------------------------------

    def run(self, request: RunRequest) -> RunResult:
        """Run one request on a worker, in this thread; the result's status says how it ended."""
        spec = request.spec
        timeout = DEFAULT_TIMEOUT_S if request.timeout is None else request.timeout
        memory_mb = DEFAULT_MEMORY_MB if request.memory_mb is None else request.memory_mb
        environment = self._built.get(spec.environment) if spec.environment else None
        if spec.environment and environment is None:
            started = time.monotonic()
            try:
                environment = self._built[spec.environment] = wait_ready(spec.environment, timeout)
            except EnvironmentBuildError as exc:
                return RunResult(RunStatus.ERROR, message=str(exc), exc_type="EnvironmentBuildError")
            except TimeoutError as exc:
                return RunResult(RunStatus.TIMEOUT, message=str(exc))
            timeout = max(0.0, timeout - (time.monotonic() - started))
        if self.containment is not None:
            return self._run_contained(request, timeout, memory_mb, environment)
        if self.config.sandbox:  # sandboxed workers cannot write the artifact cache: unpack it here
            from hub.servables.package import unpacked

            unpacked(spec.store_url, spec.artifact_sha, spec.cache_dir)
        message = codec.dumps(("run", spec, request.inputs, request.params, request.batch, memory_mb))
        w = self._acquire(spec.key, spec.type, environment)
        try:
            return self._run_on(w, spec, message, timeout, memory_mb)
        except BaseException:
            codec.discard(message)
            raise

    def _bound(self, spec: LoadSpec, environment: BuiltEnvironment | None) -> tuple[LoadSpec, Binding]:
        """The spec a contained worker gets (its artifact unpacked here, no store) and the binding it serves."""
        assert self.containment is not None
        from hub.servables.package import unpacked

        mount = unpacked(spec.store_url, spec.artifact_sha, self.artifacts, readable=True)
        # the worker sees its own artifact and nothing of the store
        spec = dataclasses.replace(spec, store_url="", cache_dir=str(self.artifacts))
        binding = Binding(
            spec.key,
            str(mount),
            network=spec.network and self.containment.network,
            python=environment.python if environment is not None else "",
            reads=environment.base if environment is not None else (),
        )
        return spec, binding

    def _run_contained(
        self, request: RunRequest, timeout: float, memory_mb: int, environment: BuiltEnvironment | None
    ) -> RunResult:
        """Run on a contained worker bound to the request's version (its artifact unpacked here)."""
        spec, binding = self._bound(request.spec, environment)
        message = codec.dumps(
            ("run", spec, request.inputs, request.params, request.batch, memory_mb), shm_threshold=sys.maxsize
        )
        return self._run_on(self._acquire_bound(binding, environment), spec, message, timeout, memory_mb)

    def _run_on(
        self, w: _Worker, spec: LoadSpec, message: bytes, timeout: float, memory_mb: int
    ) -> RunResult:
        current = w
        try:
            for attempt in (1, 2):
                try:
                    current.wait_ready(START_TIMEOUT_S)
                    current.conn.send_bytes(message)
                    break
                except ContainmentRefused as exc:
                    current.stop()
                    with self._cond:
                        self._workers[current.slot] = None  # the next run tries a fresh one
                    return RunResult(RunStatus.REFUSED, message=str(exc), exc_type="ContainmentRefused")
                except (OSError, EOFError, TimeoutError, RuntimeError) as exc:
                    # the worker died while idle (or never started): not this run's fault; try a fresh one
                    current = self._replace(current)
                    if attempt == 2:
                        codec.discard(message)
                        return RunResult(RunStatus.CRASH, message=f"no worker could take the run: {exc}")
            sent = _Sent(current, spec, message, timeout, memory_mb, self._watchdog(current, memory_mb))
            verdict = sent.watchdog.wait(current.conn, timeout)
            current, result = self._settle(sent, verdict, _receive(current) if verdict is None else None)
            return result
        except BaseException:
            # interrupted (Ctrl-C) or a bug here: the worker's state is unknown
            current = self._replace(current)
            raise
        finally:
            self._release(current)

    def _watchdog(self, w: _Worker, memory_mb: int) -> sandbox.Watchdog:
        """The watchdog of a run ``w`` was just sent (its memory counted from now)."""
        proper = [w.report["pid"]] if w.report and w.report.get("pid") != w.pid else []
        return sandbox.Watchdog(w.pid, memory_mb, self.max_procs, also=proper)

    def _settle(self, sent: _Sent, verdict: str | None, data: bytes | None) -> tuple[_Worker, RunResult]:
        """How a sent run ended: its verdict (None: the reply is there) and the reply read (None: EOF).

        The worker is replaced when the run was stopped, it died, or it asked to be; the
        worker to release (the same, or its replacement) comes back with the result.
        """
        current, message, memory_mb = sent.worker, sent.message, sent.memory_mb
        if verdict is not None:
            current = self._replace(current)
            codec.discard(message)
            if verdict == "timeout":
                text = f"the run took longer than its timeout of {sent.timeout:g} s"
            else:
                text = f"the run was stopped: {sent.watchdog.detail}"
            return current, RunResult(
                _VERDICTS[verdict],
                message=f"{text}; its worker was stopped and replaced",
                exc_type={"procs": "TooManyProcesses", "memory": "MemoryError"}.get(verdict),
                run_ms=sent.elapsed_ms(),
            )
        if data is None:
            current.join(5)
            cause = signal_name(current.exitcode)
            current = self._replace(current)
            codec.discard(message)
            hint = ""
            if cause in ("signal SIGABRT", "signal SIGKILL", "signal SIGBUS"):
                hint = f" (a run over its memory limit of {memory_mb} MB can end this way)"
            return current, RunResult(
                RunStatus.CRASH,
                message=f"the servable's worker process died ({cause}){hint}; the worker was replaced",
                exc_type=cause,
                run_ms=sent.elapsed_ms(),
            )
        reply = self._reply(sent, data)
        if reply.get("recycle"):
            current.join(5)
            current = self._replace(current)
        return current, RunResult.from_reply(reply)

    def _reply(self, sent: _Sent, data: bytes) -> dict[str, Any]:
        """The worker's reply read, and what it now holds noted."""
        reply: dict[str, Any] = codec.safe_loads(data, segments=self.containment is None)
        w, spec = sent.worker, sent.spec
        w.runs += 1
        w.loaded[spec.key] = spec.type
        w.loaded.move_to_end(spec.key)
        while len(w.loaded) > self.config.max_loaded:
            w.loaded.popitem(last=False)
        return reply

    # -- warm runs (the caller waits its own way: hub.servables.direct) ------------------

    def send_warm(self, request: RunRequest) -> WarmRun | None:
        """Send ``request`` to an idle worker that holds its servable already, if there is one.

        A contained worker must be bound to the version; any other must hold it and be of
        its environment.  None (nothing taken, nothing sent) when no such worker is idle or
        the version's environment was not found built yet: run it with :meth:`run`.  The
        caller waits for the reply on :attr:`WarmRun.conn` however it likes, checking
        :meth:`WarmRun.check` every :attr:`WarmRun.interval` seconds, and settles the run
        with :meth:`WarmRun.settle` or :meth:`WarmRun.finish` (or :meth:`WarmRun.abandon`).
        """
        spec = request.spec
        environment = self._built.get(spec.environment) if spec.environment else None
        if spec.environment and environment is None:
            return None
        timeout = DEFAULT_TIMEOUT_S if request.timeout is None else request.timeout
        memory_mb = DEFAULT_MEMORY_MB if request.memory_mb is None else request.memory_mb
        if self.containment is not None:
            if not (self.artifacts / spec.artifact_sha).is_dir():
                return None  # not unpacked yet: no worker is bound to it (and unpacking may take a while)
            spec, binding = self._bound(spec, environment)
            w = self._take_idle(lambda w: w.binding == binding)
            threshold = sys.maxsize
        else:
            name = environment.key if environment is not None else ""
            w = self._take_idle(lambda w: spec.key in w.loaded and _environment_name(w) == name)
            threshold = codec.SHM_THRESHOLD
        if w is None:
            return None
        try:
            message = codec.dumps(
                ("run", spec, request.inputs, request.params, request.batch, memory_mb),
                shm_threshold=threshold,
            )
        except BaseException:
            self._release(w)
            raise
        try:
            w.conn.send_bytes(message)
        except (OSError, ValueError):
            # it died while idle: replaced (in this thread) and the run goes the ordinary way
            codec.discard(message)
            self._release(self._replace(w))
            return None
        with self._cond:
            self.warm += 1
        return WarmRun(self, _Sent(w, spec, message, timeout, memory_mb, self._watchdog(w, memory_mb)))

    def _take_idle(self, fits: Callable[[_Worker], bool]) -> _Worker | None:
        """An idle, started worker that ``fits``, marked busy; None when there is none."""
        with self._cond:
            if self._closed:
                return None
            for w in self._workers:
                if w is not None and w.ready and not self._busy[w.slot] and fits(w):
                    self._busy[w.slot] = True
                    return w
        return None

    def close(self) -> None:
        """Stop every worker (running ones are killed)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            workers = [w for w in self._workers if w is not None]
            busy = list(self._busy)
        for w in workers:
            w.stop(graceful=not busy[w.slot])
        shutil.rmtree(self.work_root, ignore_errors=True)
        _POOLS.discard(self)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _receive(w: _Worker) -> bytes | None:
    """The reply waiting on ``w``'s pipe; None when the worker is gone (EOF)."""
    try:
        return w.conn.recv_bytes()
    except (EOFError, OSError):
        return None


@dataclasses.dataclass
class _Sent:
    """A run sent to a worker: what the pool needs to settle it."""

    worker: _Worker
    spec: LoadSpec
    message: bytes
    timeout: float
    memory_mb: int
    watchdog: sandbox.Watchdog
    started: float = dataclasses.field(default_factory=time.perf_counter)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


class WarmRun:
    """A run :meth:`WorkerPool.send_warm` sent to a warm worker, until it is settled.

    Wait for :attr:`conn` to be readable (or :attr:`timeout` to pass), calling
    :meth:`check` every :attr:`interval` seconds meanwhile, then settle it once:
    :meth:`finish` (quick: it reads the reply), and when that gives None, :meth:`settle`
    (which may block: a worker that died, was stopped or asked to go is replaced); or
    :meth:`abandon` when the waiter gave up.  Each of those releases the worker.
    """

    def __init__(self, pool: WorkerPool, sent: _Sent) -> None:
        self._pool = pool
        self._sent = sent
        #: The reply read by :meth:`finish` that :meth:`settle` must act on (None: the worker's end).
        self._data: bytes | None = None

    @property
    def conn(self) -> Connection:
        """The worker's pipe, readable when its reply (or its end) is there."""
        conn: Connection = self._sent.worker.conn
        return conn

    @property
    def timeout(self) -> float:
        """Seconds the run may take (from when it was sent)."""
        return self._sent.timeout

    @property
    def interval(self) -> float:
        """Seconds between :meth:`check` calls while the run lasts."""
        return self._sent.watchdog.interval

    def check(self) -> str | None:
        """Check the worker's process tree once: ``"procs"``, ``"memory"`` or None (see :class:`~hub.servables.sandbox.Watchdog`)."""
        return self._sent.watchdog.check()

    def finish(self) -> RunResult | None:
        """Read the reply (:attr:`conn` is readable): the result, the worker released, when it needs nothing more.

        None when the worker died or asked to be replaced: then call :meth:`settle`.
        """
        data = _receive(self._sent.worker)
        self._data = data
        if data is None:
            return None
        reply = self._pool._reply(self._sent, data)
        if reply.get("recycle"):
            return None
        self._pool._release(self._sent.worker)
        return RunResult.from_reply(reply)

    def settle(self, verdict: str | None = None) -> RunResult:
        """The result of a run stopped (``verdict``: ``"timeout"``, ``"procs"``, ``"memory"``) or that :meth:`finish` left.

        Blocks while its worker is replaced; releases the worker (or its replacement).
        """
        current = self._sent.worker
        try:
            if verdict is None and self._data is not None:  # a reply that asked for a fresh worker
                current.join(5)
                current = self._pool._replace(current)
                return RunResult.from_reply(
                    codec.safe_loads(self._data, segments=self._pool.containment is None)
                )
            current, result = self._pool._settle(self._sent, verdict, None)
            return result
        finally:
            self._pool._release(current)

    def abandon(self) -> None:
        """Give the run up (its waiter was cancelled): the worker, whose state is unknown, is replaced."""
        self._pool._release(self._pool._replace(self._sent.worker))
