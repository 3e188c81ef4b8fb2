"""``RecordInput`` (hub/servables/record_input.py): one record -> one input item."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

from hub.exceptions import InputValidationError
from hub.servables.record_input import RecordInput

RECORD: dict[str, Any] = {
    "mdf": {"source_id": "mols_v1", "record_id": "mols_v1.3"},
    "files": [{"path": "table.txt"}, {"path": "water.xyz"}],
    "material": {"composition": "H2O"},
    "custom": {"b3lyp_u0": -76.4},
}
XYZ = b"3\nwater\nO 0 0 0\nH 0 0 1\nH 0 1 0\n"


def read(source_id: str, path: str) -> bytes:
    assert (source_id, path) == ("mols_v1", "water.xyz")
    return XYZ


def test_a_record_makes_a_dict_item_from_its_file_and_a_field() -> None:
    ri = RecordInput(source_name="mols", file="*.xyz", parts={"xyz": "file:text", "u0": "custom.b3lyp_u0"})
    assert ri.item(RECORD, read) == {"xyz": XYZ.decode(), "u0": -76.4}
    assert ri.query() == 'mdf.source_name:"mols" AND mdf.resource_type:record AND custom.b3lyp_u0:*'


def test_the_item_itself_and_arrays_from_npy() -> None:
    assert RecordInput(parts={"": "material.composition"}).item(RECORD, read) == "H2O"
    buffer = io.BytesIO()
    np.save(buffer, np.arange(4.0))
    record = {**RECORD, "files": [{"path": "x.npy"}]}
    item = RecordInput(parts={"": "file:array"}).item(record, lambda s, p: buffer.getvalue())
    assert np.array_equal(item, np.arange(4.0))


def test_missing_fields_and_files_name_the_record() -> None:
    with pytest.raises(InputValidationError, match=r"mols_v1.3 has no dft.total_energy"):
        RecordInput(parts={"e": "dft.total_energy"}).item(RECORD, read)
    with pytest.raises(InputValidationError, match=r"mols_v1.3 has no file matching \*.cif"):
        RecordInput(parts={"": "file:text"}, file="*.cif").item(RECORD, read)


def test_bad_parts_are_refused() -> None:
    with pytest.raises(ValueError, match="parts is empty"):
        RecordInput(parts={})
    with pytest.raises(ValueError, match="cannot be given with other keys"):
        RecordInput(parts={"": "a.b", "x": "c.d"})
    with pytest.raises(ValueError, match="file:pdf"):
        RecordInput(parts={"": "file:pdf"})
