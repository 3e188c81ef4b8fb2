"""A task whose process is killed (SIGKILL) runs again once the hub is next asked for a run or a
task (opening the hub starts nothing): its inputs were saved with it.  A task without saved
inputs fails with a clear message."""

from __future__ import annotations

import json
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


def _interrupted_task(home: Path) -> str:
    """A task left ``running`` by a process killed with SIGKILL (its worker pool with it)."""
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
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return task_id


def test_killed_task_resumes_when_next_read(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    task_id = _interrupted_task(home)
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
                    owner=hub.principal.owner_id,
                    status="running",
                    pid=dead.pid,
                    host=os.uname().nodename,
                )
            )
    with Hub(home, user="alice", progress=False) as hub:
        task = hub.task("t-old")
        assert task.status == "failed"
        assert "could not be resumed" in task.error["message"]


CHECK = textwrap.dedent(
    """
    import json, os, sys
    from hub import Hub
    from hub.db.database import Database
    from hub.db.models import ServableTaskRow
    from hub.servables import pool as pool_module

    pools = []
    make_pool = pool_module.WorkerPool.__init__

    def counted(self, *args, **kwargs):
        pools.append(1)
        make_pool(self, *args, **kwargs)

    pool_module.WorkerPool.__init__ = counted

    def workers():
        me, found = str(os.getpid()), []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    parent = f.read().rsplit(")", 1)[1].split()[1]
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\\0", b" ").decode()
            except OSError:
                continue
            if parent == me:
                found.append(cmdline)
        return found

    def status(hub, task_id):
        catalog = Database(hub.config.catalog)
        with catalog.session() as s:
            value = s.get(ServableTaskRow, task_id).status
        catalog.close()
        return value

    home, task_id = sys.argv[1], sys.argv[2]
    report = {}
    with Hub(home, user="alice", progress=False) as hub:
        report["opened"] = {"children": workers(), "pools": len(pools), "status": status(hub, task_id)}
        report["ran"] = hub.run("alice/slow-double", [3.0])
        report["after_run"] = {"children": workers(), "pools": len(pools)}
        done = hub.task(task_id).wait(120)
        report["task"] = {"status": done.status.value, "result": done.result, "timings": done.timings}
    print(json.dumps(report))
    """
)


def test_opening_a_hub_starts_nothing_until_a_run_resumes_its_tasks(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    task_id = _interrupted_task(home)
    out = subprocess.run(
        [sys.executable, "-c", CHECK, str(home), task_id],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    opened = report["opened"]
    assert opened["children"] == [] and opened["pools"] == 0, opened  # no worker, no pool
    assert opened["status"] == "running"  # not resumed by opening the hub
    assert report["ran"] == [6.0]
    assert report["after_run"]["pools"] == 1
    assert any("hub.servables.worker" in c for c in report["after_run"]["children"]), report["after_run"]
    task = report["task"]
    assert task["status"] == "completed" and task["result"] == [2.0, 4.0]
    assert "resumed_at" in task["timings"]
