"""Plain images to xarray through Pillow: PNG, JPEG, TIFF, GIF, BMP, WebP.

Opening reads the header only (size, mode, resolution, via
:func:`hub.formats.images.describe_image`); the pixels are a one-chunk dask
array decoded on first use.  Axes are ``y`` and ``x`` in the physical unit the
file states (inches or centimetres per its resolution tags), else in pixels;
colour images get a ``band`` dimension (``R``, ``G``, ``B``, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intake.readers import datatypes

from hub.catalog.base import HubReader, axes_coords
from hub.catalog.datatypes import PillowImage


def _pixels(path: str, frame: int) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        if frame:
            image.seek(frame)
        return np.asarray(image)


def image_to_dataarray(path: Path, frame: int = 0, name: str | None = None) -> Any:
    """An image file as a lazily decoded :class:`xarray.DataArray` with physical axes."""
    import dask.array as da
    import numpy as np
    import xarray as xr
    from PIL import Image

    from hub.formats.images import describe_image

    block = describe_image(path)
    with Image.open(path) as image:
        bands = list(image.getbands())
        mode = image.mode
        dtype: np.dtype[Any]
        if mode == "1":
            dtype = np.dtype(bool)
        elif mode in ("I;16", "I;16L", "I;16B", "I;16N"):
            dtype = np.dtype("uint16")
        else:
            dtype = np.asarray(image.crop((0, 0, 1, 1))).dtype
    shape = tuple(block["shape"])
    from dask.delayed import delayed

    pixels = da.from_delayed(delayed(_pixels)(str(path), frame), shape=shape, dtype=dtype)  # type: ignore[no-untyped-call]
    axes = list(block["axes"])
    if len(shape) == 3:
        axes.append({"name": "band", "size": shape[2]})
    dims, coords = axes_coords(axes)
    if len(shape) == 3:
        coords["band"] = bands
    attrs = {k: block[k] for k in ("mode", "format", "n_frames") if k in block}
    return xr.DataArray(pixels, dims=dims, coords=coords, name=name or path.stem, attrs=attrs)


class ImageReader(HubReader):
    """An image file as a lazily decoded :class:`xarray.DataArray` (Pillow).

    Parameters of ``read``
    ----------------------
    frame
        The frame of an animation or multi-page file (default 0).
    """

    implements = {datatypes.PNG, datatypes.JPEG, datatypes.TIFF, PillowImage}
    imports = {"matterhub", "pillow", "xarray", "dask"}
    output_instance = "xarray:DataArray"
    func = "PIL.Image:open"

    def _read(self, data: datatypes.FileData, frame: int = 0, **kwargs: Any) -> Any:
        out = image_to_dataarray(self._local(data), frame=frame, **kwargs)
        out.attrs["source"] = self._url(data)
        return out
