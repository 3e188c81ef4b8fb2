"""What runs inside a worker process: load servables (LRU), run them, report.

The same :func:`execute` serves the local pool's worker processes
(:func:`worker_main`) and Dask workers (:func:`run_on_dask`).  Each run:

- loads the servable if this process does not hold it yet (the artifact is
  unpacked once per machine, the model once per process; the least recently
  used model is dropped past ``max_loaded``); the code it ships is a package of
  its own, lent the names it was published with while it loads and runs
  (:mod:`hub.servables.shipped`);
- lowers the soft address-space limit (``RLIMIT_AS``) to what the process uses
  now plus the run's ``memory_mb``, so a run that allocates past it gets a
  MemoryError, not the machine's memory; the limit goes back up afterwards;
- captures what the servable prints (Python-level ``sys.stdout``/``sys.stderr``);
- returns plain data only (:func:`hub.servables.codec.to_safe`).

Only the hub's own requests are read here; the hub reads the replies with
:func:`hub.servables.codec.safe_loads`.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hub.servables import codec, sandbox
from hub.servables.shipped import ShippedCode

if TYPE_CHECKING:
    from hub.servables.base import Runner

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

#: Captured output kept per stream (the end of it).
MAX_CAPTURE = 256 * 1024


@dataclass(frozen=True)
class LoadSpec:
    """Everything a worker needs to load one servable version (sent with every run: a few hundred bytes)."""

    key: str
    type: str
    artifact_sha: str
    store_url: str
    cache_dir: str
    files: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    requirements: tuple[str, ...] = ()
    #: The servable declares it needs the network (see :class:`hub.servables.metadata.Limits`).
    network: bool = False
    #: The folder of the environment of its own it runs in ("": the hub's environment; see
    #: :mod:`hub.servables.environments`).
    environment: str = ""


@dataclass(frozen=True)
class WorkerConfig:
    """How a pool's worker processes run (the same for every worker of a pool)."""

    #: Servable versions a worker keeps loaded; the least recently used goes first.
    max_loaded: int = 8
    #: A hard address-space cap for the whole worker (MB), or None.
    max_memory_mb: int | None = None
    #: Each run gets a fresh working folder under ``work_root/w<pid>`` (None: runs stay in the cwd).
    work_root: str | None = None
    #: Let the worker write only in its work folder (Landlock; :mod:`hub.servables.sandbox`).
    sandbox: bool = False
    #: More paths the sandboxed worker may write below.
    writable: tuple[str, ...] = ()
    #: Send large arrays back through shared-memory files (not for contained workers: the hub
    #: would have to open a file the servable names).
    shm: bool = True


@dataclass(frozen=True)
class LoadedServable:
    """A servable version a process holds: its runner and the code it ships."""

    runner: Runner
    code: ShippedCode


class Loaded:
    """The servables a process holds, least recently used first."""

    def __init__(self, max_loaded: int) -> None:
        self.max_loaded = max(1, max_loaded)
        self.items: OrderedDict[str, LoadedServable] = OrderedDict()

    def get(self, spec: LoadSpec, stderr: Any) -> tuple[LoadedServable, float]:
        """Return the servable ``spec`` names, loading it first if this process does not hold it.

        Parameters
        ----------
        spec
            The servable version to hold.
        stderr
            Where to say what the worker lacks of the servable's pinned requirements.

        Returns
        -------
        tuple of LoadedServable and float
            The servable, and the milliseconds its loading took (0 when it was held already).
        """
        held = self.items.get(spec.key)
        if held is not None:
            self.items.move_to_end(spec.key)
            return held, 0.0
        t0 = time.perf_counter()
        from hub.servables.package import unpacked
        from hub.servables.registry import get_type
        from hub.servables.requirements import mismatches

        root = unpacked(spec.store_url, spec.artifact_sha, spec.cache_dir)
        code = ShippedCode(root / "code", spec.key)
        for line in mismatches(spec.requirements):
            print(f"matterhub: {spec.key}: {line}", file=stderr)
        # the hub's blob store travels with the options (a notebook stores its executed copy there,
        # naming the artifact it ran from: who may see the servable may read it)
        options = {**spec.options, "store_url": spec.store_url, "artifact_sha256": spec.artifact_sha}
        try:
            with code.imports():
                runner = get_type(spec.type).load(root / "model", _relative(spec.files), options)
        except BaseException:
            code.forget()
            raise
        self.items[spec.key] = LoadedServable(runner, code)
        while len(self.items) > self.max_loaded:
            _, dropped = self.items.popitem(last=False)
            dropped.code.forget()
            gc.collect()
        return self.items[spec.key], (time.perf_counter() - t0) * 1000

    def drop_all(self) -> None:
        """Drop every servable this process holds, with the modules they ship."""
        for held in self.items.values():
            held.code.forget()
        self.items.clear()
        gc.collect()


def _relative(files: dict[str, Any]) -> dict[str, Any]:
    """Plugin files are relative to ``model/``."""
    out = {}
    for k, v in files.items():
        out[k] = v.split("/", 1)[1] if isinstance(v, str) and v.startswith("model/") else v
    return out


# -- memory limits ------------------------------------------------------------------------

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def address_space() -> int | None:
    """Bytes of address space this process uses now (Linux), else None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * _PAGE
    except OSError:
        return None


def _set_soft_limit(memory_mb: int | None) -> bool:
    if resource is None or memory_mb is None:
        return False
    used = address_space()
    if used is None:
        return False
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    target = used + memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        target = min(target, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (target, hard))
    except (ValueError, OSError):
        return False
    return True


def _restore_limit() -> None:
    if resource is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


# -- one run ------------------------------------------------------------------------------


def _stackable(inputs: list[Any]) -> bool:
    if not inputs or not all(isinstance(x, np.ndarray) and x.ndim >= 1 for x in inputs):
        return False
    first = inputs[0]
    return all(x.shape[1:] == first.shape[1:] and x.dtype == first.dtype for x in inputs)


def run_batch(runner: Any, inputs: list[Any], params: dict[str, Any]) -> list[Any]:
    """Run a list of inputs: one stacked call when the runner and inputs allow it, else one call each."""
    if getattr(runner, "batchable", False) and _stackable(inputs):
        lengths = [len(x) for x in inputs]
        out = runner(np.concatenate(inputs), params)
        if isinstance(out, np.ndarray) and out.ndim >= 1 and out.shape[0] == sum(lengths):
            return [part.copy() for part in np.split(out, np.cumsum(lengths)[:-1])]
    return [runner(x, params) for x in inputs]


def _tail(text: str) -> str:
    return text if len(text) <= MAX_CAPTURE else "[... output cut ...]\n" + text[-MAX_CAPTURE:]


def execute(
    loaded: Loaded,
    spec: LoadSpec,
    inputs: Any,
    params: dict[str, Any],
    batch: bool,
    memory_mb: int | None,
) -> dict[str, Any]:
    """Load (if needed) and run one servable; the reply is plain data."""
    out, err = io.StringIO(), io.StringIO()
    reply: dict[str, Any] = {"pid": _HOST_PID or os.getpid(), "load_ms": 0.0, "run_ms": 0.0}
    limited = _set_soft_limit(memory_mb)
    spec = _anchored(spec)
    before = _children_before() if spec.type not in sandbox.KEEPS_PROCESSES else None
    try:
        with (
            # a type that keeps processes (a notebook's pooled kernels, started during one run
            # and used by the next) runs in the worker's own folder, which outlives the run
            _FOLDERS.use() if _FOLDERS is not None and spec.type not in sandbox.KEEPS_PROCESSES else _stay(),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            held, reply["load_ms"] = loaded.get(spec, err)
            t0 = time.perf_counter()
            with held.code.imports():
                value = run_batch(held.runner, inputs, params) if batch else held.runner(inputs, params)
            reply["run_ms"] = (time.perf_counter() - t0) * 1000
        value = codec.to_safe(value)
        reply.update(status="ok", value=value)
    except MemoryError:
        loaded.drop_all()
        reply.update(
            status="memory",
            exc_type="MemoryError",
            message=f"the run tried to allocate more than its memory limit of {memory_mb} MB",
            traceback=traceback.format_exc(limit=-8),
            recycle=True,
        )
    except BaseException as exc:  # the servable's own error, whatever it is
        reply.update(
            status="error",
            exc_type=f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins."),
            message=str(exc),
            traceback=traceback.format_exc(),
        )
        if isinstance(exc, SystemExit | KeyboardInterrupt):
            reply["recycle"] = True
    finally:
        if limited:
            _restore_limit()
    if before is not None and _has_children():
        stopped = sandbox.stop_leftovers(before)
        if stopped:
            print(f"matterhub: stopped {stopped} process(es) the run left running", file=err)
    reply["stdout"] = _tail(out.getvalue())
    reply["stderr"] = _tail(err.getvalue())
    return reply


# -- containment (hub.servables.sandbox) ----------------------------------------------------

#: The folder runs get their working folders in (set by :func:`worker_main`; None under Dask).
_RUN_ROOT: Path | None = None
#: The runs' working folders under :data:`_RUN_ROOT` (None under Dask).
_FOLDERS: sandbox.RunFolders | None = None
#: The working directory the worker started in (the hub's), against which relative paths resolve.
_START_CWD = os.getcwd()
#: This worker's pid as the hub sees it (a contained worker in a pid namespace is pid 1 there).
_HOST_PID: int | None = None


def _anchored(spec: LoadSpec) -> LoadSpec:
    """``spec`` with a relative store path and cache folder made absolute (runs change the cwd)."""
    if _RUN_ROOT is None:
        return spec
    store, cache = spec.store_url, spec.cache_dir
    if store and "://" not in store and not os.path.isabs(store):  # "" (a contained worker): no store
        store = os.path.join(_START_CWD, store)
    if not os.path.isabs(cache):
        cache = os.path.join(_START_CWD, cache)
    if (store, cache) == (spec.store_url, spec.cache_dir):
        return spec
    import dataclasses

    return dataclasses.replace(spec, store_url=store, cache_dir=cache)


@contextlib.contextmanager
def _stay() -> Iterator[None]:
    """Run in the worker's own folder (a type that keeps processes, or no run root)."""
    yield


def _has_children() -> bool:
    """Whether this process has any child (running or exited), without reaping one."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def _children_before() -> set[int] | None:
    """The processes below this worker before a run (None: not a contained pool worker)."""
    if _RUN_ROOT is None:
        return None
    return set(sandbox.descendants(os.getpid())) if _has_children() else set()


def _exit_with_parent(poll: float = 1.0) -> None:
    """Stop this worker (and what its run started) once the hub that started it is gone.

    A killed hub must not leave a servable running forever.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        sandbox.kill_tree(os.getpid(), include_root=False)
        os._exit(70)

    threading.Thread(target=watch, name="matterhub-parent-watch", daemon=True).start()


def _contained(work: Path, pid: int | None) -> None:
    """Set up what a contained worker still needs: runs in ``work``, and leaving with the hub.

    ``pid``: its pid as the hub sees it (for replies).
    """
    global _RUN_ROOT, _FOLDERS, _HOST_PID
    _exit_with_parent()
    _RUN_ROOT, _FOLDERS = work, sandbox.RunFolders(work)
    _HOST_PID = pid


def _contain(config: WorkerConfig) -> None:
    """Set up a pool worker's containment: subreaper, work folder, and the write sandbox."""
    global _RUN_ROOT, _FOLDERS
    sandbox.become_subreaper()
    _exit_with_parent()
    if config.work_root is None:
        return
    root = Path(config.work_root) / f"w{os.getpid()}"
    root.mkdir(parents=True, exist_ok=True)
    os.chdir(root)
    _RUN_ROOT, _FOLDERS = root, sandbox.RunFolders(root)
    if config.sandbox:
        # kernels and libraries that write runtime files find them in the work folder
        for var, sub in (("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("IPYTHONDIR", "ipython")):
            os.environ[var] = str(root / sub)
        os.environ.setdefault("MPLCONFIGDIR", str(root / "matplotlib"))
        try:
            applied = sandbox.restrict_writes([*sandbox.default_writable(root), *config.writable])
        except OSError as exc:
            applied = False
            print(f"matterhub worker: the write sandbox could not be applied: {exc}", file=sys.stderr)
        if not applied:
            print(
                "matterhub worker: MATTERHUB_SANDBOX is on but this kernel has no Landlock (Linux 5.13+); "
                "servables may write wherever this user can",
                file=sys.stderr,
            )


# -- the local pool's worker process --------------------------------------------------------


def worker_main(
    conn: Any, config: WorkerConfig, contained: tuple[Path, dict[str, Any]] | None = None
) -> None:
    """The loop of a pool worker: read a request, run it, answer; stop at EOF or ``None``.

    ``contained``: the work folder and report of a worker :mod:`hub.servables.contained`
    has contained already (its greeting carries the report; it leaves when its CPU time
    nears its hard limit).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the hub, which stops us itself
    os.environ.setdefault("KERAS_BACKEND", "jax")
    if resource is not None and config.max_memory_mb:
        cap = config.max_memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    greeting = b"ready"
    if contained is None:
        _contain(config)
    else:
        _contained(contained[0], contained[1].get("pid"))
        greeting += b" " + json.dumps(contained[1]).encode()
    shm_threshold = codec.SHM_THRESHOLD if config.shm else sys.maxsize
    loaded = Loaded(config.max_loaded)
    conn.send_bytes(greeting)
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        request = codec.loads(data)
        if request is None:
            return
        _, spec, inputs, params, batch, memory_mb = request
        reply = execute(loaded, spec, inputs, params, batch, memory_mb)
        if contained is not None and _cpu_nearly_spent():
            reply["recycle"] = True
        try:
            message = codec.dumps(reply, shm_threshold=shm_threshold)
        except BaseException as exc:
            reply = {
                **{k: reply.get(k) for k in ("pid", "load_ms", "run_ms", "stdout", "stderr")},
                "status": "error",
                "exc_type": type(exc).__name__,
                "message": f"the outputs could not be sent back: {exc}",
                "traceback": traceback.format_exc(),
            }
            message = codec.dumps(reply, shm_threshold=shm_threshold)
        try:
            conn.send_bytes(message)
        except (BrokenPipeError, OSError):
            codec.discard(message)
            return
        if reply.get("recycle"):
            return


def _cpu_nearly_spent() -> bool:
    """Whether this process used 80 % of its hard CPU-time limit (time to make way for a fresh one)."""
    if resource is None:
        return False
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard == resource.RLIM_INFINITY:
        return False
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime > 0.8 * hard


def main(argv: list[str] | None = None) -> None:
    """``python -m hub.servables.worker FD CONFIG_JSON``: a pool worker on an inherited socket."""
    from multiprocessing.connection import Connection

    args = sys.argv[1:] if argv is None else argv
    worker_main(Connection(int(args[0])), WorkerConfig(**json.loads(args[1])))


# -- Dask ---------------------------------------------------------------------------------

_DASK_LOADED: Loaded | None = None


def run_on_dask(spec: LoadSpec, payload: bytes, memory_mb: int | None = None) -> bytes:
    """The task a Dask worker runs: the same :func:`execute`, one LRU per worker process.

    Takes and returns bytes, so the hub reads the reply with its safe loader
    (a Dask result would otherwise be unpickled as is).
    """
    global _DASK_LOADED
    if _DASK_LOADED is None:
        _DASK_LOADED = Loaded(int(os.environ.get("MATTERHUB_MAX_LOADED", "8")))
    os.environ.setdefault("KERAS_BACKEND", "jax")
    inputs, params, batch = codec.loads(payload)
    spec = _local_cache(spec)
    reply = execute(_DASK_LOADED, spec, inputs, params, batch, None)
    reply.pop("recycle", None)
    try:
        return codec.dumps(reply, shm_threshold=sys.maxsize)
    except BaseException as exc:
        reply.update(
            value=None,
            status="error",
            exc_type=type(exc).__name__,
            message=f"the outputs could not be sent back: {exc}",
        )
        return codec.dumps(reply, shm_threshold=sys.maxsize)


def _local_cache(spec: LoadSpec) -> LoadSpec:
    """The spec with a cache folder this (possibly remote) worker can write."""
    try:
        Path(spec.cache_dir).mkdir(parents=True, exist_ok=True)
        if os.access(spec.cache_dir, os.W_OK):
            return spec
    except OSError:
        pass
    import dataclasses
    import tempfile

    return dataclasses.replace(spec, cache_dir=str(Path(tempfile.gettempdir()) / "matterhub-servables"))


if __name__ == "__main__":
    from hub.servables.worker import main as _main  # the importable module, not this __main__ copy

    _main()
