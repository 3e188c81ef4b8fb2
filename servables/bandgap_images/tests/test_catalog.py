"""catalogs/stein_optical.yaml names the real Stein et al. dataset's public home."""

from __future__ import annotations

import pytest
import yaml

from hub.catalog import RemoteDataError, catalogs_dir, public_catalog

PATH = catalogs_dir() / "stein_optical.yaml"


def test_the_catalog_names_the_caltechdata_record_and_the_paper():
    doc = yaml.safe_load(PATH.read_text())
    assert doc["version"] == 2
    meta = doc["metadata"]
    assert meta["home"] == "https://data.caltech.edu/records/1103"
    assert meta["doi"] == "10.22002/D1.1103" and meta["paper_doi"] == "10.1039/C8SC03077D"
    data = doc["data"]["images_and_spectra_data"]
    assert data["kwargs"]["url"].startswith("https://data.caltech.edu/records/1103/")
    assert data["kwargs"]["url"].endswith("/dataset_comp_image_spectra.h5")
    assert data["metadata"]["mirror"] == "stein_optical/dataset_comp_image_spectra.h5"
    assert "servables/bandgap_images" in meta["stand_in"]


def test_offline_the_entry_fails_clearly_naming_where_a_copy_belongs(monkeypatch, tmp_path):
    monkeypatch.setenv("MATTERHUB_OFFLINE", "1")
    monkeypatch.setenv("MATTERHUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MATTERHUB_MIRROR", raising=False)
    entry = public_catalog("stein_optical")["images_and_spectra"]
    assert entry.output_instance == "xarray:DataTree"
    assert entry.metadata["n_samples"] == 180902 and entry.metadata["mirrored"] is False
    with pytest.raises(
        RemoteDataError, match=r"\$MATTERHUB_MIRROR/stein_optical/dataset_comp_image_spectra\.h5"
    ):
        entry.read()


def test_a_mirror_copy_is_read_lazily_as_a_tree(monkeypatch, tmp_path):
    """A file laid out like the real one (its dataset names) opens from the mirror."""
    h5py = pytest.importorskip("h5py")
    import numpy as np

    copy = tmp_path / "stein_optical" / "dataset_comp_image_spectra.h5"
    copy.parent.mkdir()
    with h5py.File(copy, "w") as f:
        f["images"] = np.zeros((3, 8, 8, 3), dtype="float32")
        f["spectra"] = np.zeros((3, 220), dtype="float32")
        f["energy_eV"] = np.linspace(1.32, 3.2, 220)
        f["atfrac"] = np.zeros((4, 3))
    monkeypatch.setenv("MATTERHUB_MIRROR", str(tmp_path))
    monkeypatch.setenv("MATTERHUB_CACHE", str(tmp_path / "cache"))
    tree = public_catalog("stein_optical")["images_and_spectra"].read()
    ds = tree.to_dataset()
    assert ds["spectra"].shape == (3, 220) and float(ds["energy_eV"][0]) == pytest.approx(1.32)
