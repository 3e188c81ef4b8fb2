"""PublishPanel over a real hub: the form becomes the right ``hub.submit`` call, the progress
bar follows the Connect steps as the hub saves them, per-file errors are listed, uploads and
column mappings work, and bad forms are refused before anything is submitted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hub.widgets import PublishPanel
from hub.widgets.datacite_form import FormError, parse_dois
from hub.widgets.mapping_editor import table_columns
from hub.widgets.uploads import safe_name, write_uploads

from hub import Hub


def upload_value(*paths: Path) -> tuple[dict[str, Any], ...]:
    """What a browser's file chooser puts in a FileUpload widget."""
    return tuple(
        {
            "name": p.name,
            "type": "",
            "size": p.stat().st_size,
            "content": memoryview(p.read_bytes()),
            "last_modified": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        }
        for p in paths
    )


def fill(panel: PublishPanel, title: str, author: str = "Ward, Logan", affiliation: str = "") -> None:
    panel.form.title.value = title
    row = panel.form.authors.children[0]
    row.name.value = author
    row.affiliation.value = affiliation


def test_publish_a_folder_with_the_datacite_form(fresh_hub: Hub, shared_data: Path) -> None:
    panel = PublishPanel(fresh_hub, dataset_link="search.ipynb?q={query}")
    panel.path.value = str(shared_data / "materialsio" / "crystal_structure")
    fill(
        panel, "Four crystal structures", "Ward, Logan", "Argonne National Laboratory; University of Chicago"
    )
    panel.form.add_author("Blaiszik, Ben", "Argonne National Laboratory")
    panel.form.description.value = "CIFs from MaterialsIO's tests."
    panel.form.license.value = "CC-BY-4.0"
    panel.form.related.value = "https://doi.org/10.1557/mrc.2019.107\ndoi:10.1038/sdata.2016.134"
    panel.visibility.value = ["public"]
    panel.submit_button.click()

    sub = panel.submission
    assert sub.status == "complete" and panel.status.kind == "ok", panel.status.text
    ds = fresh_hub.dataset(sub.source_id)
    assert ds.n_records == 4 and ds.n_files == 4
    dc = ds.metadata["dc"]
    assert [c["name"] for c in dc["creators"]] == ["Ward, Logan", "Blaiszik, Ben"]
    assert dc["creators"][0]["affiliation"] == ["Argonne National Laboratory", "University of Chicago"]
    assert dc["rightsList"][0]["rights"] == "CC-BY-4.0"
    assert [r["relatedIdentifier"] for r in dc["relatedIdentifiers"]] == [
        "10.1557/mrc.2019.107",
        "10.1038/sdata.2016.134",
    ]
    assert dc["descriptions"][0]["description"] == "CIFs from MaterialsIO's tests."
    # the bar followed every step, in order, as the hub saved it
    running = [step for status, step in panel.progress.seen if step]
    assert running == ["collect", "extract", "merge", "validate", "curate", "dispatch"]
    assert panel.progress.seen[-1] == ("complete", None)
    assert panel.progress.bar.value == 6 and panel.progress.bar.bar_style == "success"
    assert "mdf.source_id%3A%22four_crystal_structures_v1%22" in panel.link.value
    assert fresh_hub.search('mdf.source_id:"four_crystal_structures_v1"', kinds=["record"]).total == 4
    assert panel.errors.value == ""


def test_per_file_errors_are_listed_and_the_rest_published(fresh_hub: Hub, shared_data: Path) -> None:
    panel = PublishPanel(fresh_hub)
    panel.path.value = str(shared_data / "ase" / "vasp")
    fill(panel, "ASE VASP examples", "Larsen, Ask Hjorth")
    panel.publish()
    sub = panel.submission
    assert sub.status == "complete" and [e["path"] for e in sub.errors] == ["POSCAR_example_1"]
    assert "POSCAR_example_1" in panel.errors.value and "species" in panel.errors.value
    assert "1 file could not be read" in panel.errors.value
    assert f"hub.dataset({sub.source_id!r})" in panel.link.value  # no dashboard link: the Python line


def test_uploaded_table_with_a_column_mapping(fresh_hub: Hub, shared_data: Path) -> None:
    csv = shared_data / "matminer" / "dielectric_constant.csv"
    panel = PublishPanel(fresh_hub)
    panel.upload.value = upload_value(csv)
    assert "dielectric_constant.csv" in panel.chosen.value
    assert {"formula", "band_gap", "material_id"} <= set(
        panel.mapping.columns
    )  # the header, not the # ref: line
    panel.mapping.enabled.value = True
    row = panel.mapping.rows.children[0]
    row.target.value, row.column.value = "material.composition", "formula"
    row = panel.mapping.add_row("custom.band_gap", "band_gap")
    assert panel.mapping.mapping() == {"material.composition": "formula", "custom.band_gap": "band_gap"}
    fill(panel, "Dielectric constants", "Petousis, Ioannis")
    panel.publish()
    sub = panel.submission
    assert sub.status == "complete", panel.status.text
    assert fresh_hub.dataset(sub.source_id).n_records == 1056
    gaps = fresh_hub.search("custom.band_gap:>8", kinds=["record"], limit=0).total
    assert gaps > 0
    assert not Path(sub.source).exists()  # the temporary upload folder is gone


def test_uploaded_files_become_one_dataset(fresh_hub: Hub, shared_data: Path) -> None:
    cifs = sorted((shared_data / "ase" / "minerals").glob("*.cif"))[:3]
    panel = PublishPanel(fresh_hub)
    panel.upload.value = upload_value(*cifs)
    fill(panel, "Three minerals")
    panel.publish()
    ds = fresh_hub.dataset(panel.submission.source_id)
    assert sorted(f["path"] for f in ds.files()) == sorted(p.name for p in cifs)


def test_bad_forms_are_refused_before_submitting(fresh_hub: Hub, shared_data: Path) -> None:
    panel = PublishPanel(fresh_hub)
    panel.publish()
    assert panel.status.kind == "error" and "title" in panel.status.text
    panel.form.title.value = "Something"
    panel.publish()
    assert "author" in panel.status.text
    fill(panel, "Something")
    panel.publish()
    assert "nothing to publish" in panel.status.text
    panel.path.value = str(shared_data / "materialsio" / "yaml")
    panel.upload.value = upload_value(shared_data / "materialsio" / "json" / "test_json.json")
    panel.publish()
    assert "not both" in panel.status.text
    panel.upload.value = ()
    panel.form.related.value = "not-a-doi"
    panel.publish()
    assert "not a DOI" in panel.status.text
    assert fresh_hub.submissions() == []  # nothing reached the hub
    assert not panel.submit_button.disabled


def test_the_hub_refusing_metadata_is_shown(fresh_hub: Hub, shared_data: Path) -> None:
    panel = PublishPanel(fresh_hub)
    panel.path.value = str(shared_data / "materialsio" / "yaml")
    fill(panel, "Bad name")
    panel.form.source_name.value = "Not Allowed!"
    panel.publish()
    assert panel.status.kind == "error" and "source_name" in panel.status.text
    assert panel.submission is None


def test_form_helpers() -> None:
    assert parse_dois("10.1000/x, doi:10.1234/y https://dx.doi.org/10.5555/z") == [
        "10.1000/x",
        "10.1234/y",
        "10.5555/z",
    ]
    with pytest.raises(FormError, match="not a DOI"):
        parse_dois("11.1/x")
    assert table_columns("t.csv", b"# ref: x\na,b, c\n1,2,3\n") == ["a", "b", "c"]
    assert table_columns("t.tsv", b"a\tb\n") == ["a", "b"]
    assert table_columns("t.json", b"{}") == []
    assert safe_name("../../etc/passwd") == "passwd" and safe_name("C:\\x\\y.cif") == "y.cif"
    with pytest.raises(ValueError):
        safe_name("..")


def test_uploads_never_overwrite(tmp_path: Path) -> None:
    folder = write_uploads(
        [{"name": "a.cif", "content": b"1"}, {"name": "sub/a.cif", "content": b"2"}], tmp_path / "up"
    )
    assert sorted(p.name for p in folder.iterdir()) == ["a (2).cif", "a.cif"]
    assert (folder / "a (2).cif").read_bytes() == b"2"
