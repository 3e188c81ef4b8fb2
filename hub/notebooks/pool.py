"""A pool of pre-started Jupyter kernels.

Starting an IPython kernel costs about a second; running a small notebook, a
few milliseconds.  The pool keeps ``size`` kernels started (their clients
connected and ready) so a run takes one at once.  ``preload`` imports modules in
each kernel before it is handed out (``numpy``, ``pandas``), silently.

Two kinds of pool, two isolations:

- a shared pool (the default; the servable workers' and the papermill engine's,
  serving anyone): every run gets a fresh kernel, which is shut down afterwards,
  and the pool starts a replacement in the background.  Nothing of one run, and
  so nothing of one user, is ever seen by another;
- a pool with ``reuse=True`` serves one owner (``run_batch`` makes one per batch
  and closes it at the end): a kernel comes back after a run, is put back as it
  started (:mod:`hub.notebooks.kernelstate`: namespace, history and execution
  count, working folder, ``sys.path``, environment) and serves that owner's next
  run.  A run that raised (a timeout, a dead kernel) or a kernel that cannot be
  put back is shut down and replaced by a new one, started in the background.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from hub.plugins import require_imports

#: Kernels each pool keeps ready, unless told (``$MATTERHUB_KERNEL_POOL``).
DEFAULT_SIZE = 2


def default_size() -> int:
    """Kernels a pool keeps ready: ``$MATTERHUB_KERNEL_POOL`` (at least 1), else :data:`DEFAULT_SIZE`.

    A value that is not an integer falls back to :data:`DEFAULT_SIZE`.
    """
    try:
        return max(1, int(os.environ.get("MATTERHUB_KERNEL_POOL", DEFAULT_SIZE)))
    except ValueError:
        return DEFAULT_SIZE


@dataclass
class PooledKernel:
    """One started kernel: its manager and a connected, ready blocking client."""

    km: Any
    kc: Any
    kernel_name: str
    preloaded: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)
    #: Whether the kernel took its :func:`~hub.notebooks.kernelstate.snapshot` (it can be put back).
    restorable: bool = False

    def execute_silently(self, code: str, timeout: float = 60) -> dict[str, Any]:
        """Run ``code`` without history or output; the reply's content (raises on error)."""
        msg_id = self.kc.execute(code, silent=True, store_history=False)
        reply = self.kc.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=timeout)
        content: dict[str, Any] = reply["content"]
        if content.get("status") != "ok":
            raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')} (running {code!r})")
        return content

    def snapshot(self, timeout: float = 60) -> None:
        """Have the kernel remember its state as started, so that :meth:`restore` can put it back."""
        self.execute_silently(
            "import hub.notebooks.kernelstate as __mh_ks\n__mh_ks.snapshot()\ndel __mh_ks", timeout
        )
        self.restorable = True

    def restore(self, timeout: float = 60) -> None:
        """Put the kernel back as :meth:`snapshot` saw it, then import the preloaded modules again.

        Raises
        ------
        RuntimeError
            When the kernel has no snapshot, or putting it back failed in the kernel.
        """
        if not self.restorable:
            raise RuntimeError("this kernel took no snapshot: it cannot be put back")
        code = "import hub.notebooks.kernelstate as __mh_ks\n__mh_ks.restore()"
        self.execute_silently("\n".join([code, *(f"import {m}" for m in self.preloaded)]), timeout)

    def shutdown(self) -> None:
        """Stop the client's channels, then the kernel process, then its connection files.

        Failures while stopping the kernel or cleaning up are swallowed (the kernel may
        already be gone).
        """
        try:
            self.kc.stop_channels()
        finally:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass
            try:
                self.km.cleanup_resources()
            except Exception:
                pass


class KernelPool:
    """Keep ``size`` kernels of ``kernel_name`` started and ready.

    Parameters
    ----------
    size
        Kernels kept ready (default ``$MATTERHUB_KERNEL_POOL`` or 2).
    kernel_name
        The kernelspec (``python3``: this Python's ipykernel).
    preload
        Modules each kernel imports before it is handed out.
    startup_timeout
        Seconds a kernel may take to start and answer.
    reuse
        Whether a kernel serves several runs, put back as started in between (a pool
        that serves one owner only; see the module docs).  False: one fresh kernel per run.
    """

    def __init__(
        self,
        size: int | None = None,
        kernel_name: str = "python3",
        *,
        preload: tuple[str, ...] | list[str] = (),
        startup_timeout: float = 60,
        reuse: bool = False,
    ) -> None:
        require_imports(("jupyter_client", "ipykernel"), "notebooks", "The kernel pool")
        self.size = size or default_size()
        self.kernel_name = kernel_name or "python3"
        self.preload = tuple(preload)
        self.startup_timeout = startup_timeout
        self.reuse = reuse
        self._ready: queue.Queue[PooledKernel | BaseException] = queue.Queue()
        self._starter = ThreadPoolExecutor(self.size, thread_name_prefix="matterhub-kernel-start")
        self._stopper = ThreadPoolExecutor(2, thread_name_prefix="matterhub-kernel-stop")
        self._lock = threading.Lock()
        self._closed = False
        self._live: set[int] = set()
        self._kernels: dict[int, PooledKernel] = {}
        #: Kernels started so far (tests count them).
        self.started = 0
        #: Runs served.
        self.served = 0
        #: Kernels put back for another run (``reuse=True``).
        self.restored = 0
        for _ in range(self.size):
            self._starter.submit(self._start_one)
        _POOLS.add(self)

    # -- kernels ------------------------------------------------------------------------

    def _start_one(self) -> None:
        if self._closed:
            return
        try:
            pk = self._launch()
        except BaseException as exc:  # handed to whoever waits, so they see why
            self._ready.put(exc)
            return
        with self._lock:
            if self._closed:
                pk.shutdown()
                return
            self._kernels[id(pk)] = pk
        self._ready.put(pk)

    def _launch(self) -> PooledKernel:
        from jupyter_client.manager import KernelManager

        km = KernelManager(kernel_name=self.kernel_name)
        km.start_kernel()
        with self._lock:
            self.started += 1
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=self.startup_timeout)
            pk = PooledKernel(km, kc, self.kernel_name, info={"cwd": os.getcwd()})
            if self.preload:
                pk.execute_silently("\n".join(f"import {m}" for m in self.preload), self.startup_timeout)
                pk.preloaded = self.preload
            if self.reuse:
                try:
                    pk.snapshot(self.startup_timeout)
                except RuntimeError:  # e.g. a kernel without the hub: it serves one run, as in a shared pool
                    pass
        except BaseException:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
            raise
        return pk

    def acquire(self, timeout: float | None = None) -> PooledKernel:
        """A ready kernel for one run (waits for one when all are taken).

        In a shared pool a replacement starts at once; with ``reuse=True`` the kernel
        comes back through :meth:`release`.
        """
        if self._closed:
            raise RuntimeError("this kernel pool is closed")
        timeout = self.startup_timeout * 2 if timeout is None else timeout
        try:
            got = self._ready.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(
                f"no {self.kernel_name!r} kernel became ready within {timeout:.0f} s "
                f"(pool of {self.size}); raise start_timeout or the pool size"
            ) from None
        if not self.reuse or isinstance(got, BaseException):
            self._starter.submit(self._start_one)
        if isinstance(got, BaseException):
            raise RuntimeError(f"the {self.kernel_name!r} kernel failed to start: {got!r}") from got
        with self._lock:
            self.served += 1
        return got

    def release(self, pk: PooledKernel, *, broken: bool = False) -> None:
        """Done with ``pk`` after one run.

        In a shared pool it is shut down in the background (never reused).  With
        ``reuse=True`` it is put back as it started, in the background, and made ready
        for the next run, unless the run left it ``broken`` (it raised: a timeout, a dead kernel), it
        cannot be put back, or the pool is closed: then it is shut down and, while the
        pool is open, a new kernel starts in its place.
        """
        if self.reuse and not broken and not self._closed and pk.restorable:
            self._starter.submit(self._put_back, pk)
            return
        self._retire(pk)

    def _put_back(self, pk: PooledKernel) -> None:
        """Restore ``pk`` in the background and make it ready again (else replace it)."""
        try:
            pk.restore(self.startup_timeout)
        except Exception:  # the kernel is gone, hangs or failed to reset: a new one instead
            self._retire(pk)
            return
        with self._lock:
            self.restored += 1
        self._ready.put(pk)

    def _retire(self, pk: PooledKernel) -> None:
        """Shut ``pk`` down; in an open pool with ``reuse=True``, start a new kernel in its place."""
        with self._lock:
            self._kernels.pop(id(pk), None)
        if self._closed:
            pk.shutdown()
            return
        self._stopper.submit(pk.shutdown)
        if self.reuse:
            self._starter.submit(self._start_one)

    def ready_count(self) -> int:
        """Kernels started and waiting to be taken.

        A start that failed counts too, until the caller of :meth:`acquire` that
        receives its error takes it.
        """
        return self._ready.qsize()

    def close(self) -> None:
        """Stop every kernel this pool holds."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._starter.shutdown(wait=True, cancel_futures=True)
        self._stopper.shutdown(wait=True)
        with self._lock:
            left = list(self._kernels.values())
            self._kernels.clear()
        for pk in left:
            pk.shutdown()
        while not self._ready.empty():
            self._ready.get_nowait()

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<KernelPool {self.kernel_name!r} size={self.size} ready={self.ready_count()} "
            f"started={self.started} served={self.served}{' reuse' if self.reuse else ''}>"
        )


_POOLS: weakref.WeakSet[KernelPool] = weakref.WeakSet()
_SHARED: dict[tuple[str, tuple[str, ...]], KernelPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(kernel_name: str | None = None, preload: tuple[str, ...] = ()) -> KernelPool:
    """The process-wide pool for ``kernel_name`` (what the papermill engine uses)."""
    key = (kernel_name or "python3", tuple(preload))
    with _SHARED_LOCK:
        pool = _SHARED.get(key)
        if pool is None or pool._closed:
            pool = _SHARED[key] = KernelPool(kernel_name=key[0], preload=key[1])
        return pool


def close_shared() -> None:
    """Stop the process-wide pools (at exit, and in tests)."""
    with _SHARED_LOCK:
        pools = list(_SHARED.values())
        _SHARED.clear()
    for pool in pools:
        pool.close()


@atexit.register
def _close_all() -> None:
    close_shared()
    for pool in list(_POOLS):
        pool.close()
