"""The catalogs of real public datasets in ``catalogs/``: every entry reads from the mirror."""

from __future__ import annotations

from pathlib import Path

import intake
import pandas as pd
import pytest
import xarray as xr
import yaml

from hub.catalog import RemoteDataError, catalogs_dir, public_catalog

CATALOGS = sorted(p for p in catalogs_dir().glob("*.yaml") if p.stem != "index")
ENTRIES = [(p.stem, name) for p in CATALOGS for name in yaml.safe_load(p.read_text())["aliases"]]
NETWORK_PROTOCOLS = ("https://", "http://", "s3://")


def test_the_index_lists_every_catalog():
    index = public_catalog()
    assert sorted(index) == sorted(p.stem for p in CATALOGS)
    assert isinstance(index["matminer"].read(), intake.entry.Catalog)


@pytest.mark.parametrize("path", CATALOGS, ids=[p.stem for p in CATALOGS])
def test_entries_name_pinned_public_urls_and_mirror_paths(path: Path):
    doc = yaml.safe_load(path.read_text())
    assert doc["version"] == 2
    for key, data in doc["data"].items():
        url = (data["kwargs"] or {}).get("url")
        if url is None or str(url).startswith("pkg://"):
            continue  # a pip package's data
        urls = url if isinstance(url, list) else [url]
        for u in urls:
            assert any(p in u for p in NETWORK_PROTOCOLS), f"{key}: {u} is not a public URL"
            assert "/main/" not in u and "/master/" not in u, f"{key}: pin a tag or commit, not a branch"
        assert data["metadata"].get("mirror"), f"{key} names no mirror path"


@pytest.mark.parametrize(("catalog", "name"), ENTRIES)
def test_every_entry_reads_from_the_mirror(catalog: str, name: str, mirror: Path):
    reader = public_catalog(catalog)[name]
    if reader.metadata.get("mirrored") is False:
        pytest.skip(f"{catalog}/{name} is not in the CI mirror; it reads from its public home")
    out = reader.read()
    if reader.output_instance == "pandas:DataFrame":
        assert isinstance(out, pd.DataFrame) and len(out) > 0
    elif reader.output_instance == "xarray:DataArray":
        assert isinstance(out, xr.DataArray) and out.size > 0
        assert out.isel({d: 0 for d in out.dims}).values is not None  # pixels decode
    elif reader.output_instance == "xarray:DataTree":
        assert isinstance(out, xr.DataTree) and len(list(out.subtree)) > 1
    n_rows = reader.metadata.get("n_rows")
    if n_rows:
        assert len(out) == n_rows


def test_without_mirror_a_public_entry_fails_clearly():
    with pytest.raises(RemoteDataError, match=r"matminer/dielectric_constant.csv"):
        public_catalog("matminer")["dielectric_constant"].read()


def test_pip_shipped_entries_need_no_mirror():
    g2 = public_catalog("ase")["g2_1"].read()
    assert len(g2) == 55
    ch4 = g2.loc["CH4"]
    assert ch4["formula"] == "CH4"
    assert ch4["atomization_energy_kcal_mol"] == pytest.approx(420.18, abs=0.01)
    assert ch4["atomization_energy"] == pytest.approx(18.22, abs=0.01)  # eV
    atoms = g2.atoms["CH4"]
    assert atoms.get_chemical_formula() == "CH4" and not atoms.pbc.any()
    minerals = public_catalog("ase")["minerals"].read()
    assert len(minerals) == 8 and minerals["space_group"].notna().all()


def test_matminer_reference_line_and_values(mirror):
    df = public_catalog("matminer")["dielectric_constant"].read()
    assert "Petousis" in df.attrs["reference"]
    assert {"material_id", "formula", "band_gap", "poly_total"} <= set(df.columns)
    assert df["band_gap"].between(0, 20).all()


def test_g4mp2_molecules_carry_their_energies(mirror):
    df = public_catalog("g4mp2")["molecules"].read()
    assert len(df) == 102
    ethanol = df[df["path"] == "alcohol-ethanol.xyz"].iloc[0]
    assert ethanol["formula"] == "C2H6O"
    assert ethanol["total_energy"] == pytest.approx(-154.814467 * 27.211386, rel=1e-6)  # Ha -> eV
    assert ethanol["energy_method"] == "G4MP2" and ethanol["method"] == "B3LYP"
    assert "solvation_energies.Water" in df.columns
    atoms = df.atoms[ethanol.name]
    assert len(atoms) == 9


def test_microscopy_entries_have_physical_axes(mirror):
    stem = public_catalog("rosettasciio")["stem_image"].read()
    assert stem.dims == ("y", "x")
    assert stem["x"].attrs["units"] == "nm"
    assert float(stem["x"][1] - stem["x"][0]) == pytest.approx(0.2485, rel=1e-3)
    assert stem.attrs["beam_energy"] == pytest.approx(200.0)
    eels = public_catalog("rosettasciio")["eels_spectrum"].read()
    assert eels.dims == ("energy_loss",) and eels["energy_loss"].attrs["units"] == "eV"
    assert eels["energy_loss"].attrs["long_name"] == "Energy loss"


def test_yaml_round_trip(tmp_path, mirror):
    cat = public_catalog("materialsio")
    out = tmp_path / "copy.yaml"
    cat.to_yaml_file(str(out))
    again = intake.from_yaml_file(str(out))
    assert sorted(again) == sorted(cat)
    assert (
        again["crystal_structures"].read()["formula"].tolist()
        == cat["crystal_structures"].read()["formula"].tolist()
    )
