"""The stand-in dataset: real Materials Project compounds, files on disk, one hub record per image."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from servables.bandgap_images import standin_data


@pytest.fixture(scope="module")
def compounds(shared_data: Path):
    return standin_data.load_compounds(shared_data / "matminer" / "dielectric_constant.csv")


def test_compounds_and_band_gaps_are_the_materials_project_values(compounds):
    assert len(compounds) == 1056
    row = compounds.set_index("material_id").loc["mp-441"]
    assert row["formula"] == "Rb2Te" and row["band_gap"] == pytest.approx(1.88)
    assert row["refractive_index"] == pytest.approx(1.86)


def test_the_plan_uses_every_compound_before_repeating_one(compounds):
    plan = standin_data.plan_samples(compounds, 1100, seed=1)
    first = plan.iloc[: len(compounds)]
    assert first["material_id"].is_unique
    assert plan["material_id"].value_counts().max() == 2
    assert set(plan["transition"]) == {"direct", "indirect"}
    assert plan["thickness_nm"].between(*standin_data.THICKNESS_NM).all()
    again = standin_data.plan_samples(compounds, 1100, seed=1)
    assert plan.equals(again)
    with pytest.raises(ValueError, match="n_images must be at least 1, got 0"):
        standin_data.plan_samples(compounds, 0)


def test_write_and_read_back(compounds, tmp_path):
    standin = standin_data.generate(compounds, 12, size=16, seed=2)
    folder = standin_data.write_standin(standin, tmp_path / "standin")
    objects = json.loads((folder / "records.json").read_text())
    assert len(objects) == 12
    first = objects[0]
    assert first["stand_in"] is True and "not measured" in first["origin"]
    assert first["band_gap"] == standin.band_gaps[0]
    assert (folder / first["image_file"]).is_file() and (folder / first["spectrum_file"]).is_file()
    assert first["image"]["shape"] == [16, 16, 3] and first["image"]["format"] == "PNG"
    header = (folder / first["spectrum_file"]).read_text().splitlines()[0]
    assert header.startswith("# STAND-IN") and first["formula"] in header
    assert "NOT MEASURED" in (folder / "README.txt").read_text()
    back = standin_data.read_standin(folder)
    np.testing.assert_array_equal(back.images, standin.images)  # PNG is lossless
    np.testing.assert_allclose(back.absorbance, standin.absorbance, atol=1e-5)
    np.testing.assert_allclose(back.energy_ev, standin.energy_ev, atol=1e-4)


def test_published_as_one_record_per_image(compounds, tmp_path, example_hub):
    standin = standin_data.generate(compounds, 30, size=16, seed=4)
    folder = standin_data.write_standin(standin, tmp_path / "standin")
    sub = example_hub.submit(  # type: ignore[attr-defined]
        folder,
        title="stand-in test",
        authors=[{"name": "MatterHub developers", "nameType": "Organizational"}],
        source_name="bandgap_images_standin_test",
        mapping=standin_data.RECORD_MAPPING,
        extractors=["mapping"],
    )
    assert sub.status == "complete" and sub.errors == []
    records = example_hub.dataset(sub.source_id).records()  # type: ignore[attr-defined]
    assert len(records) == 30
    by_file = {r["custom"]["image_file"]: r for r in records}
    row = standin.table.iloc[5]
    record = by_file[f"images/{row['sample_id']}.png"]
    assert record["material"]["composition"] == row["formula"]
    assert record["material"]["elements"]  # derived from the formula
    assert record["custom"]["band_gap"] == pytest.approx(row["band_gap"])
    assert record["custom"]["spectrum_file"] == f"spectra/{row['sample_id']}.txt"
    assert record["custom"]["stand_in"] is True
    assert record["image"]["width"] == 16 and record["image"]["mode"] == "RGB"
    files = {f["path"] for f in example_hub.dataset(sub.source_id).files()}  # type: ignore[attr-defined]
    assert {
        "records.json",
        "README.txt",
        record["custom"]["image_file"],
        record["custom"]["spectrum_file"],
    } <= files
    visible = int(((standin.band_gaps >= 2.0) & (standin.band_gaps <= 3.0)).sum())
    hits = example_hub.search(  # type: ignore[attr-defined]
        "mdf.source_name:bandgap_images_standin_test AND custom.stand_in:true AND custom.band_gap:[2.0 TO 3.0]"
    )
    assert hits.total == visible > 0
