"""Mutated real files, and a child process that submits them (the extractor fuzzing of
test_extractor_mutations.py).

``mutations(data, text, rng)`` gives named mutants of one file's bytes: truncations, bit
flips (anywhere and in the header), a huge header (an 8 MB first line for text, the
first bytes set to 0xFF for binary formats, which is where sizes and counts live),
random bytes of the same length, and the file twice over.

Run as a script, this module is the child: it opens a hub of its own, reads one JSON
request per line on stdin (``{"folder", "mapping"}``), submits the folder with
``Hub.submit`` (collect, extract, merge, validate, dispatch: the whole Connect path) and
answers one JSON line: the submission's status, its per-file errors, or the exception
that escaped (``unhandled``).  The parent watches it for crashes and hangs.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

HUGE = 8 * 1024 * 1024


def is_text(data: bytes) -> bool:
    head = data[:4096]
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the end of the sample
    return True


def _flip(data: bytes, rng: random.Random, n: int, within: int | None = None) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    span = min(len(out), within) if within else len(out)
    for _ in range(n):
        i = rng.randrange(span)
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def mutations(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """Named mutants of ``data`` (deterministic for a given ``rng`` state)."""
    n = len(data)
    yield "empty", b""
    yield "one byte", data[:1]
    yield "cut at 1/2", data[: n // 2]
    yield "cut at 99%", data[: max(1, n * 99 // 100)]
    yield "1 bit flipped", _flip(data, rng, 1)
    yield "16 bits flipped", _flip(data, rng, 16)
    yield "8 header bits flipped", _flip(data, rng, 8, within=256)
    if is_text(data):
        yield "8 MB first line", b"#" + b"A" * HUGE + b"\n" + data
        first, _, rest = data.partition(b"\n")
        yield "8 MB line inside", first + b"\n" + b"9" * HUGE + b"\n" + rest
    else:
        yield "0xFF header", b"\xff" * min(64, n) + data[64:]
        yield "8 MB of 0xFF before", b"\xff" * HUGE + data
    yield "random bytes", rng.randbytes(n)
    yield "twice over", data + data


def _serve() -> None:
    import resource
    import tempfile
    import warnings

    cap = 6 * 1024**3  # a mutant that makes a library allocate wildly gets a MemoryError, not the machine
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    warnings.simplefilter("ignore")
    from hub import Hub
    from hub.exceptions import HubError

    home = Path(tempfile.mkdtemp(prefix="mutants-hub-"))
    hub = Hub(home / "hub", user="fuzzer", progress=False)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        out: dict[str, object] = {}
        try:
            sub = hub.submit(req["folder"], "Mutant", ["Fuzz, Er"], mapping=req.get("mapping"))
            out = {
                "status": sub.status,
                "message": sub.message,
                "errors": [
                    {"error": e.get("error"), "extractor": e.get("extractor"), "message": e.get("message")}
                    for e in sub.errors
                ],
                "hub_error": False,
            }
        except HubError as exc:  # refused as a whole, with a clear error: handled
            out = {"status": "refused", "message": exc.message, "errors": [], "hub_error": True}
        except BaseException as exc:
            import traceback

            out = {"unhandled": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:]}
        print(json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    _serve()
