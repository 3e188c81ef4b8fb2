"""Servable isolation: published code that loops forever, allocates 20 GB (directly, past a
lifted limit, or through child processes), segfaults, spawns processes (left running,
double-forked, a fork bomb) or writes outside its working folder is contained: its task
fails with a clear error (or its processes are stopped), the service keeps answering and
other servables keep running, on ``matterhub serve`` (a real subprocess), whose workers are
contained (:mod:`hub.servables.containment`).

What is contained and how is written in :mod:`hub.servables.sandbox` (runs) and
:mod:`hub.servables.containment` (the worker); the threat model and what is not contained are
in RELIABILITY.md; what published code can reach is tested in ``test_servable_containment.py``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_server import ServerProcess, record, scale

from hub import Hub
from hub.servables.landlock import abi as landlock_abi

pytestmark = pytest.mark.skipif(landlock_abi() < 1, reason="the write sandbox needs Landlock (Linux 5.13+)")

MAX_PROCS = 24


# -- the servables (module-level functions: packaged from their source) ----------------------


def double(x: float) -> float:
    return 2 * x


def loop_forever(x: float) -> float:
    while True:
        x += 1.0


def allocate_20gb(x: float) -> int:
    block = bytearray(20 * 1024**3)
    return len(block)


def lift_limit_then_allocate(x: float) -> int:
    """Raise its own soft address-space limit, then touch memory 64 MB at a time up to 20 GB."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    blocks = []
    for _ in range(20 * 16):
        blocks.append(b"\x01" * (64 * 1024**2))
    return len(blocks)


def allocate_in_children(x: float) -> int:
    """Four children holding 400 MB each: no single process passes its own limit."""
    import subprocess
    import sys
    import time

    code = "import time; b = b'x' * (400 * 1024**2); time.sleep(60)"
    children = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    time.sleep(60)
    return len(children)


def segfault(x: float) -> float:
    import ctypes

    return float(ctypes.cast(8, ctypes.POINTER(ctypes.c_int64)).contents.value)  # reads address 8


def spawn_then_segfault(x: float) -> float:
    """Children left behind by a worker that crashes: they go with its process group."""
    import ctypes
    import subprocess

    for _ in range(3):
        subprocess.Popen(["sleep", "600"])
    return float(ctypes.cast(8, ctypes.POINTER(ctypes.c_int64)).contents.value)


def spawn_and_leave(n: int) -> list[int]:
    """Start processes that outlive the run: plain, in their own session, and double-forked."""
    import os
    import subprocess

    pids = [subprocess.Popen(["sleep", "600"]).pid for _ in range(n)]
    pids += [subprocess.Popen(["sleep", "600"], start_new_session=True).pid for _ in range(n)]
    r, w = os.pipe()
    if os.fork() == 0:  # the classic daemon: fork, setsid, fork again, parent exits
        os.setsid()
        grandchild = os.fork()
        if grandchild == 0:
            os.close(r)
            os.write(w, str(os.getpid()).encode())
            os.close(w)
            import time

            time.sleep(600)
        os._exit(0)
    os.close(w)
    pids.append(int(os.read(r, 32)))
    os.close(r)
    return pids


def fork_bomb(x: float) -> int:
    """As many processes as it can (bounded at 400 so a broken guard cannot take the machine)."""
    import subprocess
    import time

    children = []
    for _ in range(400):
        children.append(subprocess.Popen(["sleep", "600"]))
    time.sleep(60)
    return len(children)


def write_outside(target: str) -> str:
    with open(target, "a") as f:
        f.write("written by a servable\n")
    return "written"


def write_inside(n: int) -> str:
    """Write in the working folder and in the temporary folder: allowed; both are the run's own."""
    import os
    import tempfile
    from pathlib import Path

    Path("scratch.txt").write_text("x" * n)
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(b"y" * n)
    return os.getcwd() + "|" + f.name


# -- the test --------------------------------------------------------------------------------------

#: servable -> (input, limits, the failure kind expected, words its message must hold)
BAD: dict[str, tuple[Any, dict[str, Any], str, str]] = {
    "loop_forever": (1.0, {"timeout_s": 3}, "timeout", "longer than its timeout of 3 s"),
    "allocate_20gb": (1.0, {"memory_mb": 256}, "memory", "memory limit of 256 MB"),
    "lift_limit_then_allocate": (1.0, {"memory_mb": 256, "timeout_s": 120}, "memory", "children included"),
    "allocate_in_children": (1.0, {"memory_mb": 256, "timeout_s": 120}, "memory", "children included"),
    "segfault": (1.0, {}, "crash", "SIGSEGV"),
    "spawn_then_segfault": (1.0, {}, "crash", "SIGSEGV"),
    "fork_bomb": (1.0, {"timeout_s": 120}, "crash", f"at most {MAX_PROCS} may run at once"),
    "write_outside": (None, {}, "error", "PermissionError"),
}
FUNCTIONS = {f.__name__: f for f in (
    double, loop_forever, allocate_20gb, lift_limit_then_allocate, allocate_in_children, segfault,
    spawn_then_segfault, spawn_and_leave, fork_bomb, write_outside, write_inside,
)}  # fmt: skip


def _task(http: Any, name: str, inputs: Any) -> str:
    r = http.post(f"/api/servables/alice/{name}/run", json={"inputs": inputs, "asynchronous": True})
    assert r.status_code == 200, r.text
    return str(r.json()["task"]["id"])


def _wait(http: Any, task_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, Any] = http.get(f"/api/tasks/{task_id}").json()
        if task["status"] in ("completed", "failed"):
            return task
        assert time.monotonic() < deadline, f"task {task_id} still {task['status']}"
        time.sleep(0.1)


def isolation_round(server: ServerProcess, token: str, targets: list[Path]) -> dict[str, int]:
    healthy = {"runs": 0, "errors": 0}
    stop = threading.Event()

    def good_runs() -> None:  # another servable, run all along
        with server.client(token, timeout=120) as http:
            while not stop.is_set():
                r = http.post("/api/servables/alice/double/run", json={"inputs": 21.0})
                healthy["runs"] += 1
                if r.status_code != 200 or r.json()["output"] != 42.0:
                    healthy["errors"] += 1
                time.sleep(0.05)

    background = threading.Thread(target=good_runs, daemon=True)
    background.start()
    faults = 0
    try:
        with server.client(token, timeout=120) as http:
            for name, (inputs, _, kind, words) in BAD.items():
                if name == "write_outside":
                    for target in targets:
                        task = _wait(http, _task(http, name, str(target)))
                        assert task["status"] == "failed" and task["error"]["kind"] == kind, task
                        assert words in task["error"]["message"], task["error"]
                        faults += 1
                    continue
                task = _wait(http, _task(http, name, inputs))
                assert task["status"] == "failed", (name, task)
                assert task["error"]["kind"] == kind, (name, task["error"])
                assert words in task["error"]["message"], (name, task["error"]["message"])
                faults += 1
                assert http.get("/api/info").status_code == 200
            # processes a run leaves behind are stopped when it returns
            # (the pids it reports are those of its worker's pid namespace: the processes are found
            # on this side by the server's tag in their environment)
            pids = _wait(http, _task(http, "spawn_and_leave", 3))["result"]
            assert len(pids) == 7
            deadline = time.monotonic() + 10
            while _left_running(server) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _left_running(server), "processes a servable left running survived it"
            faults += 1
            # writing in its own folders is fine, and they are gone after the run
            inside = _wait(http, _task(http, "write_inside", 1000))
            assert inside["status"] == "completed", inside
            cwd, tmpfile = inside["result"].split("|")
            assert not Path(cwd).exists() and not Path(tmpfile).exists()
    finally:
        stop.set()
        background.join(60)
    assert healthy["errors"] == 0 and healthy["runs"] > 0, healthy
    for target in targets:
        assert not target.exists() or "servable" not in target.read_text(errors="replace"), target
    return {"faults": faults, "good_runs": healthy["runs"]}


def isolation(server_factory: Any, tmp_path: Path, rounds: int) -> None:
    server: ServerProcess = server_factory(env={"MATTERHUB_RUN_MAX_PROCS": str(MAX_PROCS)})
    tokens = server.add_users({"alice": ["servable-publishers"]})
    remote = Hub(server.url, token=tokens["alice"], progress=False)
    for name, f in FUNCTIONS.items():
        limits = BAD.get(name, (None, {}, "", ""))[1]
        remote.publish_servable(remote.describe(f, name=name, **limits))
    remote.close()
    outside = tmp_path / "outside"
    outside.mkdir()
    # a new file, an existing one, and a file of the hub itself (opened for appending)
    (outside / "existing.txt").write_text("keep me\n")
    targets = [outside / "new.txt", outside / "existing.txt", server.home / "config.json"]
    before = {t: t.read_bytes() for t in targets if t.exists()}
    pid = server.pid
    figures = {"faults": 0, "good_runs": 0}
    for _ in range(rounds):
        for k, v in isolation_round(server, tokens["alice"], targets).items():
            figures[k] += v
    assert server.proc is not None and server.proc.poll() is None and server.pid == pid, "the service died"
    assert {t: t.read_bytes() for t in targets if t.exists()} == before
    assert not (outside / "new.txt").exists()
    leftover = _left_running(server)
    assert not leftover, f"processes started by servables are still running: {_describe(leftover)}"
    record("servable isolation", cases=rounds * (len(BAD) + 4), losses=0, leaks=0, **figures)


def _describe(pids: list[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            out.append(f"{pid}: {Path(f'/proc/{pid}/cmdline').read_bytes().replace(bytes(1), b' ').decode()}")
        except OSError:
            out.append(f"{pid}: (gone)")
    return out


def _left_running(server: ServerProcess) -> list[int]:
    """Processes carrying the server's tag that are neither the server nor one of its workers."""
    return [p for p in server.tagged() if p != server.pid and not _is_worker(p, server.pid)]


def _is_worker(pid: int, server_pid: int) -> bool:
    """A servable worker: ``hub.servables.worker`` (uncontained), or a contained worker's supervisor
    (a child of the server) or the worker proper (pid 1 of its own pid namespace)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    if b"hub.servables.worker" in cmdline:
        return True
    if b"hub.servables.contained" not in cmdline:
        return False
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["PPid"]) == server_pid or fields["NSpid"].split()[-1] == "1"


def test_isolation_short(server_factory: Any, tmp_path: Path) -> None:
    isolation(server_factory, tmp_path, rounds=1)


@pytest.mark.reliability
def test_isolation_long(server_factory: Any, tmp_path: Path) -> None:
    isolation(server_factory, tmp_path, rounds=scale(1, 3))
