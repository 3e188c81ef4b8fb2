"""Start JupyterLab with the MatterHub panel on a demo hub (``make demo SERVE=lab``).

``python -m hub.widgets.jupyterlab.demo --hub .demo-hub --port 8888`` fills the hub with the
demo datasets when it is empty (:func:`hub.cli.demo.build_demo`), then runs::

    jupyter lab --no-browser --ServerApp.ip=127.0.0.1 --port 8888 --IdentityProvider.token=<token>

with ``MATTERHUB_HOME`` set to the hub, the server extension enabled and, in a source
checkout, the freshly built panel, prints the URL with its token, and runs until interrupted.
:class:`LabServer` starts and stops one such server (the browser tests use it).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

from hub.widgets.jupyterlab import LABEXTENSION_NAME, LABEXTENSIONS_DIR, installed_labextension


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def lab_command(
    port: int,
    token: str,
    root_dir: str | os.PathLike[str],
    *,
    extra_args: list[str] | None = None,
) -> list[str]:
    """``jupyter lab`` on loopback, with the panel's server extension and no calls home."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={Path(root_dir).absolute()}",
        '--ServerApp.jpserver_extensions={"hub.widgets.jupyterlab": True}',
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if (LABEXTENSIONS_DIR / LABEXTENSION_NAME / "package.json").is_file():
        # a source checkout's build comes before any installed copy
        cmd.append(f"--LabApp.extra_labextensions_path={LABEXTENSIONS_DIR}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers
    return cmd + list(extra_args or [])


class LabServer:
    """One ``jupyter lab`` with the MatterHub panel, as a child process.

    Parameters
    ----------
    root_dir
        The folder of notebooks.
    env
        Environment variables added to this process's (``MATTERHUB_HOME``, ...).
    port, token
        Defaults: a free loopback port and a random token.
    log
        Where the server's output goes (a file; default: discarded).
    base_url
        The server's base URL (``/user/alice/`` behind JupyterHub); default ``/``.
    """

    def __init__(
        self,
        root_dir: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        token: str | None = None,
        log: str | os.PathLike[str] | None = None,
        base_url: str = "/",
        extra_args: list[str] | None = None,
    ) -> None:
        self.root_dir = Path(root_dir)
        self.env = {**os.environ, **(env or {})}
        self.port = port or free_port()
        self.token = token or secrets.token_hex(16)
        self.log = Path(log) if log else None
        self.base_url = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
        self.extra_args = [*(extra_args or []), f"--ServerApp.base_url={self.base_url}"]
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def url(self, path: str = "lab", *, token: bool = True) -> str:
        base = f"http://127.0.0.1:{self.port}{self.base_url}{path.lstrip('/')}"
        if not token:
            return base
        return base + ("&" if "?" in base else "?") + f"token={self.token}"

    def start(self, timeout: float = 120) -> LabServer:
        """Start the server and wait until it answers."""
        self.spawn()
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def spawn(self) -> LabServer:
        """Start the server without waiting (start several, then :meth:`wait_ready` on each)."""
        self.root_dir.mkdir(parents=True, exist_ok=True)
        cmd = lab_command(self.port, self.token, self.root_dir, extra_args=self.extra_args)
        out: IO[bytes] | int = subprocess.DEVNULL
        if self.log is not None:
            self._log_file = open(self.log, "ab")  # noqa: SIM115 (closed in stop)
            out = self._log_file
        self.process = subprocess.Popen(
            cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until the server answers ``api/status`` (raise if it exits or times out)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        status = self.url("api/status")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with {self.process.returncode} before it answered"
                    + (f"; see {self.log}" if self.log else "")
                )
            try:
                with urllib.request.urlopen(status, timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise TimeoutError(
            f"jupyter lab did not answer on port {self.port} within {timeout:.0f} s"
            + (f"; see {self.log}" if self.log else "")
        )

    def stop(self, timeout: float = 30) -> None:
        """Stop the server (it shuts its kernels down); kill its process group if it hangs."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def ensure_demo_hub(home: Path) -> None:
    """Fill ``home`` with the demo datasets when it holds none."""
    from hub import Hub
    from hub.cli.demo import build_demo

    with Hub(home, progress=False) as hub:
        if hub.datasets():
            print(f"hub {home}: {len(hub.datasets())} datasets", flush=True)
            return
        print(f"building the demo hub in {home} ...", flush=True)
        build_demo(hub, echo=print)


def ensure_panel() -> Path:
    """The built panel: a source checkout's (built now when stale) or an installed one."""
    from hub.widgets.jupyterlab import build

    if (build.SOURCE / "package.json").is_file():
        try:
            return build.build()
        except build.LabextensionBuildError as exc:
            print(f"warning: {exc}", file=sys.stderr)
    found = installed_labextension()
    if found is None:
        raise SystemExit(
            "the MatterHub JupyterLab panel is not installed or built: pip install matterhub "
            "(a wheel ships it) or run `python -m hub.widgets.jupyterlab.build` in a checkout"
        )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="JupyterLab with the MatterHub panel on a demo hub")
    parser.add_argument("--hub", default=os.environ.get("MATTERHUB_HOME") or ".demo-hub", help="hub folder")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--token", default=None, help="Jupyter's token (default: a random one)")
    parser.add_argument("--root", default="notebooks", help="the folder of notebooks JupyterLab shows")
    parser.add_argument("--no-demo-data", action="store_true", help="do not fill an empty hub")
    parser.add_argument("--open", action="store_true", help="open the browser")
    args = parser.parse_args(argv)

    home = Path(args.hub).expanduser().absolute()
    if not args.no_demo_data:
        ensure_demo_hub(home)
    panel = ensure_panel()
    server = LabServer(args.root, env={"MATTERHUB_HOME": str(home)}, port=args.port, token=args.token)
    print(f"JupyterLab with the MatterHub panel ({panel}) on hub {home} ...", flush=True)
    server.start()
    url = server.url("lab")
    print(
        f"\n    {url}\n\nOpen it and click the MatterHub tab in the left sidebar. Ctrl-C stops.", flush=True
    )
    if args.open:
        webbrowser.open(url)
    # `make` and process managers stop with SIGTERM: stop the server (and its kernels) too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while server.process is not None and server.process.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("stopping JupyterLab ...", flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
