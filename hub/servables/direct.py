"""The direct path: a run sent straight to a warm worker and awaited on the running event loop.

A service's synchronous run of a small model spends more time being handed between
threads than running: the route's thread, the thread that waits on the worker's pipe,
the thread that encodes the answer.  Here the event loop that received the request
sends the run to an idle worker process that holds the servable already
(:meth:`~hub.servables.pool.WorkerPool.send_warm`: bound to the version when contained)
and waits for its reply as it waits for a socket (``add_reader``): no thread, no job
queue, the same request and reply frames, limits and outcomes as every other run of the
pool.  Published code still runs in the worker only; what comes back is plain data.

While a run lasts longer than a moment, the watchdog's checks of the worker's process
tree run in a thread every :attr:`~hub.servables.pool.WarmRun.interval` (they read
``/proc``); a run past its timeout is stopped.  Anything that may block (a worker that
died, was stopped or asked to be replaced) is settled in a thread.

:func:`run_warm` is what :meth:`hub.servables.executors.LocalExecutor.run_async` uses
first; when no warm worker is idle it gives None and the run goes the ordinary way.
"""

from __future__ import annotations

import asyncio
import os

from hub.servables.pool import WarmRun, WorkerPool
from hub.servables.request import RunRequest, RunResult


async def run_warm(pool: WorkerPool, request: RunRequest) -> RunResult | None:
    """Run ``request`` on an idle worker of ``pool`` that holds its servable, awaiting the reply here.

    Returns
    -------
    RunResult or None
        How the run ended (whatever its status), or None when no such worker was idle
        (nothing was sent).
    """
    run = pool.send_warm(request)
    if run is None:
        return None
    loop = asyncio.get_running_loop()
    try:
        verdict = await reply_or_verdict(run)
    except BaseException:
        # cancelled while the worker runs: its state is unknown, it is replaced (in a thread)
        loop.run_in_executor(None, run.abandon)
        raise
    if verdict is None:
        result = run.finish()
        if result is not None:
            return result
    return await loop.run_in_executor(None, run.settle, verdict)


async def reply_or_verdict(run: WarmRun) -> str | None:
    """Wait on the running loop until ``run``'s reply is there (None) or the watchdog stops it.

    Returns
    -------
    str or None
        None when its pipe is readable; ``"timeout"`` past its timeout, ``"procs"`` or
        ``"memory"`` when a check of its process tree found it over a limit.
    """
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[str | None] = loop.create_future()
    deadline = loop.time() + run.timeout
    fd = run.conn.fileno()

    def answer(verdict: str | None) -> None:
        if not outcome.done():
            outcome.set_result(verdict)

    def checked(check: asyncio.Future[str | None]) -> None:
        if outcome.done():
            return
        verdict = check.result() if not check.cancelled() and check.exception() is None else None
        if verdict is not None:
            answer(verdict)
        else:
            schedule()

    def tick() -> None:
        if outcome.done():
            return
        if loop.time() >= deadline:
            answer("timeout")
            return
        loop.run_in_executor(None, run.check).add_done_callback(checked)

    timer: list[asyncio.TimerHandle] = []

    def schedule() -> None:
        timer[:] = [loop.call_at(min(deadline, loop.time() + run.interval), tick)]

    loop.add_reader(fd, answer, None)
    schedule()
    try:
        return await outcome
    finally:
        loop.remove_reader(fd)
        # some loops (uvloop) make a watched descriptor non-blocking: the pipe is read blocking
        os.set_blocking(fd, True)
        for handle in timer:
            handle.cancel()


__all__ = ["reply_or_verdict", "run_warm"]
