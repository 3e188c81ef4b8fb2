"""Synthetic array data for the catalog tests and the benchmark (fixed seed)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: (time, y, x) float32 for two variables: 2 x 100 x 256 x 512 x 4 B = 105 MB.
SHAPE = (100, 256, 512)
CHUNKS = (1, 256, 512)


def synthetic_dataset() -> Any:
    import xarray as xr

    rng = np.random.default_rng(20240601)
    field = rng.random(SHAPE, dtype=np.float32)
    return xr.Dataset(
        {
            "temperature": (("time", "y", "x"), field, {"units": "K"}),
            "density": (("time", "y", "x"), field * 2.0, {"units": "g/cm^3"}),
        },
        coords={
            "time": ("time", np.arange(SHAPE[0], dtype="int64"), {"units": "ps"}),
            "y": ("y", np.arange(SHAPE[1]) * 0.5, {"units": "nm"}),
            "x": ("x", np.arange(SHAPE[2]) * 0.5, {"units": "nm"}),
        },
        attrs={"title": "synthetic field, fixed seed"},
    )
