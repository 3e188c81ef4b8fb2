"""Tests of hub/formats/arrays.py: which NetCDF a file is, from its first bytes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import xarray as xr

from hub.formats.arrays import netcdf_engine, read_signature


def test_the_engine_of_each_netcdf(tmp_path: Path) -> None:
    ds = xr.Dataset({"t": ("x", np.arange(3.0))})
    ds.to_netcdf(tmp_path / "four.nc", engine="h5netcdf")
    ds.to_netcdf(tmp_path / "classic.nc", engine="scipy")
    (tmp_path / "text.nc").write_text("not netcdf")
    assert netcdf_engine(read_signature(tmp_path / "four.nc")) == "h5netcdf"
    assert netcdf_engine(read_signature(str(tmp_path / "classic.nc"))) == "scipy"
    assert netcdf_engine(read_signature(tmp_path / "text.nc")) is None


def test_a_file_object_keeps_its_position() -> None:
    fh = io.BytesIO(b"CDF\x02" + b"\x00" * 12)
    fh.seek(2)
    assert read_signature(fh) == b"F\x02" + b"\x00" * 6
    assert fh.tell() == 2
