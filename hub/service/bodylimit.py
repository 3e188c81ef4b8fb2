"""Request bodies within limits before any work: their size as they arrive, the nesting of JSON before it is decoded.

    app.add_middleware(BodyLimitMiddleware, settings=settings)

- A body larger than its route's limit is refused with 413: when its ``Content-Length``
  says so, before a byte of it is read; otherwise as soon as the bytes read pass the
  limit (nothing more is read).
- A JSON body (``application/json``, ``application/*+json``) is read whole (within its
  limit) and refused with 400 when its lists and objects nest deeper than
  ``max_json_depth``, before anything decodes it: no decoder, validator or handler
  ever recurses that deep.

The limits (:class:`~hub.service.settings.ServiceSettings`): uploads (a ``POST`` of a
submission or a servable, multipart) ``max_upload_bytes`` plus 1 MiB for the form's
other fields; servable runs ``max_run_body_bytes``; any other request
``max_body_bytes``.

The refusals are raised where the route reads its body (FastAPI does that before
anything else of the route), so each API answers them in its own error format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread
import numpy as np
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from hub.exceptions import ValidationError
from hub.service.ratelimit import UPLOAD_PATHS
from hub.service.settings import ServiceSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Room for the other fields of an upload's form, besides the file.
FORM_ROOM = 1024**2
_RUN_PATH = re.compile(r"^/api/servables/[^/]+/[^/]+/run/?$")
#: Every byte but quotes, brackets and braces, deleted to measure nesting.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
#: Bodies larger than this are measured in a worker thread.
_IN_THREAD = 256 * 1024
_CHUNK = 1 << 22


class BodyTooLarge(HTTPException):
    """A request body larger than its route's limit (413)."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        size = f" ({declared:,} bytes)" if declared is not None else ""
        super().__init__(
            413,
            f"the request body{size} is larger than this service accepts here ({limit:,} bytes); "
            "send less at once",
        )


class JSONTooDeep(HTTPException):
    """A JSON body nested deeper than the service's limit (400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            400,
            f"the JSON body nests lists and objects more than {limit} levels deep; this service "
            f"takes at most {limit}",
        )


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether the lists and objects of the JSON text ``body`` nest more than ``limit`` deep.

    Brackets inside strings do not count.  The measure is a few passes of C and numpy
    over the bytes, in time linear in their length whatever they hold: escaped
    backslashes and quotes are dropped, then everything but quotes and brackets,
    then empty strings; what is left alternates opening and closing quotes, so a
    bracket is outside every string where the quotes before it are even.  It agrees
    with the decoder on every prefix of ``body`` that is valid JSON (where a decoder
    would recurse).
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    text = body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    text = text.replace(b'""', b"")
    level, quotes = 0, 0
    for start in range(0, len(text), _CHUNK):
        chunk = np.frombuffer(text, dtype=np.uint8, count=min(_CHUNK, len(text) - start), offset=start)
        is_quote = chunk == ord('"')
        outside = (np.cumsum(is_quote, dtype=np.int64) + quotes) % 2 == 0
        opens = ((chunk == ord("[")) | (chunk == ord("{"))) & outside
        closes = ((chunk == ord("]")) | (chunk == ord("}"))) & outside
        depth = np.cumsum(opens.astype(np.int64) - closes.astype(np.int64)) + level
        if int(depth.max(initial=level)) > limit:
            return True
        level = int(depth[-1])
        quotes += int(is_quote.sum())
    return False


def json_field(text: str, what: str, max_depth: int) -> Any:
    """The value of a form field holding JSON (an upload's ``metadata``), its nesting checked first.

    Raises
    ------
    ValidationError
        Text that is not JSON, or nests more than ``max_depth`` deep.
    """
    data = text.encode()
    if json_depth_exceeds(data, max_depth):
        raise ValidationError(f"{what} nests lists and objects more than {max_depth} levels deep")
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{what} is not JSON: {exc}") from None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers") or ():
        if name == b"content-type":
            media = bytes(value).split(b";", 1)[0].strip().lower()
            return media == b"application/json" or (
                media.startswith(b"application/") and media.endswith(b"+json")
            )
    return False


class BodyLimitMiddleware:
    """ASGI middleware holding request bodies to the service's limits (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, settings: ServiceSettings) -> None:
        self.app = app
        self.settings = settings

    def limit_for(self, scope: Scope) -> int:
        """The body limit of the request ``scope`` (bytes)."""
        path = str(scope.get("path", ""))
        if scope.get("method") == "POST":
            if path.rstrip("/") in UPLOAD_PATHS:
                return self.settings.max_upload_bytes + FORM_ROOM
            if _RUN_PATH.match(path):
                return self.settings.max_run_body_bytes
        return self.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, its body read through the limits (other ASGI events pass as they are)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        depth = self.settings.max_json_depth if _is_json(scope) else None
        read = 0
        whole = False

        async def limited() -> Message:
            nonlocal read, whole
            if whole:
                return await receive()
            if declared is not None and declared > limit:
                raise BodyTooLarge(limit, declared)
            if depth is None:
                message = await receive()
                read += len(message.get("body", b"")) if message["type"] == "http.request" else 0
                if read > limit:
                    raise BodyTooLarge(limit)
                return message
            body = await _read_all(receive, limit)
            whole = True
            if len(body) > _IN_THREAD:
                too_deep = await anyio.to_thread.run_sync(json_depth_exceeds, body, depth)
            else:
                too_deep = json_depth_exceeds(body, depth)
            if too_deep:
                raise JSONTooDeep(depth)
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, limited, send)


async def _read_all(receive: Receive, limit: int) -> bytes:
    """The whole body, read message by message; :class:`BodyTooLarge` once it passes ``limit``."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)
