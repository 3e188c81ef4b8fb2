"""Runs forwarded to the one process that owns the worker pool, over a unix socket.

``matterhub serve --workers N`` runs N API processes and one pool of servable
workers: never one pool per API process.  The process that owns the pool serves it
with a :class:`RunServer`; each API process's hub runs through a
:class:`ForwardingExecutor`, which sends the :class:`~hub.servables.request.RunRequest`
and waits for its :class:`~hub.servables.request.RunResult`.

The protocol is one frame each way per run over a connection an API process keeps
(one connection per concurrent run, reused): an 8-byte little-endian length, then a
:func:`hub.servables.codec.dumps` message.  A request is plain data (the load spec's
fields, the inputs, the parameters, the batch flag, the limits) and a reply the
result's fields; both are read with :func:`~hub.servables.codec.safe_loads` (plain
data only), and large arrays travel in shared-memory segments as between the pool and
its workers.  The socket is made in a folder only the service's user may open.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import socketserver
import struct
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hub.servables import codec
from hub.servables.executors import Executor
from hub.servables.request import RunRequest, RunResult, RunStatus
from hub.servables.worker import LoadSpec

_LENGTH = struct.Struct("<Q")


def _send(sock: socket.socket, message: Any) -> None:
    data = codec.dumps(message)
    sock.sendall(_LENGTH.pack(len(data)) + data)


def _receive(sock: socket.socket) -> Any:
    head = _read_exactly(sock, _LENGTH.size)
    if head is None:
        return None
    data = _read_exactly(sock, _LENGTH.unpack(head)[0])
    if data is None:
        raise ConnectionError("the connection closed in the middle of a message")
    return codec.safe_loads(data)


def _read_exactly(sock: socket.socket, n: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(min(n - len(chunks), 1 << 20))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def request_message(request: RunRequest) -> dict[str, Any]:
    """``request`` as plain data (what :func:`request_from` reads)."""
    return {
        "spec": dataclasses.asdict(request.spec),
        "inputs": request.inputs,
        "params": request.params,
        "batch": request.batch,
        "timeout": request.timeout,
        "memory_mb": request.memory_mb,
    }


def request_from(message: Mapping[str, Any]) -> RunRequest:
    """The :class:`RunRequest` of a :func:`request_message`."""
    spec = dict(message["spec"])
    spec["requirements"] = tuple(spec.get("requirements", ()))
    return RunRequest(
        LoadSpec(**spec),
        message["inputs"],
        dict(message["params"]),
        bool(message["batch"]),
        message["timeout"],
        message["memory_mb"],
    )


def result_message(result: RunResult) -> dict[str, Any]:
    """``result`` as plain data (what :func:`result_from` reads)."""
    reply = dataclasses.asdict(result)
    reply["status"] = result.status.value
    return reply


def result_from(message: Mapping[str, Any]) -> RunResult:
    """The :class:`RunResult` of a :func:`result_message`."""
    return dataclasses.replace(RunResult.from_reply(message), cached=bool(message.get("cached", False)))


class RunServer:
    """Serves ``executor`` on the unix socket ``path`` (one thread per connection).

    Parameters
    ----------
    executor
        Runs what the API processes send (the service's contained pool).
    path
        The socket's path; its folder is made mode 700.
    """

    def __init__(self, executor: Executor, path: str | os.PathLike[str]) -> None:
        self.executor = executor
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.path.parent, 0o700)
        self.path.unlink(missing_ok=True)
        executor_ = executor

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                while (message := _receive(sock)) is not None:
                    try:
                        result = executor_.run(request_from(message))
                    except Exception as exc:  # the pool itself failed: the run is lost, say so
                        result = RunResult(
                            RunStatus.CRASH,
                            message=f"the worker pool could not run it: {type(exc).__name__}: {exc}",
                            exc_type=type(exc).__name__,
                        )
                    _send(sock, result_message(result))

        self._server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        self._server.daemon_threads = True
        os.chmod(self.path, 0o600)
        self._thread: threading.Thread | None = None

    def start(self) -> RunServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="matterhub-runs", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and remove the socket (runs in progress finish in their threads)."""
        self._server.shutdown()
        self._server.server_close()
        self.path.unlink(missing_ok=True)


class ForwardingExecutor(Executor):
    """Runs on the pool of another process of this service, reached at the unix socket ``path``.

    A connection that fails is dropped and the run reported as ``crash`` (the owning
    process went away); the next run connects again.
    """

    name = "forward"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None

    def run(self, request: RunRequest) -> RunResult:
        """Send ``request`` to the owning process and wait for its result in this thread."""
        with self._lock:
            sock = self._idle.pop() if self._idle else None
        try:
            if sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(self.path)
            _send(sock, request_message(request))
            reply = _receive(sock)
            if reply is None:
                raise ConnectionError("the process owning the worker pool closed the connection")
        except OSError as exc:
            if sock is not None:
                sock.close()
            return RunResult(
                RunStatus.CRASH,
                message=f"the service's worker pool could not be reached ({exc}); try again",
                exc_type=type(exc).__name__,
            )
        with self._lock:
            self._idle.append(sock)
        return result_from(reply)

    def submit(self, request: RunRequest) -> Future[RunResult]:
        """Run ``request`` on one of this executor's threads."""
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(
                    os.cpu_count() or 2, thread_name_prefix="matterhub-forward"
                )
            threads = self._threads
        return threads.submit(self.run, request)

    def close(self) -> None:
        """Close the idle connections and the threads."""
        with self._lock:
            idle, self._idle = self._idle, []
            threads, self._threads = self._threads, None
        for sock in idle:
            sock.close()
        if threads is not None:
            threads.shutdown(wait=True, cancel_futures=True)
