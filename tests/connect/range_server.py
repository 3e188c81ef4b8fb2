"""A real HTTP file server on loopback with single-range support, counting the bytes it sends.

Python's ``http.server`` serves a folder (with HTML listings fsspec's HTTP filesystem
follows) but ignores ``Range``; this handler answers ``Range: bytes=a-b`` with 206, as
web servers and object stores do, and counts every body byte sent, so tests and the
federation benchmark measure what a by-reference submission or read fetched.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Counter:
    """Bytes and requests served (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bytes = 0
        self.requests = 0
        self.ranges = 0

    def add(self, n: int, ranged: bool) -> None:
        with self.lock:
            self.bytes += n
            self.requests += 1
            self.ranges += int(ranged)

    def reset(self) -> None:
        with self.lock:
            self.bytes = self.requests = self.ranges = 0


class RangeHandler(SimpleHTTPRequestHandler):
    """``SimpleHTTPRequestHandler`` plus ``Range`` (one range) and a byte counter."""

    counter: Counter

    def __init__(self, *args: Any, counter: Counter, **kwargs: Any) -> None:
        self.counter = counter
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        path = self.translate_path(self.path)
        m = _RANGE.match(self.headers.get("Range", "").strip())
        if not os.path.isfile(path):  # a folder's listing, a redirect or a 404
            f = self.send_head()
            if f is not None:
                with f:
                    data = f.read()
                self.wfile.write(data)
                self.counter.add(len(data), False)
            return
        size = os.path.getsize(path)
        start, end = 0, size - 1
        if m and (m.group(1) or m.group(2)):
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:
                start = max(0, size - int(m.group(2)))
            if start >= size or end < start:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        length = end - start + 1
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        sent = 0
        with open(path, "rb") as f:
            f.seek(start)
            while sent < length:
                block = f.read(min(1 << 20, length - sent))
                if not block:
                    break
                try:
                    self.wfile.write(block)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(block)
        self.counter.add(sent, m is not None)

    def do_HEAD(self) -> None:
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            super().do_HEAD()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(os.path.getsize(path)))
        self.end_headers()


@contextmanager
def serve(folder: Path) -> Iterator[tuple[str, Counter]]:
    """Serve ``folder`` on ``127.0.0.1`` (a free port) in a thread; yields its base URL and counter."""
    counter = Counter()
    handler = partial(RangeHandler, directory=str(folder), counter=counter)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", counter
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
