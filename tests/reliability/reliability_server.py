"""``matterhub serve`` as a real subprocess, for the reliability tests and the load benchmark.

    server = ServerProcess(home, workdir).start()
    tokens = server.add_users({"alice": ["lab"], "bob": []})
    server.kill()        # SIGKILL, the server process only (as a crash would)
    server.start()       # the same hub folder and port again
    server.stop()        # SIGTERM, then SIGKILL of everything it started

Also: ``figures.record(name, **numbers)`` appends the figures of a reliability check to
``$MATTERHUB_RELIABILITY_FIGURES`` (a JSON-lines file that ``run_all.py`` turns into the
table of RELIABILITY.md), and ``scale(short, long)`` picks the short or the long size.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

import hub
from hub.servables.sandbox import descendants, kill_tree, rss_bytes
from hub.service.testing import free_port

#: Copper, fcc: the small crystal file the checks submit and read back.
CIF = b"""data_Cu
_cell_length_a 3.61
_cell_length_b 3.61
_cell_length_c 3.61
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
_symmetry_Int_Tables_number 225
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Cu1 Cu 0 0 0
"""

BIN = Path(sys.executable).parent
ENV_LONG = "MATTERHUB_RELIABILITY"
ENV_FIGURES = "MATTERHUB_RELIABILITY_FIGURES"


def matterhub_command() -> list[str]:
    """The ``matterhub`` command of this environment (``python -m hub.cli`` while a reinstall
    has removed the script)."""
    script = BIN / "matterhub"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hub.cli"]


def long_run() -> bool:
    """Whether the long versions run (``MATTERHUB_RELIABILITY=1``, set by ``make reliability``)."""
    return os.environ.get(ENV_LONG, "") == "1"


def scale(short: int, long: int) -> int:
    return long if long_run() else short


def record(name: str, **figures: Any) -> None:
    """Append one check's figures (cases tried, faults injected, leaks found, ...) for the report."""
    path = os.environ.get(ENV_FIGURES)
    if not path:
        return
    with open(path, "a") as f:
        f.write(json.dumps({"check": name, "long": long_run(), **figures}, sort_keys=True) + "\n")


def wait_submission(http: httpx.Client, sub_id: str, timeout: float = 120) -> dict[str, Any]:
    """A submission once it is no longer queued or running (fails the test past ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        sub: dict[str, Any] = http.get(f"/api/submissions/{sub_id}").json()
        if sub["status"] not in ("queued", "running"):
            return sub
        assert time.monotonic() < deadline, sub
        time.sleep(0.1)


class ServerFailed(RuntimeError):
    pass


class ServerProcess:
    """One ``matterhub --hub HOME serve`` process on a loopback port (the same port on restarts)."""

    def __init__(
        self,
        home: Path,
        workdir: Path,
        *,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        port: int | None = None,
    ) -> None:
        self.home = Path(home)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.tag = f"reliability-{uuid.uuid4().hex}"
        self.url = f"http://127.0.0.1:{self.port}"
        root = str(Path(hub.__file__).resolve().parents[1])  # this checkout's hub, installed or not
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p),
            "MATTERHUB_WORKERS": "2",
            "PYTHONUNBUFFERED": "1",
            # every process this server starts inherits the tag: tagged() finds them all,
            # even those that left its process tree (reparented to init)
            "MATTERHUB_TEST_TAG": self.tag,
            # the per-caller rate limit (hub/service/ratelimit.py) is tested on its own; these
            # checks drive the server harder than one caller may by default
            "MATTERHUB_SERVICE_RATE_LIMIT": "0",
            "MATTERHUB_SERVICE_UPLOAD_RATE": "0",
            **(env or {}),
        }
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.token_file = self.workdir / "admin.token"
        self.admin_token = ""
        #: every process seen below the server (its servable workers) and its start time,
        #: killed at stop() if it still runs (the start time tells a reused pid apart)
        self._seen: dict[int, int | None] = {}

    @property
    def log(self) -> Path:
        return self.workdir / f"server-{self.starts}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 180.0) -> ServerProcess:
        self.starts += 1
        cmd = [*matterhub_command(), "--hub", str(self.home), "-q", "serve", "--port", str(self.port)]
        cmd += ["--token-file", str(self.token_file), "--log-level", "warning", *self.args]
        self.proc = subprocess.Popen(
            cmd,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
            cwd=self.workdir,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerFailed(f"matterhub serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/info", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            self.stop()
            raise ServerFailed(f"matterhub serve did not answer within {timeout} s:\n{self.log_tail()}")
        self.admin_token = self.token_file.read_text().strip()
        return self

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def client(self, token: str | None = None, timeout: float = 120.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def add_users(self, users: dict[str, list[str]]) -> dict[str, str]:
        """Create users (through the API, as the admin) and one token each: ``{name: token}``."""
        tokens = {}
        with self.client(self.admin_token) as http:
            for name, groups in users.items():
                r = http.post("/api/users", json={"name": name, "groups": groups})
                assert r.status_code in (201, 409), r.text
                if r.status_code == 409:
                    http.put(f"/api/users/{name}/groups", json={"groups": groups}).raise_for_status()
                r = http.post("/api/tokens", json={"user": name, "label": "reliability"})
                assert r.status_code == 201, r.text
                tokens[name] = r.json()["token"]
        return tokens

    def tree(self) -> list[int]:
        """The processes below the server now (its servable workers and what they started)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        found = descendants(self.proc.pid)
        for pid in found:
            self._seen.setdefault(pid, start_time(pid))
        return found

    def rss(self, with_workers: bool = False) -> int:
        """Resident memory of the server process (bytes), with its workers when asked."""
        if self.proc is None or self.proc.poll() is not None:
            return 0
        return rss_bytes([self.proc.pid, *(self.tree() if with_workers else [])])

    def kill(self) -> int:
        """SIGKILL the server process alone, as a crash would; returns its pid."""
        assert self.proc is not None
        self.tree()
        pid = self.proc.pid
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)
        return pid

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL of the server's process group and of every worker seen."""
        if self.proc is not None and self.proc.poll() is None:
            self.tree()
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            if self.proc.poll() is None:
                kill_tree(self.proc.pid)
                self.proc.wait(30)
        for pid, started in sorted(self._seen.items()):
            if started is not None and start_time(pid) == started:
                kill_tree(pid)
        self._seen.clear()
        for pid in self.tagged():  # anything that escaped the tree (a test failed): the tag is ours
            kill_tree(pid)

    def tagged(self) -> list[int]:
        """Every process running with this server's tag in its environment (it, its workers, and
        whatever they started, wherever it went); zombies excluded."""
        marker = f"MATTERHUB_TEST_TAG={self.tag}".encode()
        found = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                env = Path(f"/proc/{name}/environ").read_bytes()
            except OSError:
                continue
            if marker in env.split(b"\0") and alive(int(name)):
                found.append(int(name))
        return sorted(found)

    def api_processes(self) -> list[int]:
        """The API processes of ``serve --workers N`` (uvicorn's spawned workers), oldest first."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        found = []
        for pid in descendants(self.proc.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"multiprocessing.spawn" in cmdline and alive(pid):
                self._seen.setdefault(pid, start_time(pid))
                found.append(pid)
        return sorted(found, key=lambda p: start_time(p) or 0)

    def kill_api_process(self) -> int:
        """SIGKILL one API process of ``serve --workers N`` (uvicorn starts another); its pid."""
        pids = self.api_processes()
        assert pids, f"no API process below {self.pid}: not started with --workers N?"
        os.kill(pids[0], signal.SIGKILL)
        return pids[0]

    def leftovers(self) -> list[int]:
        """Processes seen below the server that still run (after it was killed or stopped)."""
        return [p for p, t in sorted(self._seen.items()) if t is not None and start_time(p) == t and alive(p)]

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not count)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rfind(b")") + 2 : data.rfind(b")") + 3] != b"Z"


def start_time(pid: int) -> int | None:
    """The start time of ``pid`` (clock ticks after boot), None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return int(data[data.rfind(b")") + 2 :].split()[19])
