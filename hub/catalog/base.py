"""The base class of MatterHub's intake readers and the helpers they share."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from intake.readers.datatypes import BaseData
from intake.readers.readers import BaseReader

from hub.catalog import locate


class HubReader(BaseReader):  # type: ignore[misc]
    """A reader whose data reaches it through :mod:`hub.catalog.locate`.

    Subclasses declare, as every intake reader does, ``implements`` (the
    datatypes), ``imports`` (distributions needed), ``output_instance`` and
    ``func`` (the library call doing the work, for ``reader.doc()``), and
    implement ``_read(data, **kwargs)``.
    """

    imports: set[str] = {"matterhub"}

    # -- what the data's metadata says -------------------------------------------

    @staticmethod
    def _mirror(data: BaseData) -> str | Mapping[str, str] | None:
        mirror: str | Mapping[str, str] | None = data.metadata.get("mirror")
        return mirror

    @staticmethod
    def _sha256(data: BaseData) -> str | None:
        sha256: str | None = data.metadata.get("sha256")
        return sha256

    @staticmethod
    def _filename(data: BaseData, url: str) -> str:
        """The name whose suffix tells the format: metadata ``filename`` or the URL's last part."""
        return str(data.metadata.get("filename") or locate.basename(url))

    @staticmethod
    def _url(data: BaseData) -> str:
        url = data.url
        if isinstance(url, (list, tuple)):
            if len(url) != 1:
                raise ValueError(f"this reader reads one file, but the data names {len(url)} URLs")
            url = url[0]
        return str(url)

    def _local(self, data: BaseData) -> Path:
        """The data's one file as a local file named like the original (download if needed)."""
        url = self._url(data)
        path = locate.local_file(
            url,
            storage_options=getattr(data, "storage_options", None),
            mirror=self._mirror(data),
            sha256=self._sha256(data),
        )
        return locate.named(path, self._filename(data, url))


# -- axes to coordinates ------------------------------------------------------------


def dim_name(name: Any, index: int, taken: set[str]) -> str:
    """A dimension name from an axis name: lowercase words joined by ``_``, unique."""
    text = re.sub(r"\W+", "_", str(name or "").strip()).strip("_").lower() or f"axis{index}"
    out, n = text, 2
    while out in taken:
        out, n = f"{text}_{n}", n + 1
    taken.add(out)
    return out


def axes_coords(axes: Sequence[Mapping[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """Dimension names and coordinates (``offset + scale * i``, with ``units``) of calibrated axes.

    Parameters
    ----------
    axes
        One mapping per array dimension, in array order, with ``name``, ``size``
        and optionally ``scale``, ``offset``, ``units``.
    """
    import numpy as np
    import xarray as xr

    dims: list[str] = []
    coords: dict[str, Any] = {}
    taken: set[str] = set()
    for i, axis in enumerate(axes):
        name = dim_name(axis.get("name"), i, taken)
        size = int(axis["size"])
        scale = float(axis.get("scale", 1.0) if axis.get("scale") is not None else 1.0)
        offset = float(axis.get("offset", 0.0) if axis.get("offset") is not None else 0.0)
        attrs: dict[str, Any] = {"long_name": str(axis.get("name") or name)}
        units = axis.get("units")
        if isinstance(units, str) and units.strip() and units != "<undefined>":
            attrs["units"] = units.strip()
        attrs["scale"], attrs["offset"] = scale, offset + 0.0
        dims.append(name)
        coords[name] = xr.Variable((name,), offset + scale * np.arange(size), attrs)
    return dims, coords
