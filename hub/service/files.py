"""Serving a dataset file over HTTP, streamed in chunks.

HTTP Range (one range), ``ETag`` = the file's sha256, ``If-None-Match`` answered with
304.  A full read is verified against the sha256 as it streams (a corrupt blob ends
the response early rather than passing for the real file).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import IO

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from hub.exceptions import HubError
from hub.hubs.embedded import EmbeddedHub

CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(HubError):
    """A ``Range`` header no byte of the file satisfies (416)."""

    status_code = 416
    title = "Range not satisfiable"


def chunks(f: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of ``f`` from ``start``, in blocks of :data:`CHUNK`; ``f`` is closed at the end."""
    try:
        if start:
            f.seek(start)
        left = length
        while left > 0:
            block = f.read(min(CHUNK, left))
            if not block:
                break
            left -= len(block)
            yield block
    finally:
        f.close()


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(start, end_inclusive)`` of a single ``bytes=`` range, None to send everything.

    Multiple or malformed ranges are ignored (None), as RFC 9110 allows; an end past
    the file is cut to its last byte.

    Raises
    ------
    RangeNotSatisfiable
        A range that starts past the end of a ``size``-byte file, ends before it starts,
        or an empty suffix range (``bytes=-0``).
    """
    m = _RANGE.match(header.strip())
    if not m:
        return None  # multiple or malformed ranges: RFC 9110 lets us ignore the header
    first, last = m.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            raise RangeNotSatisfiable(f"an empty suffix range of a {size}-byte file")
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(f"range {header!r} is outside the file ({size} bytes)")
    return start, end


def file_response(hub: EmbeddedHub, ident: str, path: str, request: Request) -> Response:
    """The response to a request for file ``path`` of dataset ``ident``, as ``hub`` sees it.

    304 when ``If-None-Match`` holds the file's ETag; 206 with one part when a
    satisfiable ``Range`` is asked for (and ``If-Range``, if sent, is the ETag); else 200
    with the whole file, verified against its sha256 as it streams.

    Raises
    ------
    RangeNotSatisfiable
        A ``Range`` outside the file (see :func:`parse_range`).
    NotFoundError
        A dataset or file ``hub``'s principal may not see, or that does not exist.
    """
    ds = hub.dataset(ident)
    info = hub.file_info(ds.source_id, path)
    etag = f'"{info["sha256"]}"'
    mime = info.get("mime_type") or mimetypes.guess_type(path)[0] or "application/octet-stream"
    name = PurePosixPath(path).name.replace('"', "")
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'inline; filename="{name}"',
        "Digest": f"sha-256={info['sha256']}",
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    size = int(info["length"])
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    rng = parse_range(wanted, size) if wanted and (not if_range or if_range == etag) and size else None
    if rng is None:
        f = hub.open(ds.source_id, path)
        headers["Content-Length"] = str(size)
        return StreamingResponse(chunks(f, 0, size), media_type=mime, headers=headers)
    start, end = rng
    f = hub.open(ds.source_id, path, verify=False)
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    return StreamingResponse(
        chunks(f, start, end - start + 1), status_code=206, media_type=mime, headers=headers
    )
