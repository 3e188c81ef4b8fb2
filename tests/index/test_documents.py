"""Index documents as JSON text (hub/index/documents.py) and the ``src`` field they fill."""

from __future__ import annotations

import base64
import enum
import json

import numpy as np
import pytest
import tantivy

from hub.index.documents import prepare_document
from hub.index.engine import IndexDoc, SearchIndex
from hub.index.schema import FIELDS, build_schema

from .conftest import ADMIN

RECORD = {
    "mdf": {"source_id": "s_v1", "record_id": "s_v1.1", "ingest_date": "2024-05-01T10:00:00+00:00"},
    "material": {"composition": "Fe2O3", "elements": ["Fe", "O"]},
    "dft": {"converged": True, "total_energy": -12.5, "code": "Quantum ESPRESSO"},
    "custom": {"year": "2019", "note": None},
}


class Colour(enum.StrEnum):
    RED = "red"


def test_the_document_is_json_text_of_the_schema_fields():
    text, types = prepare_document("s_v1.1", "record", "s_v1", ["public"], RECORD)
    fields = json.loads(text)
    assert set(fields) <= set(FIELDS)
    assert json.loads(base64.b64decode(fields["src"])) == RECORD
    assert fields["kw"]["mdf"]["ingest_date"] == "2024-05-01T10:00:00.000000Z"
    assert fields["nm"] == {"custom": {"year": 2019.0}}
    assert "material.composition=Fe2O3" in fields["pv"]
    assert "dft.code=espresso" in fields["pt"]
    assert ("mdf.ingest_date", "date") in types and ("dft.converged", "boolean") in types


def test_repeated_values_are_analyzed_alike():
    first = json.loads(prepare_document("a", "record", "s", ["public"], RECORD)[0])
    again = json.loads(prepare_document("a", "record", "s", ["public"], RECORD)[0])
    assert first == again


def test_subclasses_are_indexed_as_their_plain_values():
    doc = {"colour": Colour.RED, "energy": np.float64(1.5), "flag": np.bool_(True).item()}
    fields = json.loads(prepare_document("a", "record", "s", ["public"], doc)[0])
    assert fields["kw"] == {"colour": "red", "energy": 1.5, "flag": True}
    assert "colour=red" in fields["pv"]


def test_src_is_stored_and_not_indexed(tmp_path):
    """The whole document is read back, never searched: indexing it as one raw term
    was the costliest part of indexing."""
    index = SearchIndex(tmp_path / "index")
    index.replace_sources([], [IndexDoc("s_v1.1", "record", "s_v1", ["public"], RECORD)])
    (hit,) = index.search("material.elements:Fe", ADMIN).hits
    assert hit.document == RECORD
    src = json.dumps(RECORD, separators=(",", ":")).encode()
    with pytest.raises(ValueError, match="not indexed"):
        index.searcher().search(tantivy.Query.term_query(build_schema(), "src", src), 1)
