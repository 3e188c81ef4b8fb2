"""Catalogs built from a real hub holding real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import ase
import intake
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hub import Hub
from hub.catalog import catalog_for, dataset_catalog, export_catalog, records_frame, result_catalog, to_atoms

MINERALS = Path(ase.__file__).parent / "test" / "testdata" / "minerals"
TABLE = "formula,band_gap,n\nNaCl,8.5,2\nSi,1.1,2\nGaAs,1.4,2\n"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Hub:
    root = tmp_path_factory.mktemp("catalog-hub")
    h = Hub(root / "hub", progress=False)
    sub = h.submit(MINERALS, title="COD minerals", authors=["Gražulis, Saulius"], source_name="minerals")
    assert sub.status == "complete", sub.errors
    data = root / "measurements"
    data.mkdir()
    (data / "gaps.csv").write_text("# ref: hand-made test table\n" + TABLE)
    t = np.linspace(300.0, 400.0, 6)
    xr.Dataset(
        {"signal": (("temperature", "channel"), np.arange(24.0).reshape(6, 4), {"units": "counts"})},
        coords={"temperature": ("temperature", t, {"units": "K"})},
    ).to_netcdf(data / "scan.nc", engine="h5netcdf")
    xr.Dataset({"cube": (("z", "y", "x"), np.arange(64.0).reshape(4, 4, 4))}).to_zarr(
        data / "cube.zarr", zarr_format=2, consolidated=True, encoding={"cube": {"chunks": (1, 4, 4)}}
    )
    sub = h.submit(data, title="Gap measurements", authors=["Doe, Jane"], source_name="gaps")
    assert sub.status == "complete", sub.errors
    yield h
    h.close()


@pytest.fixture(scope="module")
def microscopy(hub: Hub, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("em")
    for rel in (
        "rosettasciio/digitalmicrograph/2D/test_STEM_image.dm3",
        "rosettasciio/digitalmicrograph/1D/test-EELS_spectrum.dm3",
    ):
        shutil.copy(shared_data / rel, folder)
    sub = hub.submit(folder, title="STEM and EELS", authors=["Doe, Jane"], source_name="em")
    assert sub.status == "complete", sub.errors
    return str(sub.source_id)


def test_one_entry_per_dataset_with_its_metadata(hub):
    cat = catalog_for(hub)
    assert {"minerals_v1", "gaps_v1"} <= set(cat)
    meta = cat["minerals_v1"].metadata
    assert meta["title"] == "COD minerals"
    assert meta["authors"] == ["Gražulis, Saulius"]
    assert meta["source_id"] == "minerals_v1"
    assert meta["size"] == sum(p.stat().st_size for p in MINERALS.iterdir())
    assert {"Co", "As", "S", "Ni", "Si", "O"} <= set(meta["elements"])
    assert meta["n_files"] == 8


def test_a_query_chooses_the_datasets(hub):
    assert list(catalog_for(hub, "material.elements:Co")) == ["minerals_v1"]
    assert list(catalog_for(hub, "table.n_rows:3")) == ["gaps_v1"]
    assert list(catalog_for(hub, "material.elements:Og")) == []


def test_a_dataset_entry_reads_as_its_catalog(hub):
    inner = catalog_for(hub)["gaps_v1"].read()
    assert isinstance(inner, intake.entry.Catalog)
    assert {"gaps.csv", "scan.nc", "tables", "arrays"} <= set(inner)


def test_tables_come_out_as_dataframes(hub):
    cat = dataset_catalog(hub, "gaps_v1")
    df = cat["gaps.csv"].read()
    pd.testing.assert_frame_equal(df, pd.read_csv(pd.io.common.StringIO(TABLE)))
    assert df.attrs["reference"] == "hand-made test table"
    assert len(cat["gaps.csv"].discover()) == 3
    tables = cat["tables"].read()
    assert tables.loc[0, "table.n_rows"] == 3


def test_arrays_come_out_as_lazy_datasets(hub):
    ds = dataset_catalog(hub, "gaps_v1")["scan.nc"].read()
    assert hasattr(ds["signal"].data, "dask")
    assert ds["temperature"].attrs["units"] == "K"
    assert ds["signal"].sel(temperature=360.0).values.tolist() == [12.0, 13.0, 14.0, 15.0]


def test_a_zarr_store_of_many_blobs_opens_as_one_dataset(hub):
    cat = dataset_catalog(hub, "gaps_v1")
    assert "cube.zarr" in cat and not any(n.startswith("cube.zarr/") for n in cat)
    ds = cat["cube.zarr"].read()
    assert ds["cube"].data.chunksize == (1, 4, 4)
    assert ds["cube"].isel(z=2).values.sum() == np.arange(32.0, 48.0).sum()


def test_structures_give_a_frame_and_atoms(hub):
    cat = dataset_catalog(hub, "minerals_v1")
    assert {"structures", "cod_1010930.cif"} <= set(cat)
    df = cat["structures"].read()
    assert len(df) == 8
    row = df.set_index("path").loc["cod_1010930.cif"]
    assert row["formula"] == "NiSb" and row["space_group"] == 194
    assert row["volume"] == pytest.approx(68.41, abs=0.01)
    assert df.attrs["units"]["volume"] == "Å^3"
    atoms = df.atoms[df.index[df["path"] == "cod_1010930.cif"][0]]
    assert atoms.get_chemical_formula() == "Ni2Sb2"
    assert atoms.cell.volume == pytest.approx(row["volume"])
    assert all(len(a) > 0 for a in df.atoms)
    single = cat["cod_1010930.cif"].read()
    assert single.loc[0, "space_group"] == 194


def test_records_frame_and_to_atoms_agree_with_records(hub):
    records = hub.dataset("minerals_v1").records()
    df = records_frame(records)
    for rec, (_, row) in zip(records, df.iterrows()):
        assert to_atoms(rec).get_chemical_formula() == to_atoms(row).get_chemical_formula()


def test_microscopy_files_keep_their_axes_and_units(hub, microscopy):
    from rsciio.digitalmicrograph import file_reader

    cat = dataset_catalog(hub, microscopy)
    stem = cat["test_STEM_image.dm3"].read()
    assert stem.dims == ("y", "x")
    assert stem["x"].attrs["units"] == "nm" and stem["y"].attrs["units"] == "nm"
    assert stem["x"].attrs["scale"] == pytest.approx(0.24853801727294922)
    assert float(stem["x"][0]) == pytest.approx(51.44736957550049)
    assert (
        stem.attrs["beam_energy"] == pytest.approx(200.0)
        and stem.attrs["units_of_attrs"]["beam_energy"] == "keV"
    )
    assert hasattr(stem.data, "dask")
    # the entry reads through the hub's file API (matterhub://<source_id>/<path>), not a blob URL
    source_id, path = stem.attrs["source"].removeprefix("matterhub://").split("/", 1)
    sha = hub.file_info(source_id, path)["sha256"]
    expected = file_reader(str(next(Path(hub._store.root).rglob(sha))))[0]["data"]
    np.testing.assert_array_equal(stem.values, np.asarray(expected))
    eels = cat["test-EELS_spectrum.dm3"].read()
    assert eels.dims == ("energy_loss",) and eels["energy_loss"].attrs["units"] == "eV"
    assert float(eels["energy_loss"][0]) == pytest.approx(-100.0)
    images = cat["images"].read()
    assert set(images["electron_microscopy.beam_energy"].dropna()) == {200.0}


def test_search_results_become_catalogs(hub):
    res = hub.search("material.elements:Co", limit=10)
    cat = result_catalog(res, hub)
    assert "minerals_v1" in cat and "hits" in cat
    hits = cat["hits"].read()
    assert len(hits) == res.total == 2
    assert hits["elements"].map(lambda e: "Co" in e).all()


def test_yaml_round_trip_of_a_hub_catalog(hub, tmp_path):
    cat = dataset_catalog(hub, "gaps_v1")
    cat.to_yaml_file(str(tmp_path / "gaps.yaml"))
    again = intake.from_yaml_file(str(tmp_path / "gaps.yaml"))
    assert sorted(again) == sorted(cat)
    assert again["gaps.csv"].read().equals(cat["gaps.csv"].read())
    assert again["structures" if "structures" in again else "tables"].read() is not None


def test_export_opens_with_plain_intake_without_the_hub(hub, tmp_path):
    dest = tmp_path / "export"
    index = export_catalog(hub, dest)
    script = f"""
import sys, json
sys.modules["hub"] = None  # no MatterHub on this machine: intake's plugin import of it fails quietly
import intake
top = intake.from_yaml_file({str(index)!r})
out = {{"datasets": sorted(top)}}
gaps = top["gaps_v1"].read()
out["readers"] = {{n: type(gaps[n]).__name__ for n in sorted(gaps)}}
out["csv"] = gaps["gaps.csv"].read()["band_gap"].tolist()
out["nc"] = float(gaps["scan.nc"].read()["signal"].sum())
out["zarr"] = float(gaps["cube.zarr"].read()["cube"].sum())
minerals = top["minerals_v1"].read()
out["groups"] = minerals["structures"].read()["formula"].tolist()
print(json.dumps(out))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"minerals_v1", "gaps_v1"} <= set(out["datasets"])
    assert out["readers"]["gaps.csv"] == "PandasCSV"
    assert out["readers"]["scan.nc"] == "XArrayDatasetReader"
    assert out["readers"]["tables"] == "PandasParquet"
    assert out["csv"] == [8.5, 1.1, 1.4]
    assert out["nc"] == float(np.arange(24.0).sum())
    assert out["zarr"] == float(np.arange(64.0).sum())
    assert sorted(out["groups"]) == sorted(records_frame(hub.dataset("minerals_v1").records())["formula"])
    text = (dest / "gaps_v1.yaml").read_text()
    assert hub._store.url_of(hub.dataset("gaps_v1").files()[0]["sha256"]) in text
