"""A real uvicorn server on a loopback port, in a background thread.

What the tests, the benchmarks and notebooks use to talk to a live service.

    with LiveServer(create_app(hub)) as server:
        httpx.get(server.url + "/api/info")
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that is free now (the system picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """An ASGI ``app`` served by uvicorn on ``host:port`` in a daemon thread.

    A context manager: entering starts the server (see :meth:`start`), leaving stops it.
    ``port`` defaults to a free one; ``config`` goes to :class:`uvicorn.Config` (log level
    ``warning`` and lifespan ``on`` unless given).
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int | None = None, **config: Any) -> None:
        self.host = host
        self.port = port or free_port(host)
        config.setdefault("log_level", "warning")
        config.setdefault("lifespan", "on")
        self.server = uvicorn.Server(uvicorn.Config(app, host=self.host, port=self.port, **config))
        self.thread = threading.Thread(target=self.server.run, name="matterhub-live-server", daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL, ``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> LiveServer:
        """Start the server and wait until it accepts connections.

        Returns
        -------
        LiveServer
            The server itself.

        Raises
        ------
        RuntimeError
            The server stopped while starting.
        TimeoutError
            It did not start within ``timeout`` seconds.
        """
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the uvicorn server stopped while starting")
            if time.monotonic() > deadline:
                raise TimeoutError(f"uvicorn did not start on {self.url} within {timeout} s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Ask the server to exit and wait for its thread (at most 30 s)."""
        self.server.should_exit = True
        self.thread.join(30)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
