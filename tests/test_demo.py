"""`matterhub demo` builds a hub from data every machine has (and the mirror when present)."""

from __future__ import annotations

from hub import Hub
from hub.demo import build_demo


def test_demo_without_mirror_ingests_ase_data_and_searches(tmp_path):
    hub = Hub(tmp_path / "hub", progress=False)
    lines: list[str] = []
    report = build_demo(hub, data_dir=tmp_path / "no-mirror", echo=lines.append)
    names = {d["source_name"] for d in report["per_dataset"]}
    assert {"ase_g2_molecules", "ase_dcdft_crystals", "element_properties"} <= names
    assert report["records"] >= 162 + 71 + 86
    assert any("no real-data mirror" in line for line in lines)
    by_query = {s["query"]: s["total"] for s in report["searches"]}
    assert by_query["material.elements:Co"] >= 2  # cobalt in the delta-codes crystals and the element table
    again = build_demo(hub, data_dir=tmp_path / "no-mirror", echo=lines.append)
    assert again["records"] == report["records"], "a second run adds nothing"


def test_demo_with_the_real_data_mirror(tmp_path, shared_data):
    hub = Hub(tmp_path / "hub", progress=False)
    report = build_demo(hub, data_dir=shared_data, echo=None)
    names = {d["source_name"] for d in report["per_dataset"]}
    assert {"materialsio_examples", "g4mp2_gdb_sugars", "mp_dielectric_constants"} <= names
    by_query = {s["query"]: s["total"] for s in report["searches"]}
    assert by_query["custom.band_gap:>5"] > 0
    assert by_query["electron_microscopy.beam_energy:>=100"] > 0
    assert report["errors"] == 1  # the POSCAR without a species line


def test_demo_loads_through_intake_and_runs_a_servable(tmp_path):
    hub = Hub(tmp_path / "hub", progress=False)
    try:
        report = build_demo(hub, data_dir=tmp_path / "no-mirror", echo=None)
        assert report["intake"]["element_table"] == [86, 5]
        predictions = report["servable"]["predictions"]
        assert set(predictions) == {"CH4", "H2O", "NH3", "C2H6"}
        # a fitted additive model lands within 15% of experiment for these small molecules
        assert 15 < predictions["CH4"] < 21 and 8 < predictions["H2O"] < 12
    finally:
        hub.close()
