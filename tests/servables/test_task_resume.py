"""A task whose process is killed (SIGKILL) runs again when the hub is next opened: its
inputs were saved with it.  A task without saved inputs fails with a clear message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from hub import Hub
from hub.db.models import ServableTaskRow

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from hub import Hub

    def slow_double(x: list[float], seconds: float = 0.0) -> list[float]:
        '''Double every value, after a pause.'''
        import time

        time.sleep(seconds)
        return [2 * v for v in x]

    hub = Hub(sys.argv[1], user="alice", progress=False)
    name = hub.publish_servable(hub.describe(slow_double, name="slow-double", title="Slow double"))
    task = hub.run(name, [1.0, 2.0], parameters={"seconds": float(sys.argv[2])}, asynchronous=True)
    print(task.id, flush=True)
    while hub.task(task.id).status == "pending":
        time.sleep(0.02)
    print("running", flush=True)
    time.sleep(600)
    """
)


def test_killed_task_resumes_on_the_next_open(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(home), "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        task_id = proc.stdout.readline().strip()
        assert proc.stdout.readline().strip() == "running"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the process and its worker pool
        proc.wait()
    with Hub(home, user="alice", progress=False) as hub:
        task = hub.task(task_id)
        assert task.status in ("pending", "running", "completed")  # resumed, not failed
        done = task.wait(120)
        assert done.status == "completed", done.error
        assert done.result == [2.0, 4.0]
        assert "resumed_at" in done.timings


def test_a_task_without_saved_inputs_fails_clearly(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    with Hub(home, user="alice", progress=False) as hub:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        with hub._catalog._sessions.begin() as s:
            s.add(
                ServableTaskRow(
                    id="t-old",
                    servable_id="alice/gone",
                    version=1,
                    owner="alice",
                    status="running",
                    pid=dead.pid,
                    host=os.uname().nodename,
                )
            )
    with Hub(home, user="alice", progress=False) as hub:
        task = hub.task("t-old")
        assert task.status == "failed"
        assert "could not be resumed" in task.error["message"]
