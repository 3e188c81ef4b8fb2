"""Serve the Voila dashboards (``notebooks/dashboards``) over a hub.

``python -m hub.widgets.serve --hub DIR --port N`` runs::

    voila notebooks/dashboards --port N --no-browser --Voila.ip=127.0.0.1

with ``MATTERHUB_HOME=DIR`` (or ``MATTERHUB_URL`` / ``MATTERHUB_TOKEN`` for a remote hub),
prints the dashboards' URLs, and runs until interrupted.  From Python,
:func:`serve_dashboards` does the same; :class:`DashboardServer` starts and stops one
(tests and benchmarks use it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path
from types import TracebackType

#: The dashboards of a source checkout (widgets/ sits beside notebooks/), else those an install
#: of the package put under ``<prefix>/share/matterhub/dashboards`` (setup.py's data files).
_CHECKOUT_DASHBOARDS = Path(__file__).resolve().parents[1] / "notebooks" / "dashboards"
DASHBOARDS = (
    _CHECKOUT_DASHBOARDS
    if (_CHECKOUT_DASHBOARDS / "search.ipynb").is_file()
    else Path(sys.prefix) / "share" / "matterhub" / "dashboards"
)
NAMES = ("search", "publish", "servables")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent dies, so a server
    whose owner was killed (no chance to stop it) does not outlive it."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def voila_command(dashboards: Path, port: int, *, tracebacks: bool = False) -> list[str]:
    exe = Path(sys.executable).with_name("voila")
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "voila"]
    cmd = [
        *head,
        str(dashboards),
        "--port",
        str(port),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
    ]
    if tracebacks:
        cmd.append("--VoilaConfiguration.show_tracebacks=True")
    return cmd


class DashboardServer:
    """One Voila server over the dashboards, as a child process.

    Parameters
    ----------
    hub
        The hub folder (``MATTERHUB_HOME``) or a remote hub's URL (``MATTERHUB_URL``).
    port
        The loopback port (default: a free one).
    token
        A remote hub's token (``MATTERHUB_TOKEN``).
    dashboards
        The folder of notebooks to serve (default: ``notebooks/dashboards``).
    downloads
        Where the search dashboard's "Download selection" writes (``MATTERHUB_DOWNLOADS``;
        default ``./matterhub-downloads``).
    env
        More environment variables for the kernels (``MATTERHUB_USER``, ...).
    log
        A file for Voila's output (default: inherit this process's).
    """

    def __init__(
        self,
        hub: str | os.PathLike[str],
        port: int | None = None,
        *,
        token: str | None = None,
        dashboards: str | os.PathLike[str] | None = None,
        downloads: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
        log: str | os.PathLike[str] | None = None,
        tracebacks: bool = False,
    ) -> None:
        self.hub = os.fspath(hub)
        self.port = port or free_port()
        self.token = token
        self.dashboards = Path(dashboards) if dashboards is not None else DASHBOARDS
        self.downloads = Path(downloads) if downloads is not None else Path("matterhub-downloads").absolute()
        self.extra_env = dict(env or {})
        self.log = Path(log) if log is not None else None
        self.tracebacks = tracebacks
        self.process: subprocess.Popen[bytes] | None = None
        if not (self.dashboards / "search.ipynb").exists():
            raise FileNotFoundError(
                f"no dashboards in {self.dashboards} (expected search.ipynb, publish.ipynb, servables.ipynb); "
                "run from a MatterHub source checkout or pass dashboards=DIR"
            )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, name: str = "search", query: str = "") -> str:
        """The URL of a dashboard (``search``, ``publish``, ``servables``)."""
        return f"{self.base_url}/voila/render/{name}.ipynb" + (f"?{query}" if query else "")

    def environment(self) -> dict[str, str]:
        env = {**os.environ, **self.extra_env}
        for key in ("MATTERHUB_URL", "MATTERHUB_TOKEN", "MATTERHUB_HOME"):
            env.pop(key, None)
        if self.hub.startswith(("http://", "https://")):
            env["MATTERHUB_URL"] = self.hub
            if self.token:
                env["MATTERHUB_TOKEN"] = self.token
        else:
            env["MATTERHUB_HOME"] = str(Path(self.hub).absolute())
        env["MATTERHUB_DOWNLOADS"] = str(self.downloads)
        return env

    def start(self, timeout: float = 60.0) -> DashboardServer:
        """Start Voila and wait until it answers (raises if it exits or does not answer in time).

        On Linux Voila is stopped if the thread that started it dies (so a killed owner
        leaves no server behind): start it from a thread that lives as long as it should.
        """
        cmd = voila_command(self.dashboards, self.port, tracebacks=self.tracebacks)
        out = open(self.log, "ab") if self.log is not None else None  # noqa: SIM115 (kept for the child's life)
        try:
            self.process = subprocess.Popen(
                cmd,
                env=self.environment(),
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        finally:
            if out is not None:
                out.close()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                where = f"; see {self.log}" if self.log else ""
                raise RuntimeError(f"voila exited with code {self.process.returncode} before serving{where}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/", timeout=2) as r:
                    if r.status < 500:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"voila did not answer on {self.base_url} within {timeout:.0f} s")
            time.sleep(0.2)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop Voila (SIGINT twice asks it to shut its kernels down; then terminate, kill)."""
        p, self.process = self.process, None
        if p is None or p.poll() is not None:
            return
        for sig in (signal.SIGINT, signal.SIGINT, signal.SIGTERM):
            try:
                p.send_signal(sig)
                p.wait(timeout=timeout / 3)
                return
            except subprocess.TimeoutExpired:
                continue
        p.kill()
        p.wait(timeout=5)

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_dashboards(
    hub_home: str | os.PathLike[str],
    port: int = 8866,
    open_browser: bool = False,
    *,
    token: str | None = None,
    user: str | None = None,
    groups: list[str] | tuple[str, ...] = (),
    dashboards: str | os.PathLike[str] | None = None,
    echo: bool = True,
) -> int:
    """Serve the dashboards over ``hub_home`` (a folder or a remote hub URL) until interrupted
    (Ctrl-C or SIGTERM); returns Voila's exit code.  ``user`` and ``groups``: the principal an
    embedded hub acts as in the dashboards (default: its local owner)."""
    env = {"MATTERHUB_USER": user or "", "MATTERHUB_GROUPS": ",".join(groups)}
    server = DashboardServer(hub_home, port, token=token, dashboards=dashboards, env=env, tracebacks=True)
    # Ctrl-C and a service manager's SIGTERM both stop Voila (and its kernels) before we exit;
    # SIGINT is re-armed because a shell starts background jobs with it ignored
    previous = {sig: signal.signal(sig, _stop_serving) for sig in (signal.SIGINT, signal.SIGTERM)}
    server.start()
    if echo:
        print(f"MatterHub dashboards over {server.hub}:", flush=True)
        for name in NAMES:
            print(f"  {name:<10} {server.url(name)}", flush=True)
        print("(Ctrl-C stops the server)", flush=True)
    if open_browser:
        webbrowser.open(server.url("search"))
    try:
        assert server.process is not None
        return server.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_serving(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m hub.widgets.serve", description="Serve the MatterHub Voila dashboards over a hub."
    )
    ap.add_argument(
        "--hub",
        default=os.environ.get("MATTERHUB_URL") or os.environ.get("MATTERHUB_HOME"),
        help="hub folder or URL (default $MATTERHUB_URL, $MATTERHUB_HOME or ~/.matterhub)",
    )
    ap.add_argument("--port", type=int, default=8866, help="loopback port (default 8866)")
    ap.add_argument("--token", default=os.environ.get("MATTERHUB_TOKEN"), help="a remote hub's token")
    ap.add_argument("--user", default=None, help="the user an embedded hub acts as (default: its owner)")
    ap.add_argument(
        "--group", dest="groups", action="append", default=[], help="a group of --user (repeatable)"
    )
    ap.add_argument("--dashboards", default=None, help="folder of dashboard notebooks")
    ap.add_argument("--open", action="store_true", help="open the search dashboard in a browser")
    args = ap.parse_args(argv)
    if shutil.which("voila") is None and not Path(sys.executable).with_name("voila").exists():
        print("voila is not installed: pip install 'matterhub[widgets]'", file=sys.stderr)
        return 2
    from hub.config import default_home

    hub = args.hub or str(default_home())
    return serve_dashboards(
        hub,
        args.port,
        args.open,
        token=args.token,
        user=args.user,
        groups=args.groups,
        dashboards=args.dashboards,
    )


if __name__ == "__main__":
    sys.exit(main())
