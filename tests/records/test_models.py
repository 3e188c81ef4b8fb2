"""The metadata model: validation messages, limits, JSON Schema and DataCite export."""

from __future__ import annotations

import json

import pytest

from hub.exceptions import ValidationError
from hub.records import creators_from, slugify, to_datacite_json, validate_dataset, validate_record
from hub.records.schema import SCHEMA_DIR, json_schemas, render

SHA = "a" * 64


def record(**blocks):
    return {
        "mdf": {"source_name": "x", "source_id": "x_v1", "version": 1, "record_id": "x_v1.1", "scroll_id": 1},
        "files": [{"filename": "a.cif", "path": "a.cif", "length": 3, "sha256": SHA}],
        **blocks,
    }


def dataset(**over):
    doc = {
        "dc": {"creators": [{"name": "Ward, Logan"}], "titles": [{"title": "T"}]},
        "mdf": {"source_name": "x", "source_id": "x_v1", "version": 1},
    }
    doc.update(over)
    return doc


def test_valid_record_normalises_and_drops_nones():
    out = validate_record(record(material={"composition": "Al2O3", "elements": ["Al", "O"]}, dft=None))
    assert out["material"] == {"composition": "Al2O3", "elements": ["Al", "O"]}
    assert "dft" not in out and "custom" not in out
    json.dumps(out)


def test_error_names_field_path_and_value():
    with pytest.raises(ValidationError) as info:
        validate_record(record(crystal_structure={"space_group_number": 231, "lattice": [[1, 0]]}))
    fields = {e["field"] for e in info.value.errors}
    assert fields == {"crystal_structure.space_group_number", "crystal_structure.lattice"}
    assert "231" in info.value.message and "crystal_structure.lattice" in info.value.message


def test_unknown_block_is_rejected():
    with pytest.raises(ValidationError, match="materal"):
        validate_record(record(materal={"elements": ["O"]}))


def test_open_blocks_accept_extractor_fields():
    out = validate_record(record(dft={"code": "VASP", "zero_point_energy": 0.1}))
    assert out["dft"]["zero_point_energy"] == 0.1


def test_custom_fields_are_limited_to_ten():
    with pytest.raises(ValidationError, match="at most 10 custom fields"):
        validate_record(record(custom={f"f{i}": i for i in range(11)}))
    assert len(validate_record(record(custom={f"f{i}": i for i in range(10)}))["custom"]) == 10


def test_dataset_document_and_creator_names():
    out = validate_dataset(dataset())
    creator = out["dc"]["creators"][0]
    assert (creator["familyName"], creator["givenName"]) == ("Ward", "Logan")
    assert out["mdf"]["visible_to"] == ["public"]


def test_bad_source_name_suggests_a_slug():
    with pytest.raises(ValidationError, match="band_gaps"):
        validate_dataset(dataset(mdf={"source_name": "Band Gaps", "source_id": "x", "version": 1}))


def test_slugify_like_mdf():
    assert slugify("Band gaps of oxides: a DFT study (2019)") == "band_gaps_of_oxides_a_dft_study_2019"
    assert slugify("Éléments àccentués") == "elements_accentues"
    assert slugify("!!!") == "dataset"


def test_datacite_export_has_doi_ready_shape():
    dc = validate_dataset(
        dataset(
            dc={
                "creators": [{"name": "Ward, Logan", "affiliation": ["Argonne"]}],
                "titles": [{"title": "G4MP2"}],
                "relatedIdentifiers": [
                    {"relatedIdentifier": "10.1557/mrc.2019.107", "relationType": "IsCitedBy"}
                ],
                "publicationYear": "2019",
            }
        )
    )["dc"]
    body = to_datacite_json(dc)
    assert body["types"] == {"resourceTypeGeneral": "Dataset"}
    assert body["schemaVersion"] == "http://datacite.org/schema/kernel-4"
    assert body["creators"][0]["affiliation"] == ["Argonne"]
    assert body["publicationYear"] == "2019"


def test_bad_relation_type_lists_allowed():
    with pytest.raises(ValidationError, match="IsCitedBy"):
        validate_dataset(
            dataset(
                dc={
                    "creators": [{"name": "A"}],
                    "titles": [{"title": "T"}],
                    "relatedIdentifiers": [{"relatedIdentifier": "10.1/x", "relationType": "Likes"}],
                }
            )
        )


@pytest.mark.parametrize("name", ["dataset", "record"])
def test_committed_json_schema_matches_models(name):
    committed = (SCHEMA_DIR / f"{name}.json").read_text()
    assert committed == render(json_schemas()[name]), "run `make schemas` and commit the result"


def test_publication_year_may_be_given_as_an_int():
    out = validate_dataset(
        dataset(dc={"creators": [{"name": "A"}], "titles": [{"title": "T"}], "publicationYear": 2019})
    )
    assert out["dc"]["publicationYear"] == "2019"
    with pytest.raises(ValidationError, match="four-digit year"):
        validate_dataset(
            dataset(dc={"creators": [{"name": "A"}], "titles": [{"title": "T"}], "publicationYear": 19})
        )


def test_an_author_that_is_no_creator_is_a_validation_error():
    """It was pydantic's own error, a 500 through the service's upload route."""
    assert creators_from(["Ward, Logan", {"name": "Blaiszik, Ben", "affiliation": "UChicago"}], ["ANL"])
    with pytest.raises(ValidationError, match=r"authors\.1\.name: Field required") as info:
        creators_from(["Ward, Logan", {"x": 1}])
    assert {e["field"] for e in info.value.errors} == {"authors.1.name", "authors.1.x"}
