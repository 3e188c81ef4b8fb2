"""A worker's reply is untrusted: its header may name neither code nor files outside the codec's own."""

from __future__ import annotations

import os
import pickle
import struct

import numpy as np
import pytest

from hub.servables import codec


def _message(parts: object, body: object = None) -> bytes:
    head = pickle.dumps(parts, protocol=5)
    return b"\x01" + struct.pack("<Q", len(head)) + head + pickle.dumps(body, protocol=5)


def test_round_trip_through_shared_segments():
    big = np.arange(2_000_000, dtype=np.float64)
    out = codec.safe_loads(codec.dumps({"x": big}))
    assert np.array_equal(out["x"], big)


def test_header_naming_a_foreign_file_is_refused(tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    with pytest.raises(pickle.UnpicklingError, match="does not make"):
        codec.safe_loads(_message([(1, (str(victim), 7))]))
    codec.discard(_message([(1, (str(victim), 7))]))
    assert victim.read_text() == "keep me"


class _Evil:
    def __reduce__(self):
        return (os.system, ("true",))


def test_header_naming_code_is_refused():
    with pytest.raises(pickle.UnpicklingError, match="only plain data"):
        codec.safe_loads(_message([(0, _Evil())]))
    with pytest.raises(pickle.UnpicklingError, match="only plain data"):
        codec.safe_loads(_message([], body=_Evil()))
