"""Tests of hub/extractors/arrays.py: NetCDF, HDF5, Zarr and npy, metadata only."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import xarray as xr

from hub.exceptions import ExtractionError
from hub.extractors import arrays
from hub.extractors.arrays import ArrayExtractor
from hub.extractors.base import ExtractionContext
from hub.records.record import BLOCKS


def extract(path: Path) -> dict[str, Any]:
    out = ArrayExtractor().extract((path,), ExtractionContext(root=path.parent))
    json.dumps(out, allow_nan=False)
    assert isinstance(out, dict)
    for block, value in out.items():  # fits the record schema
        BLOCKS[block].model_validate(value)
    return out["arrays"]


def by_name(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in block["variables"]}


def sample_dataset() -> xr.Dataset:
    return xr.Dataset(
        {"temperature": (("time", "x"), np.zeros((3, 4), "float32"), {"units": "K"})},
        coords={"x": ("x", np.arange(4), {"units": "nm"}), "time": [0.0, 1.0, 2.0]},
        attrs={
            "title": "a test",
            "n_runs": 3,
            "missing": np.nan,  # dropped: not plain JSON
            "vector": [1, 2],  # dropped: not a scalar
            "long": "x" * 1000,  # cut to 500 characters
        },
    )


def check_sample(block: dict[str, Any]) -> None:
    variables = by_name(block)
    assert variables["temperature"]["dims"] == ["time", "x"]
    assert variables["temperature"]["shape"] == [3, 4]
    assert variables["temperature"]["dtype"] == "float32"
    assert variables["temperature"]["units"] == "K"
    assert variables["x"]["units"] == "nm"
    assert block["dims"] == {"time": 3, "x": 4}
    attrs = block["attrs"]
    assert attrs["title"] == "a test" and attrs["n_runs"] == 3
    assert "missing" not in attrs and "vector" not in attrs
    assert len(attrs["long"]) == 500


def test_netcdf4(tmp_path: Path) -> None:
    path = tmp_path / "a.nc"
    sample_dataset().to_netcdf(path, engine="h5netcdf")
    block = extract(path)
    assert block["format"] == "netcdf"
    check_sample(block)


def test_netcdf3_classic(tmp_path: Path) -> None:
    pytest.importorskip("scipy")
    path = tmp_path / "classic.nc"
    sample_dataset().to_netcdf(path, engine="scipy")
    check_sample(extract(path))


def test_netcdf4_with_a_group(tmp_path: Path) -> None:
    path = tmp_path / "groups.nc"
    sample_dataset().to_netcdf(path, engine="h5netcdf")
    xr.Dataset({"counts": ("channel", np.arange(5))}).to_netcdf(
        path, mode="a", group="detector", engine="h5netcdf"
    )
    block = extract(path)
    assert by_name(block)["detector/counts"]["dims"] == ["detector/channel"]
    assert block["n_groups"] == 1


def test_hdf5_written_by_xarray_is_read_as_netcdf(tmp_path: Path) -> None:
    path = tmp_path / "a.h5"
    sample_dataset().to_netcdf(path, engine="h5netcdf")
    check_sample(extract(path))


def test_generic_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "raw.hdf5"
    with h5py.File(path, "w") as f:
        f.attrs["instrument"] = b"beamline 34-ID"
        f.attrs["energy"] = np.float64(9.0)
        scan = f.create_group("scan")
        scan.create_dataset("frames", data=np.zeros((2, 5, 6), "uint16")).attrs["units"] = b"counts"
        scan.create_dataset("labels", data=np.array([b"a", b"b"], dtype=h5py.string_dtype()))
        axis = f.create_dataset("angle", data=np.linspace(0, 1, 2))
        axis.make_scale("angle")
        scan["frames"].dims[0].attach_scale(axis)
    block = extract(path)
    assert block["format"] == "hdf5"
    variables = by_name(block)
    assert variables["scan/frames"]["shape"] == [2, 5, 6]
    assert variables["scan/frames"]["units"] == "counts"
    assert variables["scan/frames"]["dims"] == []  # only the first axis has a scale
    assert variables["scan/labels"]["dtype"] == "str"
    assert variables["angle"]["dims"] == ["angle"]
    assert block["attrs"] == {"instrument": "beamline 34-ID", "energy": 9.0}
    assert (block["n_groups"], block["n_datasets"]) == (1, 3)


def test_hdf5_walk_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arrays, "MAX_VARIABLES", 3)
    path = tmp_path / "many.h5"
    with h5py.File(path, "w") as f:
        for i in range(10):
            f.create_dataset(f"d{i}", data=np.zeros(2))
    block = extract(path)
    assert block["truncated"] is True and block["n_variables"] == 3


def test_npy_header_only(tmp_path: Path) -> None:
    path = tmp_path / "volume.npy"
    np.save(path, np.zeros((4, 5, 6), "complex64"))
    block = extract(path)
    assert block["variables"] == [{"name": "volume", "dims": [], "shape": [4, 5, 6], "dtype": "complex64"}]
    assert block["npy_version"] == "1.0"


def test_npy_version_3(tmp_path: Path) -> None:
    path = tmp_path / "v3.npy"
    with open(path, "wb") as fh:
        np.lib.format.write_array(fh, np.zeros((2, 3)), version=(3, 0))
    assert extract(path)["variables"][0]["shape"] == [2, 3]


@pytest.mark.parametrize("zarr_format, root_file", [(3, "zarr.json"), (2, ".zmetadata")])
def test_zarr_directory_is_described_once(tmp_path: Path, zarr_format: int, root_file: str) -> None:
    pytest.importorskip("zarr")
    store = tmp_path / "data.zarr"
    sample_dataset().to_zarr(store, zarr_format=zarr_format, consolidated=zarr_format == 2)
    extractor = ArrayExtractor()
    claimed = [p for p in store.rglob("*") if p.is_file() and extractor.claims(p)]
    assert claimed == [store / root_file]
    block = extract(store / root_file)
    assert block["format"] == "zarr" and block["zarr_format"] == zarr_format
    check_sample(block)


def test_zipped_zarr_store(tmp_path: Path) -> None:
    pytest.importorskip("zarr")
    store = tmp_path / "data.zarr"
    sample_dataset().to_zarr(store, zarr_format=3, consolidated=False)
    zipped = tmp_path / "data.zarr.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for member in store.rglob("*"):
            if member.is_file():
                zf.write(member, member.relative_to(store).as_posix())
    assert ArrayExtractor().claims(zipped)
    check_sample(extract(zipped))


def test_claims(tmp_path: Path) -> None:
    extractor = ArrayExtractor()
    for name in ("a.nc", "b.h5", "c.HDF5", "d.npy"):
        assert extractor.claims(tmp_path / name)
    assert not extractor.claims(tmp_path / "e.emd")  # microscopy's
    assert not extractor.claims(tmp_path / "zarr.json")  # not inside a *.zarr directory


def test_wrong_content_is_an_extraction_error(tmp_path: Path) -> None:
    for name in ("fake.h5", "fake.nc", "fake.npy"):
        path = tmp_path / name
        path.write_text("not an array file")
        with pytest.raises(ExtractionError, match=name):
            extract(path)


def test_cdi_nn_npy(shared_data: Path) -> None:
    volume = extract(shared_data / "cdi_nn/ft_downsampled_32.npy")["variables"][0]
    assert (volume["shape"], volume["dtype"]) == ([32, 32, 32], "float32")
    output = extract(shared_data / "cdi_nn/nn_output_32.npy")["variables"][0]
    assert (output["shape"], output["dtype"]) == ([32, 32, 32], "complex64")


@pytest.mark.parametrize("name", ["structure_weights.hdf5", "phase_weights.hdf5"])
def test_keras_weight_file(shared_data: Path, name: str) -> None:
    block = extract(shared_data / "cdi_nn" / name)
    assert block["format"] == "hdf5"
    assert block["attrs"]["keras_version"] == "2.1.3"
    assert block["attrs"]["backend"] == "tensorflow"
    assert block["attrs"]["model_config"].startswith('{"class_name": "Model"')
    assert len(block["attrs"]["model_config"]) == 500
    kernel = by_name(block)["model_weights/conv2d_1/conv2d_1/kernel:0"]
    assert (kernel["shape"], kernel["dtype"]) == ([3, 3, 1, 32], "float32")
