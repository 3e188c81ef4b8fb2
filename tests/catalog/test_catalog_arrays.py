"""Laziness of the array readers, measured in bytes read through fsspec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from catalog_testdata import CHUNKS, SHAPE
from intake.readers import datatypes

from hub.catalog import ArrayReader, ArrayTreeReader, NumpyArrayReader

MB = 1 << 20


def _size(path: Path) -> int:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )


@pytest.mark.parametrize("kind", ["netcdf", "zarr"])
def test_open_reads_metadata_only_and_a_slice_reads_its_bytes(kind, big_netcdf, big_zarr, counting):
    path = big_netcdf if kind == "netcdf" else big_zarr
    total = _size(path)
    assert total > 100 * 10**6
    data = (datatypes.HDF5 if kind == "netcdf" else datatypes.Zarr)(url=f"counting://{path}")

    ds = ArrayReader(data).read()
    opened = counting.bytes_read
    assert opened < MB, f"opening read {opened} bytes"
    assert ds["temperature"].chunks is not None
    assert ds["temperature"].data.chunksize == CHUNKS
    assert ds["temperature"].attrs["units"] == "K"

    counting.bytes_read = 0
    one_percent = ds["temperature"].isel(time=slice(0, SHAPE[0] // 100)).values
    assert counting.bytes_read <= 0.02 * total, f"a 1% slice read {counting.bytes_read} of {total} bytes"
    assert counting.bytes_read >= one_percent.nbytes / 2  # it did read the slice through fsspec
    expected = xr.open_dataset(path, engine="h5netcdf" if kind == "netcdf" else "zarr")
    np.testing.assert_array_equal(one_percent, expected["temperature"].isel(time=slice(0, 1)).values)
    expected.close()
    ds.close()


def test_local_files_are_opened_by_path_and_give_the_same_values(big_netcdf):
    ds = ArrayReader(datatypes.HDF5(url=str(big_netcdf))).read(chunks={"time": 10})
    assert ds["density"].data.chunksize[0] == 10
    assert float(ds["density"].isel(time=3, y=4, x=5)) == pytest.approx(2 * float(ds["temperature"][3, 4, 5]))
    assert ds["x"].attrs["units"] == "nm"
    ds.close()


def test_classic_netcdf_is_read_with_scipy(tmp_path):
    path = tmp_path / "classic.nc"
    xr.Dataset({"v": ("n", np.arange(4.0))}).to_netcdf(path, engine="scipy")
    ds = ArrayReader(datatypes.NetCDF3(url=str(path))).read()
    assert ds["v"].values.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_hdf5_without_dimension_scales_as_a_tree(tmp_path):
    import h5py

    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.create_dataset("layer/kernel", data=np.ones((3, 2), dtype="float32"))
    tree = ArrayTreeReader(datatypes.HDF5(url=str(path))).read()
    assert tree.attrs["backend"] == "tensorflow"
    assert tree["layer"]["kernel"].shape == (3, 2)


def test_npy_is_memory_mapped_lazily(tmp_path):
    path = tmp_path / "volume.npy"
    np.save(path, np.arange(27.0).reshape(3, 3, 3))
    arr = NumpyArrayReader(datatypes.NumpyFile(url=str(path))).read()
    assert arr.dims == ("dim_0", "dim_1", "dim_2")
    assert hasattr(arr.data, "dask")
    assert float(arr[2, 2, 2]) == 26.0
