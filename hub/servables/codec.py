"""Moving inputs and outputs between processes, into JSON, and into hashes.

- :func:`dumps` / :func:`loads`: the messages between the hub and its workers.
  Pickle protocol 5 with out-of-band buffers: a large array (at least
  :data:`SHM_THRESHOLD` bytes) travels through a shared-memory file
  (``/dev/shm``) instead of the pipe: one copy to write it, none to read it
  (the reader maps it copy-on-write and unlinks it at once); small ones inline.
- :func:`safe_loads`: what the hub uses to read a worker's reply.  Only plain
  data is accepted (numbers, strings, lists, dicts, numpy arrays of plain
  dtypes): a servable cannot make the hub run code by returning a crafted
  object, because published code never runs in the hub's process.
- :func:`to_safe`: in the worker, turns outputs into that plain data (numpy
  scalars to Python numbers, pandas objects to arrays and dicts, JAX arrays to
  numpy) or says which output cannot be returned.
- :func:`to_json` / :func:`from_json`: task results in the catalog (exact,
  arrays as base64) and ``--json`` output (arrays as nested lists).
- :func:`input_hash`: a stable hash of inputs and parameters for memoization.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import math
import mmap
import os
import pickle
import re
import struct
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hub.exceptions import InputValidationError, excerpt, quoted

#: Buffers at least this large go through shared memory rather than the pipe.
SHM_THRESHOLD = 4 * 1024 * 1024
_INLINE, _SHM = 0, 1

# -- process messages ---------------------------------------------------------------------


def _segment_dir() -> str:
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK):
        return shm  # tmpfs: memory, not disk
    return tempfile.gettempdir()


_SEGMENTS = _segment_dir()


def _write_segment(raw: memoryview) -> str:
    path = os.path.join(_SEGMENTS, f"matterhub-{os.getpid()}-{uuid.uuid4().hex}")
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb", closefd=True) as f:
            f.write(raw)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise
    return path


def _read_segment(path: str, size: int) -> Any:
    """The shared-memory segment at ``path``, mapped copy-on-write, then unlinked.

    No copy is made and writes stay private; the segment's memory is freed when the
    last array using it goes.
    """
    try:
        if size == 0:
            return bytearray()
        fd = os.open(path, os.O_RDONLY)
        try:
            return mmap.mmap(fd, size, access=mmap.ACCESS_COPY)
        finally:
            os.close(fd)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def dumps(obj: Any, shm_threshold: int = SHM_THRESHOLD) -> bytes:
    """``obj`` as one message; large buffers are written to shared-memory segments."""
    buffers: list[pickle.PickleBuffer] = []
    body = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    if not buffers:
        return b"\x00" + body
    parts: list[tuple[int, Any]] = []
    try:
        for buf in buffers:
            raw = buf.raw()
            if raw.nbytes >= shm_threshold:
                parts.append((_SHM, (_write_segment(raw), raw.nbytes)))
            else:
                parts.append((_INLINE, bytes(raw)))
    except BaseException:
        for kind, value in parts:
            if kind == _SHM:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(value[0])
        raise
    head = pickle.dumps(parts, protocol=5)
    return b"\x01" + struct.pack("<Q", len(head)) + head + body


_SEGMENT_NAME = re.compile(r"^matterhub-\d+-[0-9a-f]{32}$")


def _parts(data: bytes, segments: bool = True) -> tuple[memoryview, list[tuple[int, Any]]]:
    """The body and the out-of-band parts of a message.

    The header comes from another process (a worker, which may run anyone's code),
    so it is read with the restricted unpickler and checked: inline bytes, or (when
    ``segments``) a segment file of this codec's own naming in its own folder, nothing else.
    """
    view = memoryview(data)
    if view[0] == 0:
        return view[1:], []
    (n,) = struct.unpack("<Q", view[1:9])
    parts = _SafeUnpickler(io.BytesIO(view[9 : 9 + n])).load()
    if not isinstance(parts, list):
        raise pickle.UnpicklingError("a message header must be a list of parts")
    for part in parts:
        kind, value = part if isinstance(part, tuple) and len(part) == 2 else (None, None)
        if kind == _INLINE and isinstance(value, bytes):
            continue
        if (
            kind == _SHM
            and segments
            and isinstance(value, tuple)
            and len(value) == 2
            and isinstance(value[0], str)
            and isinstance(value[1], int)
            and os.path.dirname(value[0]) == _SEGMENTS
            and _SEGMENT_NAME.match(os.path.basename(value[0]))
        ):
            continue
        raise pickle.UnpicklingError(f"a message header names a part this codec does not make: {part!r}")
    return view[9 + n :], parts


def _buffers(data: bytes, segments: bool = True) -> tuple[memoryview, list[Any]]:
    body, parts = _parts(data, segments)
    out: list[Any] = []
    try:
        for kind, value in parts:
            out.append(value if kind == _INLINE else _read_segment(*value))
    except BaseException:
        discard(data)
        raise
    return body, out


def loads(data: bytes) -> Any:
    """Read a message made by :func:`dumps` (trusted: the hub's own requests)."""
    body, buffers = _buffers(data)
    return pickle.loads(body, buffers=buffers)


def discard(data: bytes) -> None:
    """Free the shared-memory segments of a message that was not (or not wholly) read."""
    try:
        _, parts = _parts(data)
    except Exception:
        return
    for kind, value in parts:
        if kind == _SHM:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(value[0])


#: The only globals a worker's reply may name.
_SAFE_GLOBALS = {
    ("builtins", "complex"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
    ("builtins", "slice"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"a servable's reply referred to {module}.{name}; only plain data (numbers, strings, "
            "lists, dicts, numpy arrays) may come back from a worker"
        )


def safe_loads(data: bytes, segments: bool = True) -> Any:
    """Read a worker's reply, accepting plain data only (see :data:`_SAFE_GLOBALS`).

    ``segments``: accept shared-memory segments (False for a contained worker's reply:
    it sends everything through the pipe, and may not name any file for the hub to open).
    """
    body, buffers = _buffers(data, segments)
    return _SafeUnpickler(io.BytesIO(body), buffers=buffers).load()


# -- outputs as plain data ----------------------------------------------------------------------


def to_safe(obj: Any, name: str = "output") -> Any:
    """Outputs as plain data a hub can read; raises TypeError naming what cannot be returned."""
    if obj is None or isinstance(obj, bool | int | float | str | bytes | complex):
        return obj
    if isinstance(obj, np.ndarray):
        return _safe_array(obj, name)
    if isinstance(obj, np.generic):
        return obj.item() if obj.dtype.kind in "biufcUS" else to_safe(np.asarray(obj), name)
    if isinstance(obj, Mapping):
        return {
            (k if isinstance(k, str | int | float | bool) else str(k)): to_safe(v, f"{name}[{k!r}]")
            for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        out = [to_safe(v, f"{name}[{i}]") for i, v in enumerate(obj)]
        return tuple(out) if isinstance(obj, tuple) else out
    if isinstance(obj, set | frozenset):
        return [to_safe(v, name) for v in obj]
    module = type(obj).__module__.split(".")[0]
    if module == "pandas":
        if hasattr(obj, "columns"):  # DataFrame: {column: array}
            return {str(c): _safe_array(obj[c].to_numpy(), f"{name}[{c!r}]") for c in obj.columns}
        return _safe_array(obj.to_numpy(), name)
    if hasattr(obj, "__array__"):  # JAX, torch (CPU), xarray, ...
        return _safe_array(np.asarray(obj), name)
    raise TypeError(
        f"{name} is a {type(obj).__module__}.{type(obj).__qualname__}, which cannot be returned: "
        "return numbers, strings, lists, dicts or numpy arrays"
    )


def _safe_array(arr: np.ndarray, name: str) -> Any:
    if arr.dtype.kind == "O":
        return to_safe(arr.tolist(), name)
    native = arr.dtype.type.__module__ == "numpy" and arr.dtype.fields is None
    if native and arr.dtype.kind in "biufcUS":
        return arr
    if arr.dtype.kind in "mM":
        return arr.astype(str)
    if (
        not native and arr.dtype.kind in "fV" and arr.dtype.fields is None
    ):  # bfloat16 and other extension floats
        try:
            return arr.astype(np.float32)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{name} is an array of dtype {arr.dtype}, which cannot be returned")


# -- JSON ---------------------------------------------------------------------------------


def to_json(obj: Any, arrays: str = "base64") -> Any:
    """A JSON-compatible copy: ``arrays="base64"`` is exact (catalog), ``"lists"`` is for people."""
    if isinstance(obj, np.ndarray):
        if arrays == "lists":
            if obj.dtype.kind == "c":
                return {"real": obj.real.tolist(), "imag": obj.imag.tolist()}
            return obj.tolist()
        data = np.ascontiguousarray(obj)
        return {
            "__ndarray__": {
                "dtype": data.dtype.str,
                "shape": list(data.shape),
                "data": base64.b64encode(data.tobytes()).decode("ascii"),
            }
        }
    if isinstance(obj, np.generic):
        return to_json(obj.item(), arrays)
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"__float__": repr(obj)}
    if isinstance(obj, complex):
        return {"__complex__": [obj.real, obj.imag]}
    if isinstance(obj, bytes):
        return {"__bytes__": base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, Mapping):
        return {str(k): to_json(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json(v, arrays) for v in obj]
    return obj


@dataclass(frozen=True)
class DecodeLimits:
    """How large a JSON value :func:`from_json` decodes (the service's limits on run inputs).

    Attributes
    ----------
    max_depth : int
        Levels of lists and objects.
    max_tags : int
        Tagged values (``__ndarray__``, ``__bytes__``, ``__float__``, ``__complex__``).
    """

    max_depth: int = 64
    max_tags: int = 10_000


#: Array element kinds a JSON value may hold (no objects, no records, no raw bytes).
_PLAIN_KINDS = frozenset("biufcSUmM")
_TAG_FORMS = {
    "__ndarray__": '{"dtype": "<f8", "shape": [2, 3], "data": "<base64 of the bytes>"}',
    "__bytes__": '"<base64>"',
    "__float__": 'a number as a string ("nan", "inf", "-inf")',
    "__complex__": "[real, imag]",
}


class _TagError(Exception):
    """A tagged value that cannot be decoded; ``path`` is filled in on the way out."""

    def __init__(self, message: str, expected: str = "", given: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected or message
        self.given = given
        self.path: list[str] = []


def from_json(obj: Any, limits: DecodeLimits | None = None, name: str = "the value") -> Any:
    """The inverse of :func:`to_json` with ``arrays="base64"``.

    ``name`` is what an error calls ``obj`` (``inputs``: ``inputs[0]['x']: ...``).

    Tagged values must be as :func:`to_json` writes them: arrays of plain dtypes (numbers,
    booleans, strings, dates) whose bytes fill their shape, strict base64.

    Raises
    ------
    InputValidationError
        A malformed tagged value (naming where it is and what it should be), or a value
        past ``limits``.
    """
    counter = [0]
    try:
        return _decode(obj, limits, 0, counter)
    except _TagError as exc:
        where = name + excerpt("".join(exc.path), 100)
        raise InputValidationError(
            f"{where}: {exc.message}", [{"input": where, "expected": exc.expected, "given": exc.given}]
        ) from None


def _decode(obj: Any, limits: DecodeLimits | None, depth: int, tags: list[int]) -> Any:
    if isinstance(obj, dict | list) and limits is not None and depth >= limits.max_depth:
        raise _TagError(f"nests more than {limits.max_depth} levels deep; this service takes at most that")
    if isinstance(obj, dict):
        if len(obj) == 1:
            key, value = next(iter(obj.items()))
            if key in _TAG_FORMS:
                tags[0] += 1
                if limits is not None and tags[0] > limits.max_tags:
                    raise _TagError(
                        f"holds more than {limits.max_tags:,} tagged values (arrays, bytes, special "
                        "numbers); this service takes at most that"
                    )
                try:
                    return _untag(key, value)
                except (TypeError, ValueError, OverflowError) as exc:
                    raise _TagError(
                        f"a {key} value is {_TAG_FORMS[key]} ({excerpt(str(exc))}); got {quoted(value)}",
                        f"a {key} value: {_TAG_FORMS[key]}",
                        quoted(value),
                    ) from None
        out = {}
        for k, v in obj.items():
            try:
                out[k] = _decode(v, limits, depth + 1, tags)
            except _TagError as exc:
                exc.path.insert(0, f"[{quoted(k)}]")
                raise
        return out
    if isinstance(obj, list):
        items = []
        for i, v in enumerate(obj):
            try:
                items.append(_decode(v, limits, depth + 1, tags))
            except _TagError as exc:
                exc.path.insert(0, f"[{i}]")
                raise
        return items
    return obj


def _untag(key: str, value: Any) -> Any:
    """The value of one tagged object; TypeError, ValueError or KeyError when malformed."""
    if key == "__ndarray__":
        return _array(value)
    if key == "__float__":
        if not isinstance(value, str):
            raise TypeError("not a string")
        return float(value)
    if key == "__complex__":
        if not (isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)):
            raise TypeError("not a list of two numbers")
        return complex(*value)
    if not isinstance(value, str):
        raise TypeError("not a string")
    return base64.b64decode(value, validate=True)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _array(value: Any) -> np.ndarray:
    if not isinstance(value, dict) or set(value) != {"dtype", "shape", "data"}:
        raise TypeError("an object of dtype, shape and data")
    spec, shape, data = value["dtype"], value["shape"], value["data"]
    if not isinstance(spec, str) or not isinstance(data, str):
        raise TypeError("dtype and data are strings")
    if not isinstance(shape, list) or len(shape) > 32 or not all(_is_whole(n) for n in shape):
        raise TypeError("shape is a list of at most 32 whole numbers")
    dtype = np.dtype(spec)
    if dtype.kind not in _PLAIN_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise TypeError(f"dtype {dtype.str} is not a plain dtype")
    raw = base64.b64decode(data, validate=True)
    if dtype.itemsize == 0 or len(raw) != math.prod(shape) * dtype.itemsize:
        raise ValueError(f"{len(raw)} bytes do not fill shape {shape} of {dtype.str}")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# -- hashing --------------------------------------------------------------------------------


def input_hash(*values: Any) -> str:
    """A stable sha256 of values (arrays by dtype, shape and bytes; dicts by sorted keys)."""
    h = hashlib.sha256()
    for v in values:
        _feed(h, v)
    return h.hexdigest()


def _feed(h: Any, v: Any) -> None:
    if isinstance(v, np.ndarray):
        arr = np.ascontiguousarray(v)
        h.update(b"A" + arr.dtype.str.encode() + repr(arr.shape).encode())
        if arr.dtype.kind == "O":
            _feed(h, arr.tolist())
        else:
            h.update(arr.tobytes())
    elif isinstance(v, Mapping):
        h.update(b"D%d" % len(v))
        for k in sorted(v, key=repr):
            _feed(h, k)
            _feed(h, v[k])
    elif isinstance(v, list | tuple):
        h.update((b"L" if isinstance(v, list) else b"T") + b"%d" % len(v))
        for x in v:
            _feed(h, x)
    elif isinstance(v, bytes):
        h.update(b"B%d:" % len(v) + v)
    elif isinstance(v, str):
        data = v.encode()
        h.update(b"S%d:" % len(data) + data)
    elif isinstance(v, np.generic):
        _feed(h, v.item())
    else:
        h.update(b"V" + type(v).__name__.encode() + b":" + repr(v).encode())
