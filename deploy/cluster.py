"""``make cluster-test``: the shared deployment on loopback, and the service parity suite against it.

Starts a real ``dask.distributed`` scheduler and 2 workers (``dask scheduler``, ``dask
worker``: processes of their own, as on a cluster's machines), then runs the service
suite (tests/service) with

- ``MATTERHUB_TEST_CATALOG=postgresql``: every hub's catalog on a throwaway PostgreSQL
  cluster (tests/postgres_server.py, the same code the tests use),
- ``MATTERHUB_TEST_SERVE_WORKERS=2``: the hub served by ``matterhub serve --workers 2``
  (2 API processes and the writer),
- ``MATTERHUB_TEST_SERVE_EXECUTOR=dask://...``: servable runs on the Dask cluster,

and stops the cluster.  Extra arguments go to pytest.  The exit status is pytest's.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"the Dask scheduler did not listen on port {port} within {timeout} s")


def main() -> int:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
    }
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [str(BIN / "dask")]
    started = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            env=env,
            start_new_session=True,
        )
    ]
    try:
        wait_for(port)
        for _ in range(2):
            started.append(
                subprocess.Popen(
                    [*dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                    env=env,
                    start_new_session=True,
                )
            )
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(2, timeout=120)
        env.update(
            MATTERHUB_TEST_CATALOG="postgresql",
            MATTERHUB_TEST_SERVE_WORKERS="2",
            MATTERHUB_TEST_SERVE_EXECUTOR=f"dask://127.0.0.1:{port}",
        )
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/service", *sys.argv[1:]]
        print(f"cluster: Dask scheduler {address} with 2 workers; running: {' '.join(cmd)}", flush=True)
        return subprocess.call(cmd, env=env, cwd=REPO)
    finally:
        for proc in reversed(started):
            proc.terminate()
        for proc in started:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
