"""A per-caller rate limit for the REST API.

A token bucket per bearer token (or per client address for anonymous callers), and a
second, stricter one for uploads.

    app.add_middleware(RateLimitMiddleware)        # limits from the environment

Settings (environment variables, or keyword arguments of the middleware):

- ``MATTERHUB_SERVICE_RATE_LIMIT``: requests per second a caller may sustain (default 100;
  0 turns the limit off), ``MATTERHUB_SERVICE_RATE_BURST``: how many it may send at once
  (default 400);
- ``MATTERHUB_SERVICE_UPLOAD_RATE``: uploads (``POST`` of a submission or a servable) per
  minute (default 120; 0: off), ``MATTERHUB_SERVICE_UPLOAD_BURST`` (default 20).

A caller over a limit gets ``429 Too Many Requests`` with ``Retry-After`` (seconds) and the
service's error body.  Tokens are keyed by a hash (the middleware keeps no token), and at
most ``max_keys`` callers are remembered (least recently seen forgotten first), so memory
stays bounded whatever the number of callers.  With ``shared=`` (the catalog's engine,
PostgreSQL) the buckets are rows of the catalog, so the limits hold summed over the API
processes of ``matterhub serve --workers N`` (:mod:`hub.service.sharedlimits`).  Behind a reverse proxy every anonymous
caller shares the proxy's address: limit anonymous traffic at the proxy there.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine

from hub.service.sharedlimits import SharedLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Paths whose POST is an upload (the body is a file).
UPLOAD_PATHS = ("/api/submissions/upload", "/api/servables")


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(f"MATTERHUB_SERVICE_{name}")
    return default if value is None or not value.strip() else float(value)


@dataclass
class Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up."""

    tokens: float
    stamp: float

    def take(self, rate: float, burst: float, now: float) -> float:
        """Take one token; 0.0 when granted, else the seconds until one is there."""
        self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / rate


class Limiter:
    """Buckets keyed by caller, at one rate; the least recently seen are forgotten past ``max_keys``."""

    #: :meth:`take` is quick and in memory (the event loop may call it).
    blocking = False

    def __init__(self, rate: float, burst: float, max_keys: int = 10_000) -> None:
        if rate < 0 or burst < 0:
            raise ValueError(f"rate and burst must be >= 0, got rate={rate}, burst={burst}")
        self.rate = rate
        self.burst = max(1.0, burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """Whether the limit applies (a rate of 0 turns it off)."""
        return self.rate > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float) -> float:
        """Take one token from caller ``key``'s bucket at time ``now`` (seconds).

        A caller seen for the first time starts with a full bucket (``burst`` tokens).

        Returns
        -------
        float
            0.0 when granted, else the seconds until a token is there.
        """
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(self.burst, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(self.rate, self.burst, now)


def caller_key(scope: Scope) -> str:
    """``token:<hash>`` for a bearer token, else ``ip:<client address>``."""
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return "token:" + hashlib.sha256(token.strip()).hexdigest()[:32]
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


class RateLimitMiddleware:
    """ASGI middleware enforcing :class:`Limiter` per caller (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rate: float | None = None,
        burst: float | None = None,
        upload_rate_per_minute: float | None = None,
        upload_burst: float | None = None,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        shared: Engine | None = None,
    ) -> None:
        self.app = app
        request_rate = _env_float("RATE_LIMIT", 100.0) if rate is None else rate
        request_burst = _env_float("RATE_BURST", 400.0) if burst is None else burst
        per_minute = (
            _env_float("UPLOAD_RATE", 120.0) if upload_rate_per_minute is None else upload_rate_per_minute
        )
        uploads_burst = _env_float("UPLOAD_BURST", 20.0) if upload_burst is None else upload_burst
        self.requests: Limiter | SharedLimiter
        self.uploads: Limiter | SharedLimiter
        if shared is None:
            self.requests = Limiter(request_rate, request_burst, max_keys)
            self.uploads = Limiter(per_minute / 60.0, uploads_burst, max_keys)
        else:  # the buckets are rows of the catalog, shared by every API process
            self.requests = SharedLimiter(shared, "requests", request_rate, request_burst)
            self.uploads = SharedLimiter(shared, "uploads", per_minute / 60.0, uploads_burst)
        self.clock = clock
        #: Requests refused so far (tests and the reliability report read it).
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass an HTTP request on to the app, or answer 429 when its caller is over a limit.

        Every request takes from the caller's request bucket; an upload (a ``POST`` to
        one of :data:`UPLOAD_PATHS`) also from its upload bucket.  Other ASGI events
        (lifespan, websockets) pass through unlimited.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = caller_key(scope)
        now = self.clock()
        wait = await _take(self.requests, key, now) if self.requests.enabled else 0.0
        what = "requests"
        if not wait and self.uploads.enabled and _is_upload(scope):
            wait = await _take(self.uploads, key, now)
            what = "uploads"
        if wait:
            self.refused += 1
            await _too_many(send, wait, what, self.requests if what == "requests" else self.uploads)
            return
        await self.app(scope, receive, send)


async def _take(limiter: Limiter | SharedLimiter, key: str, now: float) -> float:
    """``limiter.take(key, now)``; in a worker thread when it asks the database."""
    if limiter.blocking:
        return await anyio.to_thread.run_sync(limiter.take, key, now)
    return limiter.take(key, now)


def _is_upload(scope: Scope) -> bool:
    return scope.get("method") == "POST" and str(scope.get("path", "")).rstrip("/") in UPLOAD_PATHS


async def _too_many(send: Send, wait: float, what: str, limiter: Limiter | SharedLimiter) -> None:
    retry = max(1, math.ceil(wait))
    if what == "uploads":
        allowed = f"{limiter.rate * 60:g} uploads a minute (bursts of {limiter.burst:g})"
    else:
        allowed = f"{limiter.rate:g} requests a second (bursts of {limiter.burst:g})"
    body = json.dumps(
        {
            "status": 429,
            "title": "Too many requests",
            "detail": f"this caller sent more {what} than the service allows ({allowed}); retry in {retry} s",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
