"""Importing the real DLHub documents of the G4MP2 study (../shared/data/g4mp2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.exceptions import NotRunnableError, ValidationError
from hub.servables import describe
from hub.servables.dlhub import import_document, repair_json
from hub.servables.parts import ServableParts


@pytest.mark.shared_data
def test_import_the_g4mp2_heavy_document(shared_data: Path) -> None:
    path = shared_data / "g4mp2" / "G4MP2-heavy-description.json"
    sv = import_document(path)
    md = sv.metadata
    assert sv.name == "G4MP2-heavy" and sv.type == "dlhub_dataset"
    assert md.dlhub.type == "dataset" and md.dlhub.visible_to == ["public"]
    assert md.dlhub.imported_from == "DLHub SDK 0.7.4 (G4MP2-heavy-description.json)"
    assert md.datacite.titles[0].title == "Solubilities and G4MP2 Energies of 66 Sugar Molecules"
    assert [c.name for c in md.datacite.creators] == [
        "Assary, Rajeev",
        "Narayanan, Badri",
        "Cheng, Lei",
        "Curtiss, Larry",
    ]
    assert md.datacite.creators[0].affiliation == ["Argonne National Laboratory"]
    assert md.datacite.identifier is None  # DLHub's "10.YET/UNASSIGNED" placeholder is not a DOI
    assert md.datacite.publicationYear == "2019"
    run = md.servable.run
    assert list(run.input.properties or {}) == ["smiles", "xyz"]
    xyz = (run.input.properties or {})["xyz"]
    assert (xyz.type, xyz.format) == ("file", "XYZ")
    labels = run.output.properties or {}
    assert labels["g4mp2_atom"].type == "float" and labels["g4mp2_atom"].units == "Ha"
    assert labels["in_holdout"].type == "boolean"
    assert "smiles" not in labels and len(labels) > 10
    assert md.dataset is not None and md.dataset["inputs"] == ["smiles", "xyz"]
    assert not md.servable.runnable


@pytest.mark.shared_data
def test_the_truncated_document_is_a_clear_error(shared_data: Path) -> None:
    path = shared_data / "g4mp2" / "description.json"
    with pytest.raises(ValidationError) as err:
        import_document(path)
    msg = str(err.value)
    assert "description.json is not a complete JSON document" in msg
    assert "stops in the middle of a value at line 73, column 17 (character 1533 of 1536)" in msg
    assert "the file looks truncated" in msg
    assert "repair=True" in msg
    with pytest.warns(UserWarning, match="cut short at line 73"):
        sv = import_document(path, repair=True)
    assert sv.name == "QM9-G4MP2"
    assert sv.metadata.datacite.titles[0].title.startswith("Energetic, Band Structure, and Solubility")
    assert sv.metadata.dataset is not None and sv.metadata.dataset["format"] == "json"


def test_repair_json_keeps_the_complete_part() -> None:
    value, kept = repair_json('{"a": [1, 2, {"b": "x"}], "c": {"d": "unfinished')
    assert value == {"a": [1, 2, {"b": "x"}], "c": {}}
    assert kept == len('{"a": [1, 2, {"b": "x"}], "c": {')
    assert json.loads(json.dumps(value)) == value


@pytest.mark.shared_data
def test_publish_discover_and_not_run(alice: ServableParts, shared_data: Path) -> None:
    sv = describe(shared_data / "g4mp2" / "G4MP2-heavy-description.json", domains=["chemistry"])
    name = alice.registry.publish(sv)
    assert name == "alice/G4MP2-heavy"
    hit = alice.registry.servables("servable.type:dlhub_dataset AND dataset.columns.name:g4mp2_atom").hits[0]
    assert hit.id == name and hit.document["dlhub"]["domains"] == ["chemistry"]
    assert alice.registry.servables("Curtiss").total == 1
    with pytest.raises(
        NotRunnableError, match=r"nothing to run .imported from DLHub without its model files"
    ):
        alice.run(name, {"smiles": "C", "xyz": "x"})


def test_import_a_dlhub_servable_document() -> None:
    doc = {
        "datacite": {
            "creators": [{"givenName": "Logan", "familyName": "Ward", "affiliations": ["Argonne"]}],
            "titles": [{"title": "Formation enthalpy model"}],
            "fundingReferences": [{"funderName": "DOE"}],
        },
        "dlhub": {
            "name": "oqmd-formation",
            "type": "servable",
            "version": "0.9.0",
            "domains": ["materials"],
            "visible_to": ["public"],
            "dependencies": {"python": {"scikit-learn": "0.24.1"}},
            "files": {"model": "model.pkl"},
        },
        "servable": {
            "type": "Scikit-learn estimator",
            "shim": "sklearn.ScikitLearnServable",
            "model_type": "RandomForestRegressor",
            "methods": {
                "run": {
                    "input": {"type": "ndarray", "shape": [None, 145], "item_type": {"type": "float"}},
                    "output": {"type": "ndarray", "shape": [None], "description": "eV/atom"},
                    "parameters": {},
                    "method_details": {"method_name": "predict"},
                }
            },
        },
    }
    sv = import_document(doc)
    assert sv.type == "sklearn" and sv.metadata.servable.model_type == "RandomForestRegressor"
    assert sv.input.shape == [None, 145] and sv.output.description == "eV/atom"
    assert sv.requirements == ["scikit-learn==0.24.1"]
    assert sv.to_dict()["dlhub"]["imported_datacite"] == {"fundingReferences": [{"funderName": "DOE"}]}
    assert not sv.metadata.servable.runnable  # imported without its model file
    with pytest.raises(ValidationError, match="not a DLHub document: it has no dlhub block"):
        import_document({"datacite": {}})
